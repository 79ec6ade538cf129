"""Apps signing in through allauth headless (api.headless): an app holds a Google ID token or a
GitHub access token from its own sign-in at the emulated provider, hands it over, and gets this
API's token pair, in the same families as every other token. Real HTTP to the emulators."""

import json
from http import HTTPStatus

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.test import Client as HttpClient

from accounts.flow_steps import APP_PROCESS, APP_STEP_TITLES
from accounts.models import User
from api.models import TokenFamily
from config.settings.providers import EMULATED_APP_REDIRECT_URI, emulated_app_client_id
from tests.api.conftest import bearer
from tests.emulators.oauth import GITHUB, GOOGLE, approve, exchange, parse_token_response

APP = "/_allauth/app/v1"
GOOGLE_APP = emulated_app_client_id("google")
GITHUB_APP = emulated_app_client_id("github")


def app_secret(provider: str) -> str:
    client_id = emulated_app_client_id(provider)
    apps = settings.SOCIALACCOUNT_PROVIDERS[provider]["APPS"]
    return next(app["secret"] for app in apps if app["client_id"] == client_id)


def provider_sign_in(emulator: str, provider, client_id: str, identity: str) -> dict:
    """The app's own sign-in at the provider (its client id, PKCE, its redirect URI): the
    provider's token response."""
    client = {
        "client_id": client_id,
        "client_secret": app_secret(provider.name),
        "redirect_uris": [EMULATED_APP_REDIRECT_URI],
    }
    response = exchange(emulator, approve(emulator, provider, identity, client=client))
    assert response.status_code == HTTPStatus.OK, response.text
    return parse_token_response(response)


def hand_over(token: dict, provider: str = "google", **headers):
    # An app sends no cookie and no CSRF token: allauth exempts its app client from CSRF.
    return HttpClient(enforce_csrf_checks=True).post(
        f"{APP}/auth/provider/token",
        json.dumps({"provider": provider, "process": "login", "token": token}),
        content_type="application/json",
        **headers,
    )


def google_id_token(emulator: str, identity: str = "alan") -> str:
    return provider_sign_in(emulator, GOOGLE, GOOGLE_APP, identity)["id_token"]


def github_access_token(emulator: str, client_id: str = GITHUB_APP, identity: str = "ada") -> str:
    return provider_sign_in(emulator, GITHUB, client_id, identity)["access_token"]


def refresh(refresh_token: str):
    return HttpClient().post(
        f"{APP}/tokens/refresh",
        json.dumps({"refresh_token": refresh_token}),
        content_type="application/json",
    )


@pytest.mark.django_db
def test_a_google_id_token_gets_this_apis_token_pair_in_a_family_naming_the_app(emulator):
    response = hand_over({"client_id": GOOGLE_APP, "id_token": google_id_token(emulator)})

    assert response.status_code == HTTPStatus.OK, response.content
    meta = response.json()["meta"]
    assert meta["is_authenticated"] is True
    assert meta["token_type"] == "Bearer"
    assert 0 < meta["expires_in"] <= settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()
    me = HttpClient().get("/api/me/", **bearer(meta["access_token"]))
    assert me.status_code == HTTPStatus.OK
    assert me.json()["email"] == "alan@example.com"
    family = TokenFamily.objects.get()
    assert family.origin == TokenFamily.Origin.APP
    assert family.client_id == GOOGLE_APP
    assert family.name == "App sign-in with a Google ID token"
    assert SocialAccount.objects.get().provider == "google"


