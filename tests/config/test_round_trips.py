"""Redis round trips per request, as Redis counts them (INFO commandstats), with the production
cache aliases on a Redis of the test's own:

- a bearer request reads its three revocation marks in one MGET, and nothing else;
- a session request reads its session, then the person's user state: two GETs;
- a request without credentials makes none;
- the once-a-minute "last used" and "last seen" writes are the one exception, counted here too;
- a request that fails after writing to the database leaves no trace in Redis.
"""

from collections import Counter
from http import HTTPStatus

import pytest
import redis
from rest_framework.test import APIClient

from accounts.models import AuditEvent
from api import revocation
from api.models import RevocationMark, TokenFamily
from api.services import token_pair_issue
from tests.api.conftest import bearer
from tests.servers import RedisCommands

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


ME = "/api/me/"
PROBE = "/compare/probe/"


def test_a_bearer_request_reads_its_marks_in_one_mget(redis_caches, api_client, user):
    pair = token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD)
    with RedisCommands(redis_caches) as first_use:
        first = api_client.get(ME, **bearer(pair.access))

    with RedisCommands(redis_caches) as commands:
        responses = [api_client.get(path, **bearer(pair.access)) for path in (ME, PROBE)]

    assert first.status_code == HTTPStatus.OK
    assert [response.status_code for response in responses] == [HTTPStatus.OK] * 2
    assert commands.run == Counter(mget=2)
    # Its family's first use in a minute: one SET NX settles which process writes the time.
    assert first_use.run == Counter(mget=1, set=1)


def test_a_session_request_reads_its_session_and_the_user_state(redis_caches, client, user):
    client.force_login(user)
    with RedisCommands(redis_caches) as first_use:
        first = client.get(ME)

    with RedisCommands(redis_caches) as commands:
        response = client.get(ME)

    assert (first.status_code, response.status_code) == (HTTPStatus.OK, HTTPStatus.OK)
    assert response.json()["authenticated_by"] == "session"
    assert commands.run == Counter(get=2)
    # The first: no state yet, so it is published (a SET), and "last seen" settled (SET NX).
    assert first_use.run == Counter(get=2, set=2)


def test_a_request_without_credentials_makes_no_round_trip(redis_caches, client):
    with RedisCommands(redis_caches) as commands:
        responses = [client.get(PROBE), client.get(PROBE)]

    assert [response.status_code for response in responses] == [HTTPStatus.OK] * 2
    assert responses[0].json()["authenticated_by"] == "none"
    assert commands.run == Counter()


def test_a_request_that_fails_after_its_writes_leaves_no_trace_in_redis(
    redis_caches, api_client, user, settings, monkeypatch
):
    """A grant that mints a family, and evicts the person's oldest one past the limit, then
    fails before answering: its transaction rolls back, and Redis holds none of its marks."""
    settings.API_MAX_LIVE_TOKEN_FAMILIES = 1
    older = token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD)
    server = redis.Redis.from_url(redis_caches)
    keys_before = set(server.keys())

    def fail(**kwargs):
        if kwargs["action"] == AuditEvent.Action.TOKEN_ISSUED:
            raise RuntimeError("after the family was minted")

    monkeypatch.setattr("api.services.audit_event_record", fail)
    api_client.raise_request_exception = False
    response = api_client.post(
        "/api/auth/token/", {"username": user.username, "password": "correct horse battery staple"}
    )

    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert TokenFamily.objects.count() == 1
    assert not RevocationMark.objects.exists()
    # Rate limits count every attempt, failed or not; nothing else may be new.
    new_keys = {key for key in set(server.keys()) - keys_before if b":throttle_" not in key}
    assert new_keys == set(), "the failed request wrote to Redis"
    monkeypatch.undo()
    assert api_client.get(ME, **bearer(older.access)).status_code == HTTPStatus.OK
    assert (
        revocation.access_token_rejection(
            claims={"jti": "x", "fid": older.family.id.hex, "sub": str(user.pk), "iat": 0}
        )
        is None
    )
