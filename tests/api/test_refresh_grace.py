"""The refresh reuse interval: a just-spent refresh token presented again within
JWT_REFRESH_REUSE_GRACE_SECONDS answers the same successor pair, once (RFC 9700 section 4.14.2
reuse detection, relaxed as Django OAuth Toolkit and Auth0 allow for clients with two tabs); any
other spent token, that one later or a second time, a token handed out from the window when it
is spent again, or the old token once its successor was refreshed, still revokes the family."""

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
def test_the_window_answers_a_spent_token_at_most_once(api_client, pair):
    """A thief replaying the spent token after the client's own retry gets nothing: reuse."""
    rotated = api_client.post(REFRESH, {"refresh": pair.refresh}).json()
    retry = api_client.post(REFRESH, {"refresh": pair.refresh})

    again = api_client.post(REFRESH, {"refresh": pair.refresh})

    assert retry.status_code == HTTPStatus.OK
    assert again.json()["error"]["code"] == "refresh_token_reused"
    assert_family_dead(
        api_client, accesses=(pair.access, rotated["access"]), refresh=rotated["refresh"]
    )


@pytest.mark.django_db
def test_a_token_handed_out_from_the_window_gets_no_window(api_client, pair):
    """The review's scenario: P0's replay got P1, so two parties hold P1. Whoever spends P1
    second is reuse, even a second later."""
    first = api_client.post(REFRESH, {"refresh": pair.refresh}).json()
    replayed = api_client.post(REFRESH, {"refresh": pair.refresh}).json()
    assert replayed["refresh"] == first["refresh"]
    onward = api_client.post(REFRESH, {"refresh": first["refresh"]}).json()

    second_spend = api_client.post(REFRESH, {"refresh": first["refresh"]})

    assert second_spend.json()["error"]["code"] == "refresh_token_reused"
    assert_family_dead(
        api_client, accesses=(first["access"], onward["access"]), refresh=onward["refresh"]
    )


@pytest.mark.django_db
def test_the_successor_is_sealed_to_the_spent_token(pair):
    """The row holds the pair only sealed: no token text in the database, and no other token
    opens it."""
    from api import sealing
    from api.services import token_pair_refresh

    rotated = token_pair_refresh(refresh=pair.refresh)
    family = TokenFamily.objects.get()
    sealed = bytes(family.successor_sealed)

    assert rotated.refresh.encode() not in sealed
    assert rotated.access.encode() not in sealed
    opened = sealing.unseal(sealed, token=pair.refresh, context=family.id.hex)
    assert opened["refresh"] == rotated.refresh
    assert sealing.unseal(sealed, token=rotated.refresh, context=family.id.hex) is None


@pytest.mark.django_db
def test_every_answer_from_the_window_is_audited(api_client, pair):
    api_client.post(REFRESH, {"refresh": pair.refresh})
    api_client.post(REFRESH, {"refresh": pair.refresh})

    events = AuditEvent.objects.filter(action=AuditEvent.Action.REFRESH_WINDOW_ANSWERED)
    assert [event.detail["family"] for event in events] == [pair.family.id.hex]
    assert TokenFamily.objects.get().window_answered_at is not None


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
