"""Token families (what a person sees as one API token) and the notes the API serves.

No token is stored, raw or hashed: a family row holds only the jti of the one refresh token that
may be exchanged next, which is what rotation and reuse detection need (RFC 9700 section 4.14.2).
"""

import datetime as dt
import uuid

from django.conf import settings
from django.db import models


class TokenFamilyQuerySet(models.QuerySet):
    def for_user(self, user_id: int) -> "TokenFamilyQuerySet":
        return self.filter(user_id=user_id)

    def live(self, *, now: dt.datetime) -> "TokenFamilyQuerySet":
        """Families whose tokens can still be used: not revoked, refresh token not expired."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now)


class TokenFamily(models.Model):
    """Every token issued from one sign-in (or one token made on the tokens page), across
    refresh rotations. Revoking the family revokes all of them."""

    class Origin(models.TextChoices):
        PASSWORD = "password", "Username or email and password"
        SESSION = "session", "Made from a signed-in session"
        DEVICE = "device", "Device authorization (RFC 8628), approved in the browser"
        APP = "app", "App sign-in through allauth headless"

    class RevokeReason(models.TextChoices):
        REVOKED = "revoked", "Revoked"
        REVOKED_ALL = "revoked_all", "Revoked with all the others"
        REUSED = "reused", "A spent refresh token was used again"
        PASSWORD_CHANGED = "password_changed", "The password changed"
        DEACTIVATED = "deactivated", "The account was deactivated"
        LIMIT = "limit", "Evicted: a newer sign-in took its place (too many live tokens)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="token_families"
    )
    name = models.CharField(max_length=100, blank=True)
    origin = models.CharField(max_length=20, choices=Origin.choices)
    # The OAuth client (api.clients) the family was issued to, empty for the password grant and
    # the tokens page; its tokens carry it as `client_id` (RFC 9068), and only it may refresh them.
    client_id = models.CharField(max_length=100, blank=True)
    # The RFC 7638 thumbprint of the key the family is bound to (DPoP, RFC 9449: api.dpop): its
    # tokens carry it as `cnf.jkt`, and only a proof signed by that key refreshes it. Empty: the
    # family's refresh tokens are bearer tokens.
    dpop_jkt = models.CharField(max_length=64, blank=True)
    # The jti of the only refresh token of this family that may be exchanged next; empty when the
    # family never had a refresh token (an access token made for the comparison page).
    current_jti = models.CharField(max_length=64, blank=True)
    # The jti of the refresh token spent at the last rotation (at `refreshed_at`): presented again
    # within JWT_REFRESH_REUSE_GRACE_SECONDS it may get the same successor pair, once
    # (api.services.token_pair_refresh).
    previous_jti = models.CharField(max_length=64, blank=True)
    # That successor pair, sealed with a key derived from the spent refresh token (api.sealing):
    # only whoever presents that token can open it, so the row alone reveals no token. Emptied
    # once answered, and at the next rotation.
    successor_sealed = models.BinaryField(null=True, blank=True, editable=False)
    # The current refresh token was handed out twice (once from the reuse window): spending it
    # gets no window.
    current_from_window = models.BooleanField(default=False)
    # When the reuse window last answered for this family (each answer is audited too).
    window_answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    refreshed_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=20, choices=RevokeReason.choices, blank=True)
    # The newer family whose sign-in evicted this one (revoked_reason LIMIT).
    evicted_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = TokenFamilyQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "token families"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name or self.get_origin_display()} ({self.user})"

    def state(self, *, now: dt.datetime) -> str:
        """active, expired, revoked or reused: what the tokens page shows."""
        if self.revoked_at is not None:
            return "reused" if self.revoked_reason == self.RevokeReason.REUSED else "revoked"
        return "active" if self.expires_at > now else "expired"


class RevocationMark(models.Model):
    """A revocation mark (api.revocation), kept here as well as in the cache: the database is the
    authority, and the cache is written back from here after Redis comes back empty."""

    class Kind(models.TextChoices):
        TOKEN = "jti", "One access token"
        FAMILY = "fid", "Every token of a family"
        USER = "user", "Every token of a user issued before a second"

    kind = models.CharField(max_length=4, choices=Kind.choices)
    subject = models.CharField(max_length=64, help_text="The jti, family id or user id.")
    # Whose token the mark refuses: the cache keeps a person's marks together (api.revocation).
    user_id = models.CharField(max_length=64, db_index=True)
    # A family mark's reason when its tokens answer a code of their own (token_evicted).
    evicted = models.BooleanField(default=False)
    # User marks: tokens issued before this second (Unix time) are refused.
    not_before = models.BigIntegerField(null=True, blank=True)
    # No token the mark can refuse lives past this; `manage.py tokens_prune` deletes it then.
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "subject"], name="one_mark_per_subject")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.subject}"


class NoteQuerySet(models.QuerySet):
    def for_owner(self, owner_id: int) -> "NoteQuerySet":
        return self.filter(owner_id=owner_id)


class Note(models.Model):
    """A short text that belongs to one person; nobody else can see or change it."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notes"
    )
    title = models.CharField(max_length=200)
    body = models.TextField(max_length=10_000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = NoteQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at", "-id"])]

    def __str__(self) -> str:
        return self.title
