"""The user model, custom from the first migration so it can grow without a data migration."""

from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """A person: signs in with a password, GitHub, Google or another OpenID Connect provider."""

    def __str__(self) -> str:
        return self.email or self.username
