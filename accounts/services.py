"""Writes about people: the functions pages, the API, admin and commands share."""

import datetime as dt
import secrets
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.usersessions.adapter import get_adapter as get_usersessions_adapter
from allauth.usersessions.models import UserSession
from django.contrib.sites.models import Site
from django.db import models, transaction

from accounts.backends import user_state_changed
from accounts.flow_steps import FlowInProgress
from accounts.models import AuditEvent, OAuthFlowRecord, User
from accounts.signals import credentials_changed

# Enough history to compare a few sign-ins; older records are dropped.
OAUTH_FLOWS_KEPT_PER_USER = 10

DEMO_ADMIN_USERNAME = "admin"
DEMO_ADMIN_EMAIL = "admin@example.com"
DEMO_API_USERNAME = "api-demo"
DEMO_API_EMAIL = "api-demo@example.com"


class CredentialsChange(models.TextChoices):
    """Why a person's credentials stopped being valid (accounts.signals.credentials_changed)."""

    PASSWORD_CHANGED = "password_changed", "The password changed"
    DEACTIVATED = "deactivated", "The account was deactivated"
    DELETED = "deleted", "The account was deleted"


@dataclass(frozen=True)
class DemoAdmin:
    """The demo administrator and, only when it was just set, the password in clear."""

    user: User
    created: bool
    new_password: str | None


@transaction.atomic
def demo_admin_ensure(*, password: str | None = None) -> DemoAdmin:
    """Make sure the demo superuser exists, with a verified email so allauth's sign-in accepts it.

    With `password` (from DJANGO_SUPERUSER_PASSWORD) the account uses it; without, a new account
    gets a random one, reported once through `new_password` and never stored in clear.
    """
    user = User.objects.filter(username=DEMO_ADMIN_USERNAME).first()
    created = user is None
    if user is None:
        user = User(
            username=DEMO_ADMIN_USERNAME,
            email=DEMO_ADMIN_EMAIL,
            is_staff=True,
            is_superuser=True,
        )
    new_password = None
    if created or (password and not user.check_password(password)):
        new_password = password or secrets.token_urlsafe(12)
        user.set_password(new_password)
    user.save()
    if new_password and not created:
        _credentials_changed(user=user, reason=CredentialsChange.PASSWORD_CHANGED, actor=None)
    EmailAddress.objects.update_or_create(
        user=user,
        email=user.email,
        defaults={"verified": True, "primary": True},
    )
    return DemoAdmin(user=user, created=created, new_password=new_password)


@transaction.atomic
def demo_api_user_ensure(*, password: str) -> User:
    """Make sure the demo API user exists with `password`: a verified email, no staff rights and no
    second factor, so the password grant of /api/auth/token/ answers it with tokens (the demo admin
    must add a second factor, and then gets `second_factor_required`). An existing one gets the new
    password the way any password change goes, its older tokens revoked."""
    user = User.objects.filter(username=DEMO_API_USERNAME).first()
    if user is None:
        user = User(username=DEMO_API_USERNAME, email=DEMO_API_EMAIL)
        user.set_password(password)
        user.save()
    else:
        user_password_set(user=user, password=password)
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    return user


def site_domain_set(*, domain: str, name: str) -> Site:
    """Point the current Site (allauth builds absolute links from it) at `domain`."""
    site, _ = Site.objects.update_or_create(pk=1, defaults={"domain": domain, "name": name})
    return site


@transaction.atomic
def oauth_flow_record_save(
    *, user: User, flow: FlowInProgress, completed_at: dt.datetime
) -> OAuthFlowRecord:
    """Keep a completed flow's masked steps for its person, and only their newest few."""
    record = OAuthFlowRecord.objects.create(
        user=user,
        provider_id=flow.provider_id,
        provider_name=flow.provider_name,
        process=flow.process,
        started_at=dt.datetime.fromtimestamp(flow.started_at, tz=dt.UTC),
        completed_at=completed_at,
        steps=flow.steps,
    )
    stale = OAuthFlowRecord.objects.filter(user=user).values_list("pk", flat=True)[
        OAUTH_FLOWS_KEPT_PER_USER:
    ]
    OAuthFlowRecord.objects.filter(pk__in=list(stale)).delete()
    return record


def audit_event_record(
    *,
    action: AuditEvent.Action,
    subject: User | None,
    actor: User | None = None,
    ip: str | None = None,
    detail: dict | None = None,
) -> AuditEvent:
    """Append one event to the audit log. `detail` must hold no secret: it is shown to admins.

    `subject` and `actor` may be any user object with a `pk`, such as the API's user built from
    a token's claims: the event keeps only their ids.
    """
    return AuditEvent.objects.create(
        action=action,
        subject_id=subject.pk if subject is not None else None,
        actor_id=actor.pk if actor is not None else None,
        ip=ip,
        detail=detail or {},
    )


@transaction.atomic
def user_sessions_end_all(*, user: User, actor: User | None) -> int:
    """Sign the person out of every session at once; returns how many were open."""
    sessions = list(UserSession.objects.filter(user=user))
    get_usersessions_adapter().end_sessions(sessions)
    audit_event_record(
        action=AuditEvent.Action.SESSIONS_ENDED,
        subject=user,
        actor=actor,
        detail={"sessions": len(sessions)},
    )
    return len(sessions)


@transaction.atomic
def user_sessions_end_others(*, user: User, keep_session_key: str | None) -> int:
    """Sign the person out of every session but the one `keep_session_key` names: after a change
    to how they sign in (a second factor added or removed), the others must sign in anew."""
    sessions = list(UserSession.objects.filter(user=user).exclude(session_key=keep_session_key))
    get_usersessions_adapter().end_sessions(sessions)
    if sessions:
        audit_event_record(
            action=AuditEvent.Action.SESSIONS_ENDED,
            subject=user,
            actor=user,
            detail={"sessions": len(sessions), "reason": "second factor changed"},
        )
    return len(sessions)


def _credentials_changed(*, user: User, reason: CredentialsChange, actor: User | None) -> None:
    """What every credential change does, in its transaction: the user's shared state is
    published once it commits, and the apps that hold credentials of theirs (the API's tokens)
    are told."""
    user_state_changed(pk=user.pk)
    credentials_changed.send(sender=User, user=user, reason=reason, actor=actor)


@transaction.atomic
def user_password_set(*, user: User, password: str, actor: User | None = None) -> None:
    """A new password (changed, set or reset, from the site or admin): every other credential of
    the person (API tokens; sessions, by their auth hash) stops working."""
    user.set_password(password)
    user.save(update_fields=["password"])
    _credentials_changed(user=user, reason=CredentialsChange.PASSWORD_CHANGED, actor=actor)


@transaction.atomic
def user_update(*, user: User, fields: list[str]) -> None:
    """Save what admin changed on `user` (its fields already set); its shared state follows once it
    commits."""
    user.save(update_fields=fields or None)
    user_state_changed(pk=user.pk)


@transaction.atomic
def user_deactivate(*, user: User, actor: User | None) -> None:
    """Stop the person signing in at all: inactive, every session ended, every token revoked."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    user_sessions_end_all(user=user, actor=actor)
    _credentials_changed(user=user, reason=CredentialsChange.DEACTIVATED, actor=actor)
    audit_event_record(action=AuditEvent.Action.USER_DEACTIVATED, subject=user, actor=actor)


@transaction.atomic
def user_delete(*, user: User, actor: User | None) -> None:
    """Delete the person and everything of theirs; their tokens stop working at once."""
    _credentials_changed(user=user, reason=CredentialsChange.DELETED, actor=actor)
    user.delete()
