"""The standard OAuth endpoints (api.oauth): RFC 8414 metadata, the device grant (RFC 8628),
refresh, revocation (RFC 7009) and introspection (RFC 7662), through real requests."""

import base64
import datetime as dt
import re
from http import HTTPStatus
from urllib.parse import urlencode

import jwt
import pytest
from allauth.idp.oidc.models import Client
from django.test import Client as BrowserClient

from api import clock
from api.clients import BUILTIN_CLI_CLIENT_ID
from api.models import TokenFamily
from tests.api.conftest import bearer

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def resource_server(db) -> tuple[Client, str]:
    """A confidential client registered to introspect, and its secret."""
    client = Client(pk="notes-service", name="Notes service", type=Client.Type.CONFIDENTIAL)
    client.set_scopes(["introspect"])
    client.set_grant_types([])
    client.set_secret("a long random secret of the resource server")
    client.save()
    return client, "a long random secret of the resource server"


def oauth(path: str, data: dict, **headers):
    """A form-encoded POST, as OAuth clients send it."""
    return BrowserClient().post(path, urlencode(data, doseq=True), content_type=FORM, **headers)


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {
        "HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    }


def device_start(client_id: str = BUILTIN_CLI_CLIENT_ID) -> dict:
    response = oauth("/oauth/device_authorization", {"client_id": client_id})
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def poll(device_code: str, client_id: str = BUILTIN_CLI_CLIENT_ID):
    return oauth(
        "/oauth/token",
        {"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": client_id},
    )


def approve(person: BrowserClient, user_code: str, decision: str = "approve"):
    return person.post("/device/", {"user_code": user_code, "decision": decision})


@pytest.fixture
def person(user) -> BrowserClient:
    browser = BrowserClient()
    browser.force_login(user)
    return browser


@pytest.fixture
def no_poll_interval(settings):
    settings.OAUTH_DEVICE_POLL_SECONDS = 0


def test_the_metadata_names_every_endpoint(client, settings):
    response = client.get("/.well-known/oauth-authorization-server")

    assert response.status_code == HTTPStatus.OK
    metadata = response.json()
    assert metadata["issuer"] == settings.SIMPLE_JWT["ISSUER"]
    base = "http://testserver"
    assert metadata["token_endpoint"] == f"{base}/oauth/token"
    assert metadata["device_authorization_endpoint"] == f"{base}/oauth/device_authorization"
    assert metadata["revocation_endpoint"] == f"{base}/oauth/revoke"
    assert metadata["introspection_endpoint"] == f"{base}/oauth/introspect"
    assert metadata["jwks_uri"] == f"{base}/.well-known/jwks.json"
    assert metadata["grant_types_supported"] == [DEVICE_GRANT, "refresh_token"]
    assert "none" in metadata["token_endpoint_auth_methods_supported"]
    assert "none" not in metadata["introspection_endpoint_auth_methods_supported"]
    # Each endpoint it names answers (an empty POST is a form error, not a 404).
    for name in ("token_endpoint", "device_authorization_endpoint", "revocation_endpoint"):
        assert oauth(metadata[name].removeprefix(base), {}).status_code in {400, 401}


def test_the_device_grant_end_to_end(cli_client, person, user, no_poll_interval):
    started = device_start()
    assert len(started["user_code"]) == 9
    assert started["user_code"][4] == "-"
    assert started["verification_uri"] == "http://testserver/device/"
    assert started["verification_uri_complete"].endswith(f"?user_code={started['user_code']}")
    assert started["interval"] == 0
    assert started["expires_in"] == 600

    pending = poll(started["device_code"])
    assert pending.status_code == HTTPStatus.BAD_REQUEST
    assert pending.json()["error"] == "authorization_pending"

    # The person types the code as they please, sees the client, approves.
    shown = person.post("/device/", {"user_code": started["user_code"].lower().replace("-", " ")})
    assert shown.status_code == HTTPStatus.OK
    assert b"signin-lab command-line client asks for API tokens" in shown.content
    assert approve(person, started["user_code"]).status_code == HTTPStatus.OK

    answer = poll(started["device_code"])
    assert answer.status_code == HTTPStatus.OK, answer.content
    assert answer["Cache-Control"] == "no-store"
    tokens = answer.json()
    assert tokens["token_type"] == "Bearer"
    assert 0 < tokens["expires_in"] <= 300
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["client_id"] == BUILTIN_CLI_CLIENT_ID
    family = TokenFamily.objects.get(user=user)
    assert (family.origin, family.client_id) == ("device", BUILTIN_CLI_CLIENT_ID)

    me = BrowserClient().get("/api/me/", **bearer(tokens["access_token"]))
    assert me.status_code == HTTPStatus.OK
    assert me.json()["id"] == user.pk

    # The device code is spent.
    assert poll(started["device_code"]).json()["error"] == "invalid_grant"


def test_a_denied_request_gets_access_denied_once(cli_client, person, no_poll_interval):
    started = device_start()
    approve(person, started["user_code"], decision="deny")

    assert poll(started["device_code"]).json()["error"] == "access_denied"
    assert poll(started["device_code"]).json()["error"] == "invalid_grant"
    assert not TokenFamily.objects.exists()


def test_polling_faster_than_the_interval_is_told_to_slow_down(cli_client, settings):
    settings.OAUTH_DEVICE_POLL_SECONDS = 5
    started = device_start()

    assert poll(started["device_code"]).json()["error"] == "authorization_pending"
    assert poll(started["device_code"]).json()["error"] == "slow_down"


def test_an_expired_device_code_says_so(cli_client, person, monkeypatch, no_poll_interval):
    started = device_start()
    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda: real_now() + dt.timedelta(seconds=601))

    assert poll(started["device_code"]).json()["error"] == "expired_token"
    # Too late to approve as well.
    assert approve(person, started["user_code"]).status_code == HTTPStatus.BAD_REQUEST


