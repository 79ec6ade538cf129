"""The API's part in account events: a person whose credentials changed loses every token."""

from typing import Any

from accounts.services import CredentialsChange
from accounts.signals import credentials_changed
from api import services
from api.models import TokenFamily

REVOKE_REASONS = {
    CredentialsChange.PASSWORD_CHANGED: TokenFamily.RevokeReason.PASSWORD_CHANGED,
    CredentialsChange.DEACTIVATED: TokenFamily.RevokeReason.DEACTIVATED,
    CredentialsChange.DELETED: TokenFamily.RevokeReason.DEACTIVATED,
}


def connect() -> None:
    credentials_changed.connect(tokens_revoke_on_credentials_change, dispatch_uid="api.tokens")


def tokens_revoke_on_credentials_change(
    sender: Any, *, user: Any, reason: CredentialsChange, actor: Any, **kwargs: Any
) -> None:
    # A deleted user's events could not point at them; the deletion is its own record.
    services.user_tokens_revoke_all(
        user=user,
        reason=REVOKE_REASONS[reason],
        actor=actor,
        audit=reason != CredentialsChange.DELETED,
    )
