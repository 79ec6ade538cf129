"""Bearer and session authentication: strict header parsing, a stateless hot path, and which one
authenticated the request."""

from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIRequestFactory

from accounts.services import user_delete
from api import clock
from api.authentication import BearerTokenAuthentication, BearerUser, bearer_token
from api.models import TokenFamily
from api.token_errors import RejectedTokenError
from tests.api.conftest import bearer

pytestmark = pytest.mark.django_db


def authenticate(header: str):
    request = APIRequestFactory().get("/api/me/", HTTP_AUTHORIZATION=header)
    return BearerTokenAuthentication().authenticate(request)


@pytest.mark.parametrize(
    "header", ["Bearer abc.def.ghi", "Bearer  abc.def.ghi", "bearer abc.def.ghi", "BEARER a-b_c"]
)
def test_the_bearer_scheme_is_case_insensitive_and_takes_one_or_more_spaces(header):
    """RFC 6750 section 2.1 (`"Bearer" 1*SP b64token`) and RFC 9110 section 11.1 (auth schemes
    are case-insensitive)."""
    assert bearer_token(header.encode()) == header.encode().split()[-1]


@pytest.mark.parametrize(
    "header",
    ["", "abc.def.ghi", "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer a b", " Bearer abc"],
)
def test_anything_else_in_the_header_is_malformed(header):
    with pytest.raises(RejectedTokenError) as raised:
        bearer_token(header.encode())

    assert raised.value.rejection == "authorization_header_malformed"


def test_a_lowercase_scheme_with_a_valid_token_authenticates(api_client, pair):
    response = api_client.get("/api/me/", HTTP_AUTHORIZATION=f"bearer {pair.access}")

    assert response.status_code == HTTPStatus.OK


def test_the_bearer_check_makes_no_database_query(pair, django_assert_num_queries):
    """The hot path: key in memory, user from the claims, revocation from one cache get_many."""
    authenticate(f"Bearer {pair.access}")  # the family's first use is written once

    with django_assert_num_queries(0):
        user, token = authenticate(f"Bearer {pair.access}")

    assert isinstance(user, BearerUser)
    assert user.pk == pair.family.user.pk
    assert token.family_id == pair.family.id.hex


def test_last_used_is_written_at_most_once_a_minute_per_family(pair, monkeypatch):
    with CaptureQueriesContext(connection) as first:
        authenticate(f"Bearer {pair.access}")
    first_used = TokenFamily.objects.get().last_used_at
    with CaptureQueriesContext(connection) as second:
        authenticate(f"Bearer {pair.access}")

    assert len(first) == 1
    assert first_used is not None
    assert len(second) == 0
    assert TokenFamily.objects.get().last_used_at == first_used


def test_the_token_user_knows_its_id_without_the_database(pair):
    user, _ = authenticate(f"Bearer {pair.access}")

    assert user.id == pair.family.user.pk
    assert user.is_authenticated


def test_me_says_how_the_caller_authenticated(api_client, client, user, pair):
    by_bearer = api_client.get("/api/me/", **bearer(pair.access)).json()
    client.force_login(user)
    by_session = client.get("/api/me/").json()

    assert by_bearer["authenticated_by"] == "bearer"
    assert by_bearer["token"]["family_id"] == pair.family.id.hex
    assert by_bearer["token"]["encrypted"] is False
    assert by_session["authenticated_by"] == "session"
    assert by_session["token"] is None
    assert by_bearer["id"] == by_session["id"] == user.pk
    assert by_bearer["email"] == by_session["email"] == user.email


def test_session_writes_need_the_csrf_token(user):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    read = browser.get("/api/notes/")
    write = browser.post("/api/notes/", {"title": "x"}, content_type="application/json")

    assert read.status_code == HTTPStatus.OK
    assert write.status_code == HTTPStatus.FORBIDDEN
    assert write.json()["error"]["code"] == "csrf_failed"


def test_a_bearer_token_needs_no_csrf_token(api_client, pair):
    response = api_client.post("/api/notes/", {"title": "from a script"}, **bearer(pair.access))

    assert response.status_code == HTTPStatus.CREATED


def test_a_deleted_users_token_is_refused(api_client, user, pair):
    user_delete(user=user, actor=None)

    response = api_client.get("/api/me/", **bearer(pair.access))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"]["code"] == "token_revoked"


def test_clock_is_timezone_aware():
    assert clock.now().utcoffset() is not None
