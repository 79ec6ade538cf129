"""compare.api_request: a real request to the API through Django's full handler, in process.

Each answer is checked against the same request sent by the test client (tests only: compare/
itself never imports django.test).
"""

from http import HTTPStatus

import pytest
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

from api import services
from api.models import Note, TokenFamily
from compare.api_request import api_request, wsgi_handler
from compare.measurements import session_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def visitor(rf):
    """The page's request, as a browser behind no proxy sends it."""
    return rf.get("/compare/", REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Demo browser/1.0")


@pytest.fixture
def token(user) -> str:
    return services.token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD).access


def same_as_the_client(answer, response) -> None:
    assert answer.status == response.status_code
    assert answer.body == (response.json() if response.content else None)
    assert answer.challenge == response.get("WWW-Authenticate")


def test_one_handler_a_process():
    assert isinstance(wsgi_handler(), WSGIHandler)
    assert wsgi_handler() is wsgi_handler()


def test_a_bearer_request_gets_the_apis_own_answer(visitor, token, user, client):
    answer = api_request(
        visitor=visitor, method="GET", path="/api/me/", authorization=f"Bearer {token}"
    )

    assert answer.status == HTTPStatus.OK
    assert answer.accepted
    assert answer.error_code is None
    assert answer.body["id"] == user.pk
    assert answer.body["authenticated_by"] == "bearer"
    assert answer.body["token"]["family_id"]
    same_as_the_client(answer, client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {token}"))


def test_a_refusal_carries_the_apis_error_code_and_challenge(visitor, token, client):
    services.token_revoke(token=token)

    answer = api_request(
        visitor=visitor, method="GET", path="/api/me/", authorization=f"Bearer {token}"
    )

    assert answer.status == HTTPStatus.UNAUTHORIZED
    assert answer.error_code == "token_revoked"
    assert answer.answer_headers == {"WWW-Authenticate": answer.challenge}
    assert answer.challenge.startswith('Bearer realm="api", error="invalid_token"')
    same_as_the_client(answer, client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {token}"))


def test_credentials_are_shown_masked_or_by_name(visitor, token, user):
    session = session_create(user=user)

    answer = api_request(
        visitor=visitor,
        method="POST",
        path="/api/notes/",
        authorization=f"Bearer {token}",
        cookies={settings.SESSION_COOKIE_NAME: session.session_key},
        body={"title": "Shown"},
    )

    assert answer.sent_headers["Authorization"].startswith("Bearer ")
    assert token not in answer.sent_headers["Authorization"]
    assert answer.sent_headers["Cookie"] == f"{settings.SESSION_COOKIE_NAME}=…"
    assert answer.sent_headers["Content-Type"] == "application/json"
    assert answer.status == HTTPStatus.CREATED
    assert Note.objects.get(pk=answer.body["id"]).title == "Shown"


def test_the_request_goes_through_the_middleware_as_the_visitors(visitor, user):
    """The session middleware opens the cookie's session, and the session-activity middleware
    records the device: with the visitor's address and browser."""
    session = session_create(user=user)

    answer = api_request(
        visitor=visitor,
        method="GET",
        path="/api/me/",
        cookies={settings.SESSION_COOKIE_NAME: session.session_key},
    )

    assert answer.status == HTTPStatus.OK
    assert answer.body["authenticated_by"] == "session"
    device = UserSession.objects.get(session_key=session.session_key)
    assert (device.ip, device.user_agent) == ("203.0.113.7", "Demo browser/1.0")


def test_behind_a_trusted_proxy_the_address_is_the_client_it_names(rf, user, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    visitor = rf.get("/compare/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.9")
    session = session_create(user=user)

    api_request(
        visitor=visitor,
        method="GET",
        path="/api/me/",
        cookies={settings.SESSION_COOKIE_NAME: session.session_key},
    )

    assert UserSession.objects.get(session_key=session.session_key).ip == "198.51.100.9"


def test_a_session_cookie_without_a_csrf_token_cannot_write(visitor, user):
    """The API's own CSRF check runs: the session middleware, then DRF's session authentication."""
    session = session_create(user=user)

    answer = api_request(
        visitor=visitor,
        method="POST",
        path="/api/notes/",
        cookies={settings.SESSION_COOKIE_NAME: session.session_key},
        body={"title": "Cross-site"},
    )

    assert (answer.status, answer.error_code) == (HTTPStatus.FORBIDDEN, "csrf_failed")
    assert not Note.objects.exists()


def test_an_answer_without_a_body(visitor, token, user):
    note = services.note_create(owner_id=user.pk, title="Gone soon")

    answer = api_request(
        visitor=visitor,
        method="DELETE",
        path=f"/api/notes/{note.pk}/",
        authorization=f"Bearer {token}",
    )

    assert (answer.status, answer.body, answer.error_code) == (HTTPStatus.NO_CONTENT, None, None)
    assert not Note.objects.exists()


@pytest.fixture
def handler_built_afresh():
    """The handler reads the middleware's settings once: a test that changes them builds it anew,
    and leaves none built under its settings."""
    wsgi_handler.cache_clear()
    yield
    wsgi_handler.cache_clear()


def test_the_scheme_is_the_visitors(rf, token, settings, handler_built_afresh):
    """Behind HTTPS redirection, a request from an HTTPS page is answered, not redirected."""
    settings.SECURE_SSL_REDIRECT = True
    authorization = f"Bearer {token}"

    over_https = api_request(
        visitor=rf.get("/compare/", secure=True),
        method="GET",
        path="/api/me/",
        authorization=authorization,
    )
    over_http = api_request(
        visitor=rf.get("/compare/"), method="GET", path="/api/me/", authorization=authorization
    )

    assert over_https.status == HTTPStatus.OK
    assert over_http.status == HTTPStatus.MOVED_PERMANENTLY
