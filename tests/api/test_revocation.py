"""Revocation marks and the account changes that set them (in one process; across processes see
test_revocation_processes.py)."""

import datetime as dt
from http import HTTPStatus

import pytest
from django.core.cache import cache, caches
from django.db import transaction

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
    claims = AccessToken(pair.access).payload
    user_id = str(pair.family.user_id)

    keys = [
        revocation.jti_key(user_id, claims["jti"]),
        revocation.family_key(user_id, pair.family.id.hex),
    ]
    assert cache.get_many(keys) == dict.fromkeys(keys, revocation.REVOKED)
    assert all(pair.access not in key and pair.refresh not in key for key in keys)


def test_a_persons_marks_share_one_hash_tag(pair):
    """Redis Cluster serves one MGET only of keys in one slot: a person's keys share `{<id>}`."""
    claims = AccessToken(pair.access).payload
    user_id = claims["sub"]
    keys = [
        revocation.jti_key(user_id, claims["jti"]),
        revocation.family_key(user_id, claims["fid"]),
        revocation.user_key(user_id),
    ]

    assert {key.split("{", 1)[1].split("}", 1)[0] for key in keys} == {user_id}


def claims_of(pair) -> dict:
    return AccessToken(pair.access).payload


def test_a_mark_written_in_a_transaction_rolled_back_never_reaches_the_cache(pair):
    claims = claims_of(pair)

    def mark_then_fail() -> None:
        with transaction.atomic():
            revocation.families_mark_revoked(
                families=[(claims["sub"], claims["fid"])], now=clock.now()
            )
            raise RuntimeError

    with pytest.raises(RuntimeError):
        mark_then_fail()

    assert cache.get(revocation.family_key(claims["sub"], claims["fid"])) is None
    assert revocation.access_token_check(claims=claims).rejection is None


def test_a_mark_reaches_the_cache_when_its_transaction_commits(pair):
    claims = claims_of(pair)
    key = revocation.family_key(claims["sub"], claims["fid"])

    with transaction.atomic():
        revocation.families_mark_revoked(families=[(claims["sub"], claims["fid"])], now=clock.now())
        in_the_transaction = cache.get(key)

    assert in_the_transaction is None
    assert cache.get(key) == revocation.REVOKED
    assert revocation.access_token_check(claims=claims).rejection == revocation.Rejection.REVOKED


def test_the_last_used_time_is_due_once_per_family_across_processes(pair):
    claims = claims_of(pair)

    first = revocation.access_token_check(claims=claims).record_use
    second = revocation.access_token_check(claims=claims).record_use
    # Another process, with no memory of its own, asks the shared cache and finds it taken.
    caches["local"].clear()
    elsewhere = revocation.access_token_check(claims=claims).record_use

    assert (first, second, elsewhere) == (True, False, False)
