"""Account events other apps act on. Only accounts.services sends them, after the change."""

from django.dispatch import Signal

# A person's credentials stopped being valid: a new password, deactivation or deletion. Sent with
# `user`, `reason` (a CredentialsChange) and `actor` (who made the change, or None). The API
# revokes every token of theirs on it (api.apps).
credentials_changed = Signal()
