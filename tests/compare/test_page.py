"""/compare/: the visitor's session and JWT side by side, and each live demonstration."""

import re
from http import HTTPStatus

import pytest
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session

from api.keys import jwks_document
from api.models import Note
from tests.compare.test_demos import TAMPER_REFUSALS

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, user, password):
    client.post("/accounts/login/", {"login": user.email, "password": password})
    return client


def demo(client, name: str, **data) -> str:
    response = client.post(f"/compare/demo/{name}/", data)
    assert response.status_code == HTTPStatus.OK
    return response.content.decode()


def test_the_page_needs_a_signed_in_person(client):
    assert client.get("/compare/")["Location"].startswith("/accounts/login/")


def test_the_session_and_a_jwt_are_shown_with_live_values(signed_in, user, settings):
    html = signed_in.get("/compare/").content.decode()

    cookie = signed_in.cookies[settings.SESSION_COOKIE_NAME].value
    assert f"{len(settings.SESSION_COOKIE_NAME) + 1 + len(cookie)} bytes" in html
    assert "HttpOnly: yes" in html
    assert "SameSite: Lax" in html
    assert "_auth_user_id" in html
    assert 'data-testid="jwt-algorithm">RS256, kid' in html
    assert f"<code>&quot;{user.pk}&quot;</code>" in html
    assert "subject: the id of the user this token speaks for" in html
    assert '"kty": "RSA"' in html.replace("&quot;", '"')
    assert cookie not in html


def test_the_page_never_shows_a_usable_token(signed_in):
    signed_in.get("/compare/")
    token = signed_in.session["compare.demo_token"]["signed"]

    html = signed_in.get("/compare/").content.decode()

    assert token.split(".")[2] not in html
    assert token not in html


def test_signing_a_session_out_refuses_its_cookie_at_once(signed_in, user):
    html = demo(signed_in, "session-revocation")

    exchanges = re.findall(r'data-status="(\d+)"', html)
    assert exchanges[:2] == ["200", "401"]
    shown = html.replace("&quot;", '"')
    assert '"authenticated_by": "session"' in shown
    assert '<code class="error-code">not_authenticated</code>' in html
    assert 'WWW-Authenticate: Bearer realm="api"' in shown
    # The demo session is gone, and the visitor's own session still works.
    assert Session.objects.count() == 1
    assert UserSession.objects.filter(user=user).count() == 1
    assert signed_in.get("/compare/").status_code == HTTPStatus.OK


def test_a_revoked_token_is_refused_but_a_jwks_only_verifier_still_accepts_it(signed_in):
    html = demo(signed_in, "token-revocation", revoke="yes")

    assert re.findall(r'data-status="(\d+)"', html) == ["200", "200", "401"]
    assert '<code class="error-code">token_revoked</code>' in html
    assert 'error="invalid_token", error_description="The token has been revoked."' in (
        html.replace("&quot;", '"')
    )
    assert "<strong>still accepts</strong>" in html


def test_a_token_not_revoked_keeps_working(signed_in):
    html = demo(signed_in, "token-revocation", revoke="no")

    assert re.findall(r'data-status="(\d+)"', html) == ["200", "200"]


@pytest.mark.parametrize(
    ("choice", "code"),
    TAMPER_REFUSALS,
)
def test_an_edited_token_is_refused_with_the_exact_reason(signed_in, choice, code):
    """RFC 8725 §2.1, §3.1, §3.9: the signature, the algorithm, the audience, the expiry."""
    html = demo(signed_in, "tamper", choice=choice)

    assert re.findall(r'data-status="(\d+)"', html) == ["401"]
    assert f'<code class="error-code">{code}</code>' in html
    assert 'WWW-Authenticate: Bearer realm="api", error="invalid_token"' in (
        html.replace("&quot;", '"')
    )


def test_an_unknown_demo_or_tampering_is_a_404(signed_in):
    assert signed_in.post("/compare/demo/nope/").status_code == HTTPStatus.NOT_FOUND
    assert signed_in.post("/compare/demo/tamper/", {"choice": "x"}).status_code == 404


def test_a_cross_site_form_is_refused_for_lack_of_a_csrf_token(signed_in, user):
    html = demo(signed_in, "csrf")

    assert re.findall(r'data-status="(\d+)"', html) == ["403", "201"]
    assert '<code class="error-code">csrf_failed</code>' in html
    assert "No note was created." in html
    # Only verdicts: nothing is written.
    assert not Note.objects.filter(owner=user).exists()


def test_demos_need_a_post_with_the_csrf_token(user):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    assert browser.post("/compare/demo/session-revocation/").status_code == HTTPStatus.FORBIDDEN
    assert browser.get("/compare/demo/session-revocation/").status_code == 405


def test_measuring_draws_the_chart_from_the_same_measurement_as_authbench(signed_in):
    html = demo(signed_in, "measure")

    assert html.count('class="chart-bar"') == 4
    assert "Session cookie" in html
    assert "python manage.py authbench" in html


def test_measuring_is_limited_to_once_in_a_few_seconds_per_person(signed_in):
    demo(signed_in, "measure")

    again = signed_in.post("/compare/demo/measure/")

    assert again.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "You measured a moment ago" in again.content.decode()


def test_without_an_encryption_key_the_page_says_the_encrypted_form_is_not_configured(
    signed_in, settings
):
    """Production without JWT_ENCRYPTION_KEY (encrypted tokens are optional, so start-up does not
    need it): the page and its demonstrations still answer, the encrypted form saying why not."""
    jwks_document()  # the signing key exists, as production's is provisioned
    settings.JWT_ENCRYPTION_KEY = ""
    settings.JWT_GENERATE_MISSING_KEYS = False

    page = signed_in.get("/compare/")
    revocation = signed_in.post("/compare/demo/token-revocation/", {"revoke": "yes"})

    assert page.status_code == HTTPStatus.OK
    forms = page.content.decode().split('data-testid="encrypted-forms"')[1].split("</td>")[0]
    assert "not configured here" in forms
    assert "JWT_ENCRYPTION_KEY" in forms
    assert revocation.status_code == HTTPStatus.OK
