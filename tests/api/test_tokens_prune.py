"""`manage.py tokens_prune`: expired families and spent revocation marks go, nothing else."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from api import clock, revocation
from api.models import RevocationMark, TokenFamily
from api.services import token_pair_issue

pytestmark = pytest.mark.django_db


def test_it_deletes_long_expired_families_and_spent_marks_only(user, settings):
    settings.API_EXPIRED_FAMILIES_KEPT_DAYS = 7
    now = clock.now()
    live = token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD).family
    recent, _ = (
        TokenFamily.objects.create(
            user=user, origin="password", created_at=now - age, expires_at=now - age
        )
        for age in (dt.timedelta(days=1), dt.timedelta(days=8))
    )
    revocation.families_mark_revoked(families=[(str(user.pk), live.id.hex)], now=now)
    RevocationMark.objects.create(
        kind="jti", subject="spent", user_id=str(user.pk), expires_at=now - dt.timedelta(1)
    )
    out = StringIO()

    call_command("tokens_prune", stdout=out)

    assert set(TokenFamily.objects.values_list("pk", flat=True)) == {live.pk, recent.pk}
    assert list(RevocationMark.objects.values_list("subject", flat=True)) == [live.id.hex]
    assert out.getvalue().strip() == ("Deleted 1 expired token family and 1 spent revocation mark.")
