"""Signal receivers: sign-in events from Django and allauth go to the audit log; a saved or
deleted user makes every process's copy of its row stale (accounts.backends)."""

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.signals import user_logged_in
from django.contrib.auth.signals import user_logged_out, user_login_failed
from django.core.signals import request_started
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.backends import user_copies_invalidate, user_copies_settle
from accounts.models import AuditEvent, User
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


@receiver(post_save, sender=User)
@receiver(post_delete, sender=User)
def user_copies_stale(sender, instance, **kwargs) -> None:
    user_copies_invalidate(pk=instance.pk)


@receiver(request_started)
def user_copies_request_started(sender, **kwargs) -> None:
    user_copies_settle()
