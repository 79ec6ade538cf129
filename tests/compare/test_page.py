"""/compare/: the visitor's session and JWT side by side, and each live demonstration."""

import datetime as dt
import re
from http import HTTPStatus

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.test import Client

from accounts.backends import USER_STATE_SECONDS
from accounts.models import AuditEvent
from api import clock
from api.keys import jwks_document
from api.models import Note, TokenFamily
from tests.compare.test_demos import TAMPER_REFUSALS
from tests.conftest import sign_in_with_second_factor

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, user, password):
    client.post("/accounts/login/", {"login": user.email, "password": password})
    return client


@pytest.fixture
def with_second_factor(client, user, password, settings):
    """Signed in with the password, then a TOTP code."""
    settings.MFA_TOTP_TOLERANCE = 1
    user.totp_secret = generate_totp_secret()
    TOTP.activate(user, user.totp_secret)
    sign_in_with_second_factor(client, user, password)
    return client


@pytest.fixture
def holding_a_token(signed_in):
    """Signed in, with the demo token made."""
    assert signed_in.post("/compare/token/").status_code == HTTPStatus.FOUND
    return signed_in


def minted() -> tuple[int, int]:
    return TokenFamily.objects.count(), AuditEvent.objects.count()


def demo(client, name: str, **data) -> str:
    response = client.post(f"/compare/demo/{name}/", data)
    assert response.status_code == HTTPStatus.OK
    return response.content.decode()


