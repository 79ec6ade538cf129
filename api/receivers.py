"""Account changes that revoke every token of a person: a new password, deactivation, deletion.

allauth signals its own password flows; Django's password change and reset forms, admin and the
shell all end in `User.save()` after `set_password()`, which these receivers see too.
"""

from typing import Any

from allauth.account import signals as allauth_signals
from django.contrib.auth import get_user_model
from django.db.models.signals import post_save, pre_delete

from api import services
from api.models import TokenFamily


def connect() -> None:
    user_model = get_user_model()
    for signal in (
        allauth_signals.password_changed,
        allauth_signals.password_set,
        allauth_signals.password_reset,
    ):
        signal.connect(password_changed, dispatch_uid=f"api.revoke_on_{id(signal)}")
    post_save.connect(user_saved, sender=user_model, dispatch_uid="api.revoke_on_user_saved")
    pre_delete.connect(user_deleted, sender=user_model, dispatch_uid="api.revoke_on_user_deleted")


def password_changed(sender: Any, user: Any, **kwargs: Any) -> None:
    services.user_tokens_revoke_all(user=user, reason=TokenFamily.RevokeReason.PASSWORD_CHANGED)


def user_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if created:
        return
    # AbstractBaseUser keeps the new raw password in `_password` from set_password() until the
    # save that stores its hash has finished: the one sign of a password change on save.
    if getattr(instance, "_password", None) is not None:
        services.user_tokens_revoke_all(
            user=instance, reason=TokenFamily.RevokeReason.PASSWORD_CHANGED
        )
    elif not instance.is_active:
        services.user_tokens_revoke_all(user=instance, reason=TokenFamily.RevokeReason.DEACTIVATED)


def user_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    services.user_tokens_revoke_all(user=instance, audit=False)
