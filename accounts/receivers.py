"""Signal receivers: sign-in events from Django and allauth go to the audit log; a second factor
added or removed signs the person's other sessions out (OWASP ASVS V7)."""

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.signals import user_logged_in
from allauth.mfa.signals import authenticator_added, authenticator_removed
from django.contrib.auth.signals import user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.models import AuditEvent
from accounts.services import audit_event_record, user_sessions_end_others


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


@receiver(authenticator_added)
@receiver(authenticator_removed)
def other_sessions_end(sender, request, user, **kwargs) -> None:
    keep = request.session.session_key if request is not None else None
    user_sessions_end_others(user=user, keep_session_key=keep)
