"""The user model, custom from the first migration so it can grow without a data migration."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone


class User(AbstractUser):
    """A person: signs in with a password, GitHub, Google or another OpenID Connect provider."""

    # Set on a user built from its shared state (accounts.backends), which holds no password.
    shared_session_auth_hash: str | None = None

    def __str__(self) -> str:
        return self.email or self.username

    def get_session_auth_hash(self) -> str:
        """Django's HMAC of the password hash, which sessions carry. A user built from its shared
        state has no password loaded and carries the HMAC instead; once a password is set on it,
        the HMAC is of that password."""
        if self.shared_session_auth_hash is not None and "password" in self.get_deferred_fields():
            return self.shared_session_auth_hash
        return super().get_session_auth_hash()


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


class AuditEvent(models.Model):
    """Who did what to whom, and when: sign-ins, admin actions, token events. Append-only."""

    class Action(models.TextChoices):
        SIGN_IN = "sign_in", "Signed in"
        SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
        SIGN_OUT = "sign_out", "Signed out"
        SESSIONS_ENDED = "sessions_ended", "Every session signed out"
        TOKENS_REVOKED = "tokens_revoked", "Every token revoked"
        USER_DEACTIVATED = "user_deactivated", "User deactivated"
        TOKEN_ISSUED = "token_issued", "Token issued"
        TOKEN_REFRESHED = "token_refreshed", "Token refreshed"
        TOKEN_REVOKED = "token_revoked", "Token revoked"
        REFRESH_REUSE_DETECTED = "refresh_reuse_detected", "Refresh token reuse detected"
        REFRESH_WINDOW_ANSWERED = (
            "refresh_window_answered",
            "A spent refresh token answered from the reuse window",
        )

    at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=40, choices=Action.choices)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["subject", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action}"
