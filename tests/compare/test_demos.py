"""The demonstrations: real requests to the API, whose answers are the API's own.

Each answer is checked against the same request sent by the test client (tests only: compare/
itself never imports django.test).
"""

import datetime as dt
from http import HTTPStatus

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.db.models.signals import post_delete, post_save
from django.test import Client

from accounts.models import AuditEvent
from api import clock
from api.models import Note, RevocationMark, TokenFamily
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
    """A POST of the comparison page: its visitor, their session and its cookie, and the CSRF
    cookie their browser holds."""
    session = session_create(user=user)
    request = rf.post("/compare/demo/x/")
    request.user = user
    request.session = SessionStore(session.session_key)
    request.COOKIES[settings.SESSION_COOKIE_NAME] = session.session_key
    request.COOKIES[settings.CSRF_COOKIE_NAME] = "c" * 32
    return request


def same_as_the_api(answer, response) -> None:
    assert answer.status == response.status_code
    assert answer.body == response.json()
    assert answer.challenge == response.get("WWW-Authenticate")


def moved_clock(monkeypatch, seconds: float) -> None:
    later = clock.now() + dt.timedelta(seconds=seconds)
    monkeypatch.setattr(clock, "now", lambda: later)


def test_no_demo_token_is_held_until_one_is_made(page_request):
    families = TokenFamily.objects.count()

    assert demos.demo_token_held(request=page_request) is None
    assert TokenFamily.objects.count() == families


def test_a_demo_token_is_made_once_and_then_held(page_request):
    made = demos.demo_token(request=page_request)

    assert demos.demo_token_held(request=page_request) == made
    assert demos.demo_token(request=page_request) == made
    assert TokenFamily.objects.filter(user=page_request.user).count() == 1


def test_a_demo_token_about_to_expire_is_no_longer_held(page_request, monkeypatch):
    made = demos.demo_token(request=page_request)
    lifetime = demos.b64url_json(made["signed"].split(".")[1])["exp"] - clock.now().timestamp()
    moved_clock(monkeypatch, lifetime - demos.DEMO_TOKEN_MARGIN_SECONDS)

    assert demos.demo_token_held(request=page_request) is None
    assert demos.demo_token(request=page_request) != made


def test_the_jwt_facts_are_those_of_the_held_token(page_request, user):
    held = demos.demo_token(request=page_request)

    facts = demos.jwt_facts(held=held)

    assert facts.token == held["signed"]
    assert facts.payload["sub"] == str(user.pk)
    assert facts.kid == facts.public_jwk["kid"]
    assert facts.expires_in_seconds > 0


def test_a_revoked_token_is_refused_by_the_api(page_request, client, user):
    result = demos.token_revocation_demo(request=page_request, revoke=True)

    assert result.before.status == HTTPStatus.OK
    assert result.before.body["authenticated_by"] == "bearer"
    assert result.before.body["id"] == user.pk
    assert (result.revoke.method, result.revoke.path) == ("POST", "/api/auth/token/revoke/")
    assert (result.revoke.status, result.revoke.body) == (HTTPStatus.OK, {})
    assert result.after.status == HTTPStatus.UNAUTHORIZED
    assert result.after.error_code == "token_revoked"
    assert result.after.challenge == (
        'Bearer realm="api", error="invalid_token", '
        'error_description="The token has been revoked.", DPoP algs="ES256 PS256 RS256 Ed25519"'
    )
    assert result.stateless_still_accepts
    # The revocation endpoint really revoked it: its mark is in the database.
    jti = result.before.body["token"]["jti"]
    assert RevocationMark.objects.filter(kind=RevocationMark.Kind.TOKEN, subject=jti).exists()


def test_a_token_not_revoked_is_accepted_twice(page_request):
    result = demos.token_revocation_demo(request=page_request, revoke=False)

    assert result.revoke is None
    assert (result.before.status, result.after.status) == (HTTPStatus.OK, HTTPStatus.OK)
    assert result.before.body == result.after.body


@pytest.mark.parametrize(("choice", "code"), TAMPER_REFUSALS)
def test_each_tampering_is_refused_by_the_api(page_request, client, choice, code):
    tampering = demos.tamper_demo(request=page_request, choice=choice)

    assert tampering.answer.status == HTTPStatus.UNAUTHORIZED
    assert tampering.answer.error_code == code
    assert tampering.answer.challenge.startswith('Bearer realm="api", error="invalid_token"')
    response = client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {tampering.token}")
    same_as_the_api(tampering.answer, response)


@pytest.mark.parametrize(
    ("choice", "edited", "edit"),
    [
        ("sub", ("sub",), "changed"),
        ("is_staff", ("is_staff",), "added"),
        ("exp", ("exp",), "changed"),
        ("alg_none", ("alg",), "changed"),
        ("alg_hs256", ("alg",), "changed"),
        ("aud", ("aud",), "changed"),
        ("expired", ("exp", "iat"), "changed"),
    ],
)
def test_the_tamper_lab_marks_what_the_edit_touched(page_request, choice, edited, edit):
    held = demos.demo_token(request=page_request)
    original = {
        **demos.b64url_json(held["signed"].split(".")[0]),
        **demos.b64url_json(held["signed"].split(".")[1]),
    }

    tampering = demos.tamper_demo(request=page_request, choice=choice)

    assert sorted(tampering.edited) == sorted(edited)
    fields = {field.name: field for field in (*tampering.header, *tampering.payload)}
    assert {fields[name].edit for name in edited} == {edit}
    # Everything else is shown as it was in the held token.
    for name, field in fields.items():
        if name not in edited:
            assert field.value == original[name]


