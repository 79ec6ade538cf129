"""The refresh reuse interval: a just-spent refresh token presented again within
JWT_REFRESH_REUSE_GRACE_SECONDS answers the same successor pair (RFC 9700 section 4.14.2 reuse
detection, relaxed as Django OAuth Toolkit and Auth0 allow for clients with two tabs); any other
spent token, or that one later, still revokes the family."""

import datetime as dt
import threading
from http import HTTPStatus

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import AuditEvent
from api import clock
from api.models import TokenFamily
from tests.api.conftest import bearer

REFRESH = "/api/auth/token/refresh/"
ME = "/api/me/"
GRACE = 5


@pytest.fixture(autouse=True)
def grace(settings) -> int:
    settings.JWT_REFRESH_REUSE_GRACE_SECONDS = GRACE
    return GRACE


def clock_moved(monkeypatch, seconds: float) -> None:
    """api.clock reads `seconds` later than the real time from now on."""
    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda: real_now() + dt.timedelta(seconds=seconds))


def assert_family_dead(api_client, *, accesses, refresh) -> None:
    family = TokenFamily.objects.get()
    assert family.revoked_reason == TokenFamily.RevokeReason.REUSED
    for access in accesses:
        me = api_client.get(ME, **bearer(access))
        assert me.status_code == HTTPStatus.UNAUTHORIZED
        assert me.json()["error"]["code"] == "token_revoked"
    again = api_client.post(REFRESH, {"refresh": refresh})
    assert again.status_code == HTTPStatus.UNAUTHORIZED
    assert again.json()["error"]["code"] == "token_revoked"


@pytest.mark.django_db
def test_the_same_spent_token_within_the_window_answers_the_same_pair(api_client, pair):
    """RFC 9700 section 4.14.2: two tabs refreshing at once keep their family."""
    first = api_client.post(REFRESH, {"refresh": pair.refresh})
    second = api_client.post(REFRESH, {"refresh": pair.refresh})

    assert first.status_code == second.status_code == HTTPStatus.OK
    assert second.json()["access"] == first.json()["access"]
    assert second.json()["refresh"] == first.json()["refresh"]
    assert second.json()["refresh_expires_at"] == first.json()["refresh_expires_at"]
    family = TokenFamily.objects.get()
    assert family.revoked_at is None
    assert family.previous_jti != family.current_jti
    # One rotation, one audit event; the replay records nothing.
    assert AuditEvent.objects.filter(action=AuditEvent.Action.TOKEN_REFRESHED).count() == 1
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.REFRESH_REUSE_DETECTED).exists()
    assert api_client.get(ME, **bearer(first.json()["access"])).status_code == HTTPStatus.OK
    # The successor refresh token is the family's current one, and rotates in turn.
    assert (
        api_client.post(REFRESH, {"refresh": first.json()["refresh"]}).status_code == HTTPStatus.OK
    )


@pytest.mark.django_db
def test_the_spent_token_after_the_window_is_reuse(api_client, pair, monkeypatch):
    rotated = api_client.post(REFRESH, {"refresh": pair.refresh}).json()
    clock_moved(monkeypatch, GRACE + 1)

    reuse = api_client.post(REFRESH, {"refresh": pair.refresh})

    assert reuse.status_code == HTTPStatus.UNAUTHORIZED
    assert reuse.json()["error"]["code"] == "refresh_token_reused"
    assert_family_dead(
        api_client, accesses=(pair.access, rotated["access"]), refresh=rotated["refresh"]
    )


@pytest.mark.django_db
def test_within_the_window_a_pair_gone_from_the_cache_is_reuse(api_client, pair):
    """The cache only supplies the pair: flushed, the spent token is reuse even within the window.
    (The other way round, past the window on api.clock while the cache, on real time, still holds
    the pair, is test_the_spent_token_after_the_window_is_reuse.)"""
    from django.core.cache import cache

    rotated = api_client.post(REFRESH, {"refresh": pair.refresh}).json()
    cache.clear()

    reuse = api_client.post(REFRESH, {"refresh": pair.refresh})

    assert reuse.json()["error"]["code"] == "refresh_token_reused"
    assert_family_dead(
        api_client, accesses=(pair.access, rotated["access"]), refresh=rotated["refresh"]
    )


@pytest.mark.django_db
def test_an_older_token_within_the_window_is_reuse(api_client, pair):
    middle = api_client.post(REFRESH, {"refresh": pair.refresh}).json()
    newest = api_client.post(REFRESH, {"refresh": middle["refresh"]}).json()

    # `pair.refresh` was spent two rotations ago, seconds ago: not the previous token.
    reuse = api_client.post(REFRESH, {"refresh": pair.refresh})

    assert reuse.status_code == HTTPStatus.UNAUTHORIZED
    assert reuse.json()["error"]["code"] == "refresh_token_reused"
    assert_family_dead(
        api_client,
        accesses=(pair.access, middle["access"], newest["access"]),
        refresh=newest["refresh"],
    )


@pytest.mark.django_db
def test_no_window_is_the_strict_rule(api_client, pair, settings):
    settings.JWT_REFRESH_REUSE_GRACE_SECONDS = 0
    rotated = api_client.post(REFRESH, {"refresh": pair.refresh}).json()

    reuse = api_client.post(REFRESH, {"refresh": pair.refresh})

    assert reuse.status_code == HTTPStatus.UNAUTHORIZED
    assert reuse.json()["error"]["code"] == "refresh_token_reused"
    assert_family_dead(
        api_client, accesses=(pair.access, rotated["access"]), refresh=rotated["refresh"]
    )


@pytest.mark.django_db(transaction=True)
def test_two_refreshes_at_once_get_the_same_pair(pair):
    """Two threads, two connections, one refresh token at the same moment: the second waits on
    the family row's lock, then answers the pair the first made. Needs row locks: SQLite has
    none (CI's PostgreSQL pass runs this)."""
    if not connection.features.has_select_for_update:
        pytest.skip("SQLite has no row locks; CI's PostgreSQL pass runs this test")
    start = threading.Barrier(2, timeout=10)
    responses = []

    def refresh() -> None:
        client = APIClient()
        start.wait()
        try:
            responses.append(client.post(REFRESH, {"refresh": pair.refresh}))
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert [response.status_code for response in responses] == [HTTPStatus.OK, HTTPStatus.OK]
    first, second = (response.json() for response in responses)
    assert (first["access"], first["refresh"]) == (second["access"], second["refresh"])
    family = TokenFamily.objects.get()
    assert family.revoked_at is None
    assert AuditEvent.objects.filter(action=AuditEvent.Action.TOKEN_REFRESHED).count() == 1