def test_a_password_change_after_approval_denies_the_tokens(
    cli_client, person, user, no_poll_interval
):
    from accounts.services import user_password_set

    started = device_start()
    approve(person, started["user_code"])
    user_password_set(user=user, password="an entirely new passphrase")

    assert poll(started["device_code"]).json()["error"] == "access_denied"
    assert not TokenFamily.objects.exists()


@pytest.mark.parametrize(
    ("data", "status", "error"),
    [
        ({}, 400, "invalid_request"),
        (
            {"grant_type": "password", "username": "x", "password": "y"},
            400,
            "unsupported_grant_type",
        ),
        ({"grant_type": "authorization_code", "code": "x"}, 400, "unsupported_grant_type"),
        ({"grant_type": DEVICE_GRANT, "device_code": "x"}, 400, "invalid_request"),
        ({"grant_type": DEVICE_GRANT, "client_id": BUILTIN_CLI_CLIENT_ID}, 400, "invalid_request"),
        (
            {"grant_type": DEVICE_GRANT, "client_id": "nobody", "device_code": "x"},
            401,
            "invalid_client",
        ),
        (
            {
                "grant_type": DEVICE_GRANT,
                "client_id": BUILTIN_CLI_CLIENT_ID,
                "device_code": "forged",
            },
            400,
            "invalid_grant",
        ),
        ({"grant_type": "refresh_token", "refresh_token": "not.a.token"}, 400, "invalid_grant"),
        ({"grant_type": ["refresh_token", "refresh_token"]}, 400, "invalid_request"),
        ({"grant_type": "refresh_token", "refresh_token": "x" * 20_000}, 400, "invalid_request"),
    ],
)
def test_bad_token_requests_get_the_rfc_6749_error(cli_client, data, status, error):
    response = oauth("/oauth/token", data)

    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error
    if status == 401:
        assert response["WWW-Authenticate"] == 'Basic realm="oauth"'


