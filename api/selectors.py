"""Reads of the bearer-token API: token families, notes, and a token's verdict."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.backends import user_current
from api import revocation
from api.models import Note, TokenFamily
from api.token_errors import RejectedTokenError, Rejection
from api.tokens import AnyToken, token_unwrap

TOKENS_PAGE_LIMIT = 50


@dataclass(frozen=True)
class TokenVerdict:
    """Whether a token would be accepted now, and if not, why."""

    valid: bool
    rejection: Rejection | None = None
    token_type: str | None = None
    expires_at: dt.datetime | None = None
    # The verified claims of a valid token (what introspection answers).
    claims: dict[str, Any] | None = None


def token_verdict(*, token: str) -> TokenVerdict:
    """Verify either kind of token as its endpoint would, without using or spending it."""
    try:
        signed, _ = token_unwrap(token)
        verified = AnyToken(signed)
        if verified.kind == "access":
            # Looked at, not used: its family's "last used" time stays as it is.
            rejection = revocation.access_token_rejection(claims=verified.payload)
            if rejection is not None:
                raise RejectedTokenError(rejection)
        else:
            family = TokenFamily.objects.filter(pk=verified.family_id).first()
            if family is None or family.revoked_at is not None:
                raise RejectedTokenError(revocation.family_rejection(family))
            if family.current_jti != verified.jti:
                raise RejectedTokenError(Rejection.REFRESH_SPENT)
    except RejectedTokenError as error:
        return TokenVerdict(valid=False, rejection=error.rejection)
    return TokenVerdict(
        valid=True,
        token_type=verified.kind,
        expires_at=datetime_from_epoch(verified["exp"]),
        claims=verified.payload,
    )


def token_families_for_page(*, user_id: int) -> list[TokenFamily]:
    """The person's newest token families, for the tokens page."""
    return list(
        TokenFamily.objects.for_user(user_id).select_related("evicted_by")[:TOKENS_PAGE_LIMIT]
    )


def token_family_get(*, user_id: int, family_id: Any) -> TokenFamily:
    """The person's own family `family_id`; Http404 for a missing one and another person's."""
    family = TokenFamily.objects.for_user(user_id).filter(pk=family_id).first()
    if family is None:
        raise Http404
    return family


def notes_for_owner(*, owner_id: int) -> QuerySet[Note]:
    return Note.objects.for_owner(owner_id)


def note_get(*, owner_id: int, note_id: int) -> Note:
    """The owner's note `note_id`; Http404 alike for a missing note and another person's."""
    note = Note.objects.for_owner(owner_id).filter(pk=note_id).first()
    if note is None:
        raise Http404
    return note


def user_get(*, user_id: Any) -> Any:
    """The active user `user_id` as last committed (accounts.backends), or None."""
    user = user_current(pk=user_id)
    return user if user is not None and user.is_active else None
