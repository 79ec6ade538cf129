"""The demonstrations' verdicts: worked out without a request, they must be what the API answers.

Each refusal the page shows is checked against the real API, called here through the test client
(tests only: compare/ itself never imports django.test).
"""

from http import HTTPStatus

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from api.exceptions import BEARER_CHALLENGE
from api.models import Note
from compare import demos
from compare.measurements import session_create

pytestmark = pytest.mark.django_db

# Each tampering the page offers, and the refusal the API answers it with.
TAMPER_REFUSALS = [
    ("sub", "token_signature_invalid"),
    ("is_staff", "token_signature_invalid"),
    ("exp", "token_signature_invalid"),
    ("alg_none", "token_algorithm_not_allowed"),
    ("alg_hs256", "token_algorithm_not_allowed"),
    ("aud", "token_audience_invalid"),
    ("expired", "token_expired"),
]


@pytest.fixture
def page_request(rf, user):
    """A request of the comparison page: its visitor, their session and its cookie."""
    session = session_create(user=user)
    request = rf.post("/compare/demo/x/")
    request.user = user
    request.session = SessionStore(session.session_key)
    request.COOKIES[settings.SESSION_COOKIE_NAME] = session.session_key
    return request


def same_as_the_api(answer: demos.ApiAnswer, response) -> None:
    assert answer.status == response.status_code
    assert answer.body == response.json()
    assert answer.challenge == response.get("WWW-Authenticate")


def test_a_valid_token_is_accepted_with_who_it_names(page_request, user):
    token = demos.demo_token(request=page_request)["signed"]

    answer = demos.me_with_bearer(token=token)

    assert answer.status == HTTPStatus.OK
    assert answer.accepted
    assert answer.error_code is None
    assert answer.body["sub"] == str(user.pk)
    assert answer.body["claims"]["fid"]
    assert answer.sent_headers["Authorization"].startswith("Bearer ")
    assert token not in answer.sent_headers["Authorization"]


def test_a_revoked_token_is_refused_as_the_api_refuses_it(page_request, client):
    result = demos.token_revocation_demo(request=page_request, revoke=True)

    assert [result.before.status, result.revoke.status] == [200, 200]
    assert result.after.status == HTTPStatus.UNAUTHORIZED
    assert result.after.error_code == "token_revoked"
    assert result.after.challenge == (
        'Bearer realm="api", error="invalid_token", error_description="The token has been revoked."'
    )
    assert result.stateless_still_accepts


def test_revocation_verdicts_match_the_api(page_request, client):
    token = demos.services.access_token_forms_issue(user=page_request.user).signed
    demos.services.token_revoke(token=token)

    answer = demos.me_with_bearer(token=token)

    same_as_the_api(answer, client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {token}"))


@pytest.mark.parametrize(
    ("choice", "code"),
    TAMPER_REFUSALS,
)
def test_each_tampering_is_refused_exactly_as_the_api_refuses_it(
    page_request, client, choice, code
):
    tampering = demos.tamper_demo(request=page_request, choice=choice)

    assert tampering.answer.status == HTTPStatus.UNAUTHORIZED
    assert tampering.answer.error_code == code
    assert tampering.answer.challenge.startswith('Bearer realm="api", error="invalid_token"')
    response = client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {tampering.token}")
    same_as_the_api(tampering.answer, response)


def test_a_signed_out_session_is_refused_as_the_api_refuses_it(page_request, user, client):
    session = session_create(user=user)
    key = session.session_key
    assert demos.me_with_session_cookie(session_key=key).status == HTTPStatus.OK
    session.delete()

    answer = demos.me_with_session_cookie(session_key=key)

    assert answer.status == HTTPStatus.UNAUTHORIZED
    assert answer.error_code == "not_authenticated"
    assert answer.challenge == BEARER_CHALLENGE
    assert answer.sent_headers == {"Cookie": f"{settings.SESSION_COOKIE_NAME}=…"}
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    same_as_the_api(answer, client.get("/api/me/"))


def test_the_session_demo_leaves_no_session_behind(page_request, user):
    sessions = SessionStore.get_model_class().objects.count()

    result = demos.session_revocation_demo(request=page_request)

    assert (result.before.status, result.after.status) == (200, 401)
    assert result.before.body["authenticated_by"] == "session"
    assert result.after.error_code == "not_authenticated"
    assert SessionStore.get_model_class().objects.count() == sessions


def test_a_cookie_without_a_csrf_token_is_refused_as_the_api_refuses_it(page_request, user):
    result = demos.csrf_demo(request=page_request)

    assert result.with_cookie.status == HTTPStatus.FORBIDDEN
    assert result.with_cookie.error_code == "csrf_failed"
    assert result.with_cookie.challenge is None
    assert "Authorization" not in result.with_cookie.sent_headers
    assert result.with_bearer.status == HTTPStatus.CREATED
    assert result.with_bearer.body["created"] is False
    assert not Note.objects.exists()
    browser = Client(enforce_csrf_checks=True)
    browser.cookies[settings.SESSION_COOKIE_NAME] = page_request.COOKIES[
        settings.SESSION_COOKIE_NAME
    ]
    response = browser.post("/api/notes/", {"title": "Cross-site"})
    same_as_the_api(result.with_cookie, response)
    assert not Note.objects.exists()


def test_a_refused_bearer_token_is_refused_in_the_csrf_demo_too(page_request):
    token = demos.demo_token(request=page_request)["signed"]
    demos.services.token_revoke(token=token)

    result = demos.csrf_demo(request=page_request)

    assert result.with_bearer.status == HTTPStatus.UNAUTHORIZED
    assert result.with_bearer.error_code == "token_revoked"