def test_json_is_not_what_the_token_endpoint_speaks(cli_client, client):
    response = client.post(
        "/oauth/token", {"grant_type": "refresh_token"}, content_type="application/json"
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "invalid_request"


def test_a_client_not_registered_for_the_grant_is_refused(resource_server):
    client, secret = resource_server
    response = oauth("/oauth/device_authorization", {}, **basic(client.pk, secret))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "unauthorized_client"


def device_tokens(person) -> dict:
    started = device_start()
    approve(person, started["user_code"])
    return poll(started["device_code"]).json()


def test_refresh_by_the_client_it_was_issued_to_only(cli_client, person, no_poll_interval):
    tokens = device_tokens(person)

    stranger = oauth(
        "/oauth/token", {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert stranger.json() == {
        "error": "invalid_grant",
        "error_description": "The token was issued to another client.",
    }
    # The JSON endpoint names no client: refused too, and the family is untouched.
    json_refresh = BrowserClient().post(
        "/api/auth/token/refresh/",
        {"refresh": tokens["refresh_token"]},
        content_type="application/json",
    )
    assert json_refresh.json()["error"]["code"] == "token_client_mismatch"

    rotated = oauth(
        "/oauth/token",
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": BUILTIN_CLI_CLIENT_ID,
        },
    )
    assert rotated.status_code == HTTPStatus.OK, rotated.content
    assert rotated.json()["refresh_token"] != tokens["refresh_token"]


def test_revocation_and_introspection_agree_at_once(
    cli_client, person, resource_server, no_poll_interval
):
    tokens = device_tokens(person)
    server, secret = resource_server

    def introspect(token: str) -> dict:
        response = oauth("/oauth/introspect", {"token": token}, **basic(server.pk, secret))
        assert response.status_code == HTTPStatus.OK
        return response.json()

    active = introspect(tokens["access_token"])
    assert active["active"] is True
    assert active["client_id"] == BUILTIN_CLI_CLIENT_ID
    assert active["token_type"] == "Bearer"
    assert introspect(tokens["refresh_token"])["active"] is True

    revoked = oauth(
        "/oauth/revoke",
        {
            "token": tokens["refresh_token"],
            "token_type_hint": "refresh_token",
            "client_id": BUILTIN_CLI_CLIENT_ID,
        },
    )
    assert revoked.status_code == HTTPStatus.OK
    assert revoked.json() == {}

    # The family went with its refresh token: the access token too, at the very next question.
    assert introspect(tokens["access_token"]) == {"active": False}
    assert introspect(tokens["refresh_token"]) == {"active": False}
    me = BrowserClient().get("/api/me/", **bearer(tokens["access_token"]))
    assert me.json()["error"]["code"] == "token_revoked"


def test_another_client_cannot_revoke_a_clients_token(
    cli_client, person, resource_server, no_poll_interval
):
    tokens = device_tokens(person)
    server, secret = resource_server

    response = oauth("/oauth/revoke", {"token": tokens["access_token"]}, **basic(server.pk, secret))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "unauthorized_client"
    assert BrowserClient().get("/api/me/", **bearer(tokens["access_token"])).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Basic !!!"},
        basic("notes-service", "the wrong secret"),
        basic(BUILTIN_CLI_CLIENT_ID, ""),
    ],
)
def test_introspection_needs_a_resource_servers_credentials(
    cli_client, resource_server, pair, headers
):
    response = oauth("/oauth/introspect", {"token": pair.access}, **headers)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "invalid_client"
    assert "active" not in response.json()


def test_a_confidential_client_without_the_introspect_scope_may_not(resource_server, pair):
    client, secret = resource_server
    client.set_scopes(["api"])
    client.save()

    response = oauth("/oauth/introspect", {"token": pair.access}, **basic(client.pk, secret))

    assert response.json()["error"] == "unauthorized_client"


def test_wrong_user_codes_are_limited_per_account(cli_client, person, settings):
    settings.OAUTH_USER_CODE_RATE = "3/10min"
    started = device_start()

    answers = [person.post("/device/", {"user_code": f"WXYZ-BCD{c}"}).status_code for c in "FGHJ"]

    assert answers == [400, 400, 400, 429]
    # Past the limit, even the right code waits.
    assert person.post("/device/", {"user_code": started["user_code"]}).status_code == 429


