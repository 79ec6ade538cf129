"""Revocation marks and the account changes that set them (in one process; across processes see
test_revocation_processes.py)."""

import datetime as dt
from http import HTTPStatus

import pytest
from django.core.cache import caches

from accounts.adapters import AccountAdapter
from accounts.models import AuditEvent
from accounts.services import user_deactivate, user_delete, user_password_set
from api import clock, revocation
from api.models import TokenFamily
from api.services import token_pair_issue, user_tokens_revoke_all
from api.tokens import AccessToken
from tests.api.conftest import bearer

pytestmark = pytest.mark.django_db


def me(api_client, access):
    return api_client.get("/api/me/", **bearer(access))


def test_allauths_password_flows_revoke_every_token(api_client, user, pair):
    """OWASP ASVS V7: a password change ends every session, bearer tokens included. allauth's
    change, set and reset flows all set the password through the account adapter."""
    AccountAdapter().set_password(user, "a different passphrase")

    assert me(api_client, pair.access).json()["error"]["code"] == "token_revoked"
    assert TokenFamily.objects.get().revoked_reason == TokenFamily.RevokeReason.PASSWORD_CHANGED


def test_a_password_change_is_audited_once(user, pair):
    user_password_set(user=user, password="a different passphrase")

    events = AuditEvent.objects.filter(action=AuditEvent.Action.TOKENS_REVOKED)
    assert [event.detail["reason"] for event in events] == ["password_changed"]


def test_saving_a_user_without_a_password_change_revokes_nothing(api_client, user, pair):
    user.first_name = "Ada"
    user.save()

    assert me(api_client, pair.access).status_code == HTTPStatus.OK


def test_deactivating_a_user_revokes_every_token(api_client, user, pair):
    user_deactivate(user=user, actor=None)

    assert me(api_client, pair.access).status_code == HTTPStatus.UNAUTHORIZED
    assert TokenFamily.objects.get().revoked_reason == TokenFamily.RevokeReason.DEACTIVATED


def test_deleting_a_user_refuses_their_access_tokens(api_client, user, pair):
    user_delete(user=user, actor=None)

    assert me(api_client, pair.access).status_code == HTTPStatus.UNAUTHORIZED


def test_revoke_all_counts_live_families_only(user, pair):
    TokenFamily.objects.create(
        user=user,
        origin="password",
        created_at=clock.now(),
        expires_at=clock.now() - dt.timedelta(1),
    )

    assert user_tokens_revoke_all(user=user) == 1


def test_the_user_mark_refuses_tokens_of_earlier_seconds_only(user):
    now = clock.now()
    revocation.user_mark_not_before(user_id=str(user.pk), now=now)
    claims = {"jti": "j", "fid": "f", "sub": str(user.pk)}

    earlier = revocation.access_token_check(claims={**claims, "iat": int(now.timestamp()) - 1})
    same_second = revocation.access_token_check(claims={**claims, "iat": int(now.timestamp())})

    assert earlier.rejection == "token_revoked"
    assert same_second.rejection is None


def test_revoke_all_also_refuses_tokens_of_the_same_second(api_client, user, monkeypatch):
    """`iat` counts whole seconds: the family marks cover what the user mark cannot."""
    frozen = clock.now().replace(microsecond=500_000)
    monkeypatch.setattr(clock, "now", lambda: frozen)
    pair = token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD)

    user_tokens_revoke_all(user=user)

    assert me(api_client, pair.access).status_code == HTTPStatus.UNAUTHORIZED


def test_marks_are_keyed_on_ids_never_on_token_text(api_client, pair):
    api_client.post("/api/auth/token/revoke/", {"token": pair.refresh})
    api_client.post("/api/auth/token/revoke/", {"token": pair.access})

    keys = [
        revocation.jti_key(pair.family.current_jti),
        revocation.family_key(pair.family.id.hex),
    ]
    assert revocation.marks().get(keys[1]) is True
    assert all(pair.access not in key and pair.refresh not in key for key in keys)


# The check's memory: with the marks in a NearCache (as in production), a token found not revoked
# is read from Redis again only after a mark is written; the last-used time is due once a minute
# per family.


def claims_of(pair) -> dict:
    return AccessToken(pair.access).payload


@pytest.fixture
def redis_reads(monkeypatch) -> list[int]:
    """One entry per round trip the revocation cache makes to Redis."""
    near_marks = revocation.marks()
    reads = []
    pipeline = near_marks._redis.pipeline
    monkeypatch.setattr(
        near_marks._redis, "pipeline", lambda **kwargs: reads.append(1) or pipeline(**kwargs)
    )
    return reads


def test_a_token_found_not_revoked_is_read_again_only_after_a_mark_is_written(
    near_caches, pair, redis_reads
):
    claims = claims_of(pair)

    first = revocation.access_token_check(claims=claims).rejection
    again = [revocation.access_token_check(claims=claims).rejection for _ in range(3)]
    reads_before_the_mark = len(redis_reads)
    revocation.families_mark_revoked(family_ids=[claims["fid"]], now=clock.now())
    after_its_own_mark = revocation.access_token_check(claims=claims).rejection

    assert (first, again) == (None, [None, None, None])
    assert reads_before_the_mark == 1
    assert after_its_own_mark == revocation.Rejection.REVOKED


def test_a_revoked_token_is_never_remembered_as_not_revoked(near_caches, pair):
    claims = claims_of(pair)
    revocation.families_mark_revoked(family_ids=[claims["fid"]], now=clock.now())

    checks = [revocation.access_token_check(claims=claims).rejection for _ in range(3)]

    assert checks == [revocation.Rejection.REVOKED] * 3


def test_the_last_used_time_is_due_once_per_family_across_processes(pair):
    claims = claims_of(pair)

    first = revocation.access_token_check(claims=claims).record_use
    second = revocation.access_token_check(claims=claims).record_use
    # Another process, with no memory of its own, asks the shared cache and finds it taken.
    caches["local"].clear()
    elsewhere = revocation.access_token_check(claims=claims).record_use

    assert (first, second, elsewhere) == (True, False, False)
