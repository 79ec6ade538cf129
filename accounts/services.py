"""Writes about people: the functions pages, the API, admin and commands share."""

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from allauth.account.models import EmailAddress
from django.contrib.sites.models import Site
from django.db import transaction

from accounts.models import OAuthFlowRecord, User

if TYPE_CHECKING:
    from accounts.flow_recording import FlowInProgress

# Enough history to compare a few sign-ins; older records are dropped.
OAUTH_FLOWS_KEPT_PER_USER = 10

DEMO_ADMIN_USERNAME = "admin"
DEMO_ADMIN_EMAIL = "admin@example.com"


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
    EmailAddress.objects.update_or_create(
        user=user,
        email=user.email,
        defaults={"verified": True, "primary": True},
    )
    return DemoAdmin(user=user, created=created, new_password=new_password)


def site_domain_set(*, domain: str, name: str) -> Site:
    """Point the current Site (allauth builds absolute links from it) at `domain`."""
    site, _ = Site.objects.update_or_create(pk=1, defaults={"domain": domain, "name": name})
    return site


@transaction.atomic
def oauth_flow_record_save(
    *, user: User, flow: "FlowInProgress", completed_at: dt.datetime
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