def test_the_device_page_needs_a_signed_in_person(cli_client):
    started = device_start()

    response = BrowserClient().get(
        started["verification_uri_complete"].removeprefix("http://testserver")
    )

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/login/?next=")


def test_the_tokens_page_names_the_app_and_how_it_signed_in(cli_client, person, no_poll_interval):
    device_tokens(person)

    page = person.get("/accounts/tokens/").content.decode()

    assert "Device authorization (RFC 8628), approved in the browser, for the app" in page
    assert f"<code>{BUILTIN_CLI_CLIENT_ID}</code>" in page


def test_wrong_client_secrets_are_limited_per_address(cli_client, resource_server, pair, settings):
    settings.OAUTH_CLIENT_SECRET_FAILURE_RATE = "3/min"
    client, secret = resource_server

    wrong = [
        oauth("/oauth/introspect", {"token": pair.access}, **basic(client.pk, f"guess {n}"))
        for n in range(4)
    ]

    assert [r.status_code for r in wrong] == [401, 401, 401, 429]
    assert wrong[3].json()["error"] == "rate_limited"
    assert int(wrong[3]["Retry-After"]) >= 1
    # Even the right secret waits now: the brake is per address, not per guess.
    right = oauth("/oauth/introspect", {"token": pair.access}, **basic(client.pk, secret))
    assert right.status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_a_right_secret_is_checked_once_then_remembered(resource_server, pair, monkeypatch):
    client, secret = resource_server
    checks = []
    real_check = Client.check_secret
    monkeypatch.setattr(
        Client, "check_secret", lambda self, s: checks.append(s) or real_check(self, s)
    )

    answers = [
        oauth("/oauth/introspect", {"token": pair.access}, **basic(client.pk, secret))
        for _ in range(3)
    ]

    assert [a.json()["active"] for a in answers] == [True, True, True]
    assert checks == [secret]
    # A new secret is a new stored hash: the old one is not remembered for it.
    client.set_secret("the rotated secret of the resource server")
    client.save()
    rotated = oauth("/oauth/introspect", {"token": pair.access}, **basic(client.pk, secret))
    assert rotated.status_code == HTTPStatus.UNAUTHORIZED


def test_the_profile_shows_the_device_sign_in_step_by_step(cli_client, person, no_poll_interval):
    started = device_start()
    poll(started["device_code"])  # told to wait: the person has not answered yet
    approve(person, started["user_code"])
    tokens = poll(started["device_code"]).json()

    page = person.get("/accounts/profile/").content.decode()

    section = page.split('id="device-flow"')[1].split("</section>")[0]
    assert "signin-lab command-line client</strong> signed in as you" in section
    titles = re.findall(r"<h3>(\d)\. ([^<\n]+)", section)
    assert titles == [
        ("1", "The app asks for a device code"),
        ("2", "You type the user code on this site and approve"),
        ("3", "The app polls the token endpoint"),
        ("4", "The app receives the token pair"),
    ]
    assert "&quot;authorization_pending&quot;: 1" in section
    assert started["user_code"] in section
    # Codes and tokens are masked; the seven-step flow keeps its place (no provider sign-in yet).
    for secret in (started["device_code"], tokens["access_token"], tokens["refresh_token"]):
        assert secret not in page
    assert "Sign in with a provider to see the seven steps" in page


@pytest.mark.parametrize(
    "body",
    [
        "grant_type=refresh_token&x%22%5C%C3%A9=1&x%22%5C%C3%A9=2",
        "grant_type=refresh_token&refresh_token=" + "%E2%9C%93" * 9000,
        "grant_type=%00&refresh_token=%FF%FE",
    ],
)
def test_error_descriptions_repeat_nothing_the_client_sent(cli_client, body):
    response = BrowserClient().post("/oauth/token", body, content_type=FORM)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    description = response.json()["error_description"]
    # RFC 6749 section 5.2: printable ASCII without a double quote or a backslash.
    assert all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in description)