def test_the_page_needs_a_signed_in_person(client):
    assert client.get("/compare/")["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("person", ["signed_in", "with_second_factor"])
def test_showing_the_page_mints_nothing(request, person):
    """No GET issues a token (nor evicts or revokes one): a cross-site link costs nothing."""
    client = request.getfixturevalue(person)
    before = minted()

    first = client.get("/compare/")
    again = client.get("/compare/")

    assert (first.status_code, again.status_code) == (HTTPStatus.OK, HTTPStatus.OK)
    assert minted() == before
    html = again.content.decode()
    assert 'data-testid="no-demo-token"' in html
    assert 'action="/compare/token/"' in html
    assert 'data-testid="jwt-algorithm"' not in html


@pytest.mark.parametrize("person", ["signed_in", "with_second_factor"])
def test_making_the_demo_token_mints_one_and_shows_it(request, person, user):
    client = request.getfixturevalue(person)
    families = TokenFamily.objects.count()

    response = client.post("/compare/token/")
    again = client.post("/compare/token/")

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/compare/#side-by-side"
    assert again.status_code == HTTPStatus.FOUND
    assert TokenFamily.objects.count() == families + 1
    assert TokenFamily.objects.filter(user=user, name="Comparison page").count() == 1
    html = client.get("/compare/").content.decode()
    assert 'data-testid="jwt-algorithm">RS256, kid' in html
    assert 'data-testid="no-demo-token"' not in html


def test_a_password_only_session_confirms_its_second_factor_before_making_one(
    client, user, settings
):
    settings.MFA_TOTP_TOLERANCE = 1
    TOTP.activate(user, generate_totp_secret())
    client.force_login(user)

    response = client.post("/compare/token/")

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/2fa/reauthenticate/")
    assert not TokenFamily.objects.exists()


def test_an_expired_demo_token_is_offered_again(holding_a_token, monkeypatch):
    later = clock.now() + dt.timedelta(hours=1)
    monkeypatch.setattr(clock, "now", lambda: later)

    html = holding_a_token.get("/compare/").content.decode()

    assert 'data-testid="no-demo-token"' in html


def test_making_the_demo_token_needs_a_post_with_the_csrf_token(user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    assert browser.post("/compare/token/").status_code == HTTPStatus.FORBIDDEN
    assert browser.get("/compare/token/").status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert not TokenFamily.objects.exists()


def test_the_session_and_a_jwt_are_shown_with_live_values(holding_a_token, user, settings):
    signed_in = holding_a_token
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


def test_the_page_never_shows_a_usable_token(holding_a_token):
    signed_in = holding_a_token
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
    assert f'"id": {user.pk}' in shown
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


def test_cookies_without_a_csrf_token_are_refused_and_a_bearer_token_writes(signed_in, user):
    html = demo(signed_in, "csrf")

    assert re.findall(r'data-status="(\d+)"', html) == ["403", "201", "204"]
    assert '<code class="error-code">csrf_failed</code>' in html
    text = " ".join(html.split())
    note_id = re.search(r"the API created note (\d+) \(HTTP 201\)", text)
    assert note_id is not None
    assert "and a second request deleted it (HTTP 204)." in text
    assert f"DELETE /api/notes/{note_id[1]}/" in html
    # Written for real, then deleted for real.
    assert not Note.objects.filter(owner=user).exists()


def test_a_refused_bearer_token_writes_no_note_and_says_so(holding_a_token, user):
    token = holding_a_token.session["compare.demo_token"]["signed"]
    revoke = holding_a_token.post("/api/auth/token/revoke/", {"token": token}, "application/json")
    assert revoke.status_code == HTTPStatus.OK

    html = demo(holding_a_token, "csrf")

    assert re.findall(r'data-status="(\d+)"', html) == ["403", "401"]
    assert "The bearer token was refused too (HTTP 401" in html
    assert "no note was created." in html


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


def test_the_header_bytes_are_the_cookie_and_its_header_line(signed_in):
    """The card's cookie bytes and the table's header bytes differ by `Cookie: ` and CRLF, and
    the page says so."""
    html = demo(signed_in, "measure")

    cookie = int(re.search(r'data-testid="session-bytes">(\d+) bytes', html)[1])
    table = html.split('<table class="measurements">')[1].split("</table>")[0]
    session_row = next(row for row in table.split("<tr>") if row.startswith("<td>Session cookie"))
    header_bytes = int(re.findall(r"<td>([^<]*)</td>", session_row)[4])
    assert header_bytes == len("Cookie: ") + cookie + len("\r\n")
    note = " ".join(html.split('data-testid="header-bytes">')[1].split("</p>")[0].split())
    assert f"the {cookie}-byte cookie and the line's end (2 bytes)" in note


def medians_in_the_table(html: str) -> dict[str, int]:
    rows = re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td>", html.split('class="measurements"')[1])
    return {label: int(median) for label, median in rows}


def test_the_cost_of_revocation_is_read_from_the_measurement(signed_in):
    html = demo(signed_in, "measure")

    medians = medians_in_the_table(html)
    stateless = next(v for k, v in medians.items() if "verified statelessly" in k)
    revocable = next(v for k, v in medians.items() if "revocation check" in k)
    session = next(v for k, v in medians.items() if k.startswith("Session cookie"))
    cost = re.search(
        r"a stateless token\s+(\d+) µs, a revocable one\s+(\d+) µs, so being able to revoke"
        r" costs\s+(\d+) µs a request here",
        html,
    )
    assert cost is not None
    assert (int(cost[1]), int(cost[2])) == (stateless, revocable)
    assert abs(int(cost[3]) - max(0, revocable - stateless)) <= 1  # each rounded on its own
    assert re.search(rf"{session} µs a request for a session", html)


def test_before_measuring_the_cost_row_names_no_figures_nor_internals(signed_in):
    html = signed_in.get("/compare/").content.decode()
    row = " ".join(html.split('id="cost"')[1].split("</tr>")[0].split())

    assert "needs nothing more: no lookup, and it cannot be revoked before it expires" in row
    assert "one Redis MGET of its three revocation marks" in row
    assert "µs" not in row
    for internal in ("memory", "announce", "config/memory.py", "subscription"):
        assert internal not in row


def test_when_sessions_are_in_the_database_its_outage_refuses_them_at_once(signed_in):
    html = signed_in.get("/compare/").content.decode()
    cell = html.split('data-testid="session-database-down"')[1].split("</td>")[0]

    assert "answers 503 at once" in " ".join(cell.split())
    assert "Redis" not in cell


def test_when_sessions_are_in_the_cache_they_outlive_the_database_for_the_user_states_life(
    client, user, password, settings
):
    settings.SESSION_ENGINE = "config.sessions"
    client.post("/accounts/login/", {"login": user.email, "password": password})

    html = client.get("/compare/").content.decode()
    cell = " ".join(html.split('data-testid="session-database-down"')[1].split("</td>")[0].split())

    assert USER_STATE_SECONDS == 300
    assert "a signed-in session keeps working" in cell
    assert "until your user state expires, 5 min after" in cell
    assert "at once" not in cell


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

    signed_in.post("/compare/token/")
    page = signed_in.get("/compare/")
    revocation = signed_in.post("/compare/demo/token-revocation/", {"revoke": "yes"})

    assert page.status_code == HTTPStatus.OK
    forms = page.content.decode().split('data-testid="encrypted-forms"')[1].split("</td>")[0]
    assert "not configured here" in forms
    assert "JWT_ENCRYPTION_KEY" in forms
    assert revocation.status_code == HTTPStatus.OK
