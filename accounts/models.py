"""The user model, custom from the first migration so it can grow without a data migration."""

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person: signs in with a password, GitHub, Google or another OpenID Connect provider."""

    def __str__(self) -> str:
        return self.email or self.username


class OAuthFlowRecord(models.Model):
    """The seven recorded steps of one completed third-party sign-in, secrets masked."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="oauth_flows")
    provider_id = models.CharField(max_length=100)
    provider_name = models.CharField(max_length=200)
    process = models.CharField(max_length=20)
    started_at = models.DateTimeField()
    completed_at = models.DateTimeField()
    steps = models.JSONField()

    class Meta:
        ordering = ["-completed_at"]
        indexes = [models.Index(fields=["user", "-completed_at"])]

    def __str__(self) -> str:
        return (
            f"{self.provider_name} {self.process} for {self.user} at {self.completed_at:%Y-%m-%d}"
        )

    @property
    def duration_ms(self) -> float:
        return (self.completed_at - self.started_at).total_seconds() * 1000
