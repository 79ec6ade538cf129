"""People and sign-in: the user model, allauth's configuration, the account pages."""