@pytest.mark.django_db
def test_the_app_sign_in_is_recorded_step_by_step_for_the_profile(emulator, client):
    response = hand_over({"client_id": GOOGLE_APP, "id_token": google_id_token(emulator)})
    assert response.status_code == HTTPStatus.OK
    user = User.objects.get(email="alan@example.com")

    flow = user.oauth_flows.get(process=APP_PROCESS)
    assert [step["number"] for step in flow.steps] == sorted(APP_STEP_TITLES)
    checked = flow.steps[2]["detail"]
    assert checked["claims"]["aud"] == GOOGLE_APP
    assert checked["claims"]["iss"] == settings.SOCIALACCOUNT_PROVIDERS["google"]["ID_TOKEN_ISSUER"]
    recorded = json.dumps(flow.steps)
    assert response.json()["meta"]["access_token"] not in recorded
    assert response.json()["meta"]["refresh_token"] not in recorded

    client.force_login(user)
    page = client.get("/accounts/profile/").content.decode()
    assert 'data-testid="app-flow-steps"' in page
    assert APP_STEP_TITLES[3] in page


@pytest.mark.django_db
def test_allauths_refresh_endpoint_rotates_the_family_and_a_replay_revokes_it(emulator):
    meta = hand_over({"client_id": GOOGLE_APP, "id_token": google_id_token(emulator)}).json()[
        "meta"
    ]

    first = refresh(meta["refresh_token"])
    assert first.status_code == HTTPStatus.OK, first.content
    second = refresh(first.json()["data"]["refresh_token"])
    assert second.status_code == HTTPStatus.OK
    # The first refresh token again, after its successor was itself refreshed: reuse.
    replay = refresh(meta["refresh_token"])

    assert replay.status_code == HTTPStatus.BAD_REQUEST
    family = TokenFamily.objects.get()
    assert family.revoked_reason == TokenFamily.RevokeReason.REUSED
    latest = second.json()["data"]["access_token"]
    assert HttpClient().get("/api/me/", **bearer(latest)).status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.django_db
def test_a_family_of_an_oauth_client_is_not_refreshed_through_allauth(cli_client, user):
    from api import services

    pair = services.token_pair_issue(
        user=user, origin=TokenFamily.Origin.DEVICE, client_id=cli_client.pk
    )

    assert refresh(pair.refresh).status_code == HTTPStatus.BAD_REQUEST
    assert TokenFamily.objects.get().current_jti  # nothing spent, nothing revoked
    assert TokenFamily.objects.get().revoked_at is None


@pytest.mark.django_db
def test_an_app_family_is_not_refreshed_at_the_json_endpoint(emulator):
    meta = hand_over({"client_id": GOOGLE_APP, "id_token": google_id_token(emulator)}).json()[
        "meta"
    ]

    response = HttpClient().post(
        "/api/auth/token/refresh/",
        {"refresh": meta["refresh_token"]},
        content_type="application/json",
    )

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert TokenFamily.objects.get().revoked_at is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "token",
    [
        pytest.param("forged", id="forged-signature"),
        pytest.param("web-client", id="issued-to-the-web-client"),
        pytest.param("garbage", id="not-a-jwt"),
        pytest.param("unknown-app", id="unknown-client-id"),
    ],
)
def test_a_bad_id_token_signs_nobody_in_and_creates_nothing(emulator, token):
    id_token = google_id_token(emulator)
    client_id = GOOGLE_APP
    if token == "forged":
        header, claims, signature = id_token.split(".")
        id_token = f"{header}.{claims}.{signature[:-4]}AAAA"
    elif token == "web-client":
        web = GOOGLE.client | {
            "client_id": "signin-lab-google-emulator",
            "client_secret": settings.SOCIALACCOUNT_PROVIDERS["google"]["APPS"][0]["secret"],
            "redirect_uris": ["http://testserver/accounts/google/login/callback/"],
        }
        answer = exchange(emulator, approve(emulator, GOOGLE, "alan", client=web))
        id_token = parse_token_response(answer)["id_token"]
    elif token == "garbage":
        id_token = "not.a.jwt"
    else:
        client_id = "someone-elses-app.apps.example.com"

    response = hand_over({"client_id": client_id, "id_token": id_token})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "access_token" not in response.json().get("meta", {})
    assert not User.objects.exists()
    assert not TokenFamily.objects.exists()