def test_the_tamper_lab_edits_the_held_token(page_request):
    held = demos.demo_token(request=page_request)

    tampering = demos.tamper_demo(request=page_request, choice="sub")

    assert tampering.token.split(".")[2] == held["signed"].split(".")[2]
    assert TokenFamily.objects.filter(user=page_request.user).count() == 1


def test_a_signed_out_session_is_refused_by_the_api(page_request, user, client):
    sessions = SessionStore.get_model_class().objects.count()

    result = demos.session_revocation_demo(request=page_request)

    assert result.before.status == HTTPStatus.OK
    assert result.before.body["authenticated_by"] == "session"
    assert result.before.body["id"] == user.pk
    assert result.before.sent_headers == {"Cookie": f"{settings.SESSION_COOKIE_NAME}=…"}
    assert result.after.status == HTTPStatus.UNAUTHORIZED
    assert result.after.error_code == "not_authenticated"
    assert result.after.challenge.startswith('Bearer realm="api"')
    # Signed out: no session nor device row of it is left, and the visitor's own is untouched.
    assert SessionStore.get_model_class().objects.count() == sessions
    assert not demos.UserSession.objects.exclude(
        session_key=page_request.session.session_key
    ).exists()


@pytest.fixture
def notes_written():
    """Every note saved and deleted while the test runs, by id."""
    written: dict[str, list[int]] = {"created": [], "deleted": []}

    def saved(instance, created, **kwargs):
        if created:
            written["created"].append(instance.pk)

    def deleted(instance, **kwargs):
        written["deleted"].append(instance.pk)

    post_save.connect(saved, sender=Note, weak=False)
    post_delete.connect(deleted, sender=Note, weak=False)
    yield written
    post_save.disconnect(saved, sender=Note)
    post_delete.disconnect(deleted, sender=Note)


def test_a_cookie_without_a_csrf_token_is_refused_and_a_bearer_token_writes(
    page_request, notes_written
):
    result = demos.csrf_demo(request=page_request)

    assert result.with_cookie.status == HTTPStatus.FORBIDDEN
    assert result.with_cookie.error_code == "csrf_failed"
    assert result.with_cookie.challenge is None
    assert result.with_cookie.sent_headers == {
        "Cookie": f"{settings.SESSION_COOKIE_NAME}=…; {settings.CSRF_COOKIE_NAME}=…",
        "Content-Type": "application/json",
    }
    assert result.with_bearer.status == HTTPStatus.CREATED
    assert result.with_bearer.body["title"] == demos.CSRF_DEMO_NOTE["title"]
    assert "Cookie" not in result.with_bearer.sent_headers
    note_id = result.with_bearer.body["id"]
    assert (result.cleanup.method, result.cleanup.path) == ("DELETE", f"/api/notes/{note_id}/")
    assert result.cleanup.status == HTTPStatus.NO_CONTENT
    # Really created, then really deleted.
    assert notes_written == {"created": [note_id], "deleted": [note_id]}
    assert not Note.objects.exists()


def test_the_csrf_refusal_is_the_apis_own(page_request):
    result = demos.csrf_demo(request=page_request)

    browser = Client(enforce_csrf_checks=True)
    for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME):
        browser.cookies[name] = page_request.COOKIES[name]
    response = browser.post("/api/notes/", demos.CSRF_DEMO_NOTE, content_type="application/json")
    same_as_the_api(result.with_cookie, response)
    assert not Note.objects.exists()


def test_a_refused_bearer_token_writes_nothing_and_nothing_is_deleted(page_request, notes_written):
    token = demos.demo_token(request=page_request)["signed"]
    demos.services.token_revoke(token=token)

    result = demos.csrf_demo(request=page_request)

    assert result.with_bearer.status == HTTPStatus.UNAUTHORIZED
    assert result.with_bearer.error_code == "token_revoked"
    assert result.cleanup is None
    assert notes_written == {"created": [], "deleted": []}


def test_the_session_engine_says_whether_sessions_are_in_the_database(page_request, settings):
    assert demos.session_facts(request=page_request).in_database

    settings.SESSION_ENGINE = "config.sessions"

    assert not demos.session_facts(request=page_request).in_database


def test_showing_the_facts_mints_nothing(page_request):
    before = (TokenFamily.objects.count(), AuditEvent.objects.count())

    demos.session_facts(request=page_request)
    demos.demo_token_held(request=page_request)

    assert (TokenFamily.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.django_db
def test_a_stolen_bearer_token_works_and_a_stolen_bound_one_does_not(rf, user):
    request = rf.get("/compare/")
    request.user = user

    result = demos.stolen_token_demo(request=request)

    assert result.owner_with_proof.status == HTTPStatus.OK
    assert result.owner_with_proof.body["id"] == user.pk
    assert result.bearer_stolen.status == HTTPStatus.OK
    assert result.bound_stolen_as_bearer.error_code == "token_dpop_bound"
    assert result.bound_stolen_with_own_key.error_code == "invalid_dpop_proof"
    assert "another key" in result.bound_stolen_with_own_key.body["error"]["message"]
    assert result.proof_replayed.error_code == "invalid_dpop_proof"
    assert result.proof_replayed.body["error"]["message"] == "The DPoP proof was used before."
    assert result.proof_parts["header"]["typ"] == "dpop+jwt"
    assert result.proof_parts["claims"]["htu"] == "http://testserver/api/me/"
    assert "…" in result.owner_with_proof.sent_headers["DPoP"]  # masked on the page
    bound = TokenFamily.objects.get(name="Stolen-token demo: DPoP-bound")
    assert bound.dpop_jkt
