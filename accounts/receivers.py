"""Signal receivers: sign-in events from Django and allauth go to the audit log."""

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.signals import user_logged_in
from django.contrib.auth.signals import user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.models import AuditEvent
from accounts.services import audit_event_record


def _client_ip(request) -> str | None:
    return get_account_adapter().get_client_ip(request) if request is not None else None


@receiver(user_logged_in)
def audit_sign_in(sender, request, user, **kwargs) -> None:
    sociallogin = kwargs.get("sociallogin")
    method = {"provider": sociallogin.account.provider} if sociallogin else {"method": "password"}
    audit_event_record(
        action=AuditEvent.Action.SIGN_IN,
        subject=user,
        actor=user,
        ip=_client_ip(request),
        detail=method,
    )


@receiver(user_logged_out)
def audit_sign_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit_event_record(
            action=AuditEvent.Action.SIGN_OUT, subject=user, actor=user, ip=_client_ip(request)
        )


@receiver(user_login_failed)
def audit_sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    # Django has already replaced the password in `credentials` with asterisks; keep none of it.
    attempted = credentials.get("email") or credentials.get("username") or ""
    audit_event_record(
        action=AuditEvent.Action.SIGN_IN_FAILED,
        subject=None,
        ip=_client_ip(request),
        detail={"login": attempted[:200]},
    )