@pytest.mark.django_db
def test_the_browser_client_gets_no_tokens_and_needs_csrf(emulator):
    browser = HttpClient(enforce_csrf_checks=True)
    token = {"client_id": GOOGLE_APP, "id_token": google_id_token(emulator)}
    body = json.dumps({"provider": "google", "process": "login", "token": token})
    path = "/_allauth/browser/v1/auth/provider/token"

    refused = browser.post(path, body, content_type="application/json")
    assert refused.status_code == HTTPStatus.FORBIDDEN

    browser.get("/_allauth/browser/v1/config")
    csrf = browser.cookies[settings.CSRF_COOKIE_NAME].value
    response = browser.post(path, body, content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == HTTPStatus.OK, response.content
    assert "access_token" not in response.json().get("meta", {})
    assert not TokenFamily.objects.exists()
    assert browser.get("/api/me/").json()["email"] == "alan@example.com"


@pytest.mark.django_db
def test_provider_token_sign_ins_are_limited_per_address(emulator, settings):
    settings.APP_PROVIDER_TOKEN_RATE_PER_ADDRESS = "2/15min"
    token = {"client_id": GOOGLE_APP, "id_token": "not.a.jwt"}

    statuses = [hand_over(token).status_code for _ in range(3)]

    assert statuses == [
        HTTPStatus.BAD_REQUEST,
        HTTPStatus.BAD_REQUEST,
        HTTPStatus.TOO_MANY_REQUESTS,
    ]
    limited = hand_over(token)
    assert int(limited["Retry-After"]) >= 1
    assert limited.json()["errors"][0]["code"] == "too_many_requests"


@pytest.mark.django_db
def test_a_github_access_token_of_this_app_gets_a_token_pair(emulator):
    token = {"client_id": GITHUB_APP, "access_token": github_access_token(emulator)}

    response = hand_over(token, provider="github")

    assert response.status_code == HTTPStatus.OK, response.content
    meta = response.json()["meta"]
    me = HttpClient().get("/api/me/", **bearer(meta["access_token"]))
    assert me.json()["email"] == "ada@example.com"
    family = TokenFamily.objects.get()
    assert (family.origin, family.client_id) == (TokenFamily.Origin.APP, GITHUB_APP)
    assert family.name == "App sign-in with a GitHub access token"
    checked = User.objects.get().oauth_flows.get(process=APP_PROCESS).steps[2]["detail"]
    assert checked["verified"].startswith(f"POST /applications/{GITHUB_APP}/token")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "case",
    [
        pytest.param("other-app", id="a-token-of-another-app"),
        pytest.param("unknown", id="a-token-github-never-issued"),
        pytest.param("api-500", id="github-answers-500"),
        pytest.param("missing", id="no-access-token"),
    ],
)
def test_a_github_token_github_does_not_vouch_for_signs_nobody_in(emulator, case):
    access_token = ""
    if case == "other-app":
        # The site's own web application's token, presented as the app's.
        web = {
            "client_id": "signin-lab-github-emulator",
            "client_secret": settings.SOCIALACCOUNT_PROVIDERS["github"]["APPS"][0]["secret"],
            "redirect_uris": ["http://testserver/accounts/github/login/callback/"],
        }
        answer = exchange(emulator, approve(emulator, GITHUB, "ada", client=web))
        access_token = parse_token_response(answer)["access_token"]
    elif case == "unknown":
        access_token = "gho_" + "x" * 36
    elif case == "api-500":
        access_token = github_access_token(emulator, identity="api-500")
    token = {"client_id": GITHUB_APP, "access_token": access_token}
    if case == "missing":
        token = {"client_id": GITHUB_APP, "id_token": "not.a.jwt"}

    response = hand_over(token, provider="github")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["code"] == "invalid_token"
    assert "gho_" not in response.content.decode()
    assert not User.objects.exists()
    assert not TokenFamily.objects.exists()


def alan_with_an_authenticator(settings) -> tuple[User, str]:
    """The account the emulated Google's "alan" signs into, with a verified address and TOTP
    active: the person and the authenticator's secret."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from tests.factories import UserFactory

    settings.MFA_TOTP_TOLERANCE = 1
    person = UserFactory(email="alan@example.com")
    EmailAddress.objects.update_or_create(
        user=person, email=person.email, defaults={"verified": True, "primary": True}
    )
    secret = generate_totp_secret()
    TOTP.activate(person, secret)
    return person, secret


@pytest.mark.django_db
def test_an_account_with_a_second_factor_gets_its_tokens_only_after_the_code(emulator, settings):
    from tests.conftest import totp_code

    person, secret = alan_with_an_authenticator(settings)

    pending = hand_over({"client_id": GOOGLE_APP, "id_token": google_id_token(emulator)})

    assert pending.status_code == HTTPStatus.UNAUTHORIZED
    body = pending.json()
    assert "access_token" not in body["meta"]
    assert [f["id"] for f in body["data"]["flows"] if f.get("is_pending")] == ["mfa_authenticate"]
    assert not TokenFamily.objects.exists()
    session = {"HTTP_X_SESSION_TOKEN": body["meta"]["session_token"]}
    wrong = HttpClient().post(
        f"{APP}/auth/2fa/authenticate", {"code": "000000"}, "application/json", **session
    )
    assert wrong.status_code == HTTPStatus.BAD_REQUEST
    assert not TokenFamily.objects.exists()

    done = HttpClient().post(
        f"{APP}/auth/2fa/authenticate", {"code": totp_code(secret)}, "application/json", **session
    )

    assert done.status_code == HTTPStatus.OK, done.content
    meta = done.json()["meta"]
    assert HttpClient().get("/api/me/", **bearer(meta["access_token"])).json()["id"] == person.pk
    family = TokenFamily.objects.get()
    assert family.name == "App sign-in with a Google ID token and a second factor"
    assert family.user == person


@pytest.mark.django_db
def test_the_browser_clients_redirect_flow_ends_in_a_session_under_csrf(emulator):
    browser = HttpClient(enforce_csrf_checks=True)
    browser.get("/_allauth/browser/v1/config")
    csrf = browser.cookies[settings.CSRF_COOKIE_NAME].value
    start = {"provider": "github", "process": "login", "callback_url": "/app/signed-in"}
    path = "/_allauth/browser/v1/auth/provider/redirect"
    assert browser.post(path, start).status_code == HTTPStatus.FORBIDDEN  # no CSRF token

    started = browser.post(path, {**start, "csrfmiddlewaretoken": csrf})

    assert started.status_code == HTTPStatus.FOUND
    at_provider = started["Location"]
    assert at_provider.startswith(f"{emulator}/github/login/oauth/authorize?")
    assert "code_challenge_method=S256" in at_provider
    approved = requests.post(
        at_provider, data={"identity": "ada"}, allow_redirects=False, timeout=5
    )
    back = browser.get(approved.headers["Location"].removeprefix("http://testserver"))
    assert back.status_code == HTTPStatus.FOUND
    assert back["Location"] == "/app/signed-in"
    session = browser.get("/_allauth/browser/v1/auth/session").json()
    assert session["data"]["user"]["email"] == "ada@example.com"
    assert "access_token" not in session.get("meta", {})
    assert browser.get("/api/me/").json()["authenticated_by"] == "session"
    assert not TokenFamily.objects.exists()


@pytest.mark.django_db
def test_an_apps_hidden_application_is_no_choice_of_its_own(client):
    """The sign-in page and allauth's config list each provider once, with the site's own app."""
    page = client.get("/accounts/login/").content.decode()
    config = client.get("/_allauth/browser/v1/config").json()

    providers = config["data"]["socialaccount"]["providers"]
    assert sorted(provider["id"] for provider in providers) == ["github", "google"]
    assert {p.get("client_id") for p in providers} == {
        "signin-lab-github-emulator",
        "signin-lab-google-emulator",
    }
    assert page.count('action="/accounts/github/login/') == 1
    assert page.count('action="/accounts/google/login/') == 1
