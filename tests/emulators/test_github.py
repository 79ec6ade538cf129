"""The GitHub emulator's happy path: consent page, code, token (with PKCE) and the REST API."""

import hashlib
import re
from typing import Any

import pytest
import requests

from tests.emulators.oauth import (
    GITHUB,
    TIMEOUT,
    access_token,
    approve,
    authorize_params,
    callback,
    exchange,
    parse_token_response,
    query_of,
)


def api(base: str, path: str, token: str, scheme: str = "token") -> requests.Response:
    return requests.get(
        f"{base}/github/api/v3{path}",
        headers={"Authorization": f"{scheme} {token}"},
        timeout=TIMEOUT,
    )


def test_consent_page_offers_the_identities_failures_and_cancel(emulator):
    page = requests.get(
        emulator + GITHUB.authorize_path, params=authorize_params(GITHUB), timeout=TIMEOUT
    )

    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    html = page.text
    assert "<title>GitHub (local emulator) &mdash; Authorize Test GitHub App</title>" in html
    failures_heading = html.index("<h2>Simulate a failure</h2>")
    for identity in ("ada", "grace", "linus"):
        assert html.index(f'name="identity" value="{identity}"') < failures_heading
    for failure in ("token-500", "token-garbage", "token-slow", "token-down", "api-500"):
        assert html.index(f'name="identity" value="{failure}"') > failures_heading
    assert 'name="decision" value="deny"' in html
    assert '<form method="post" action="/github/login/oauth/authorize?' in html


def test_approval_redirects_to_the_callback_with_a_code_and_the_state_unchanged(emulator):
    state = "a state/with?odd&characters="
    response = requests.post(
        emulator + GITHUB.authorize_path,
        params=authorize_params(GITHUB, state=state),
        data={"identity": "ada"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )

    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(callback(GITHUB) + "?")
    query = query_of(location)
    assert query["state"] == state
    assert re.fullmatch(r"[0-9a-f]{20}", query["code"])


def test_token_exchange_with_pkce_answers_form_encoded_by_default(emulator):
    response = exchange(emulator, approve(emulator, GITHUB))

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert response.headers["Cache-Control"] == "no-store"
    token = parse_token_response(response)
    assert re.fullmatch(r"gho_[A-Za-z0-9]{36}", token["access_token"])
    assert token["token_type"] == "bearer"
    assert token["scope"] == "read:user,user:email"


def test_token_exchange_answers_json_when_asked(emulator):
    response = exchange(emulator, approve(emulator, GITHUB), headers={"Accept": "application/json"})

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert set(response.json()) == {"access_token", "token_type", "scope"}


def test_the_client_may_authenticate_with_http_basic(emulator):
    response = exchange(emulator, approve(emulator, GITHUB), basic=True)

    assert "access_token" in parse_token_response(response)


def test_user_api_describes_the_signed_in_person(emulator):
    response = api(emulator, "/user", access_token(emulator, GITHUB, "ada"))

    assert response.status_code == 200
    user = response.json()
    assert user["login"] == "ada"
    assert user["id"] == 1001
    assert user["name"] == "Ada Lovelace"
    assert user["email"] == "ada@example.com"
    assert user["type"] == "User"
    assert user["node_id"] == "MDQ6VXNlcjEwMDE="
    assert response.headers["X-OAuth-Scopes"] == "read:user, user:email"
    for link in ("avatar_url", "html_url"):
        assert user[link].startswith(f"{emulator}/github/")
        assert requests.get(user[link], timeout=TIMEOUT).status_code == 200


def test_user_api_accepts_a_bearer_token_too(emulator):
    token = access_token(emulator, GITHUB, "ada")

    assert api(emulator, "/user", token, scheme="Bearer").json()["login"] == "ada"


@pytest.mark.parametrize(
    ("identity", "profile_email", "emails"),
    [
        (
            "ada",
            "ada@example.com",
            [
                {
                    "email": "ada@example.com",
                    "primary": True,
                    "verified": True,
                    "visibility": "public",
                }
            ],
        ),
        (
            "grace",
            "grace@example.com",
            [
                {
                    "email": "grace@example.com",
                    "primary": True,
                    "verified": False,
                    "visibility": "public",
                }
            ],
        ),
        (
            "linus",
            None,
            [
                {
                    "email": "linus@example.com",
                    "primary": True,
                    "verified": True,
                    "visibility": "private",
                }
            ],
        ),
    ],
)
def test_each_identity_has_its_own_email_situation(emulator, identity, profile_email, emails):
    token = access_token(emulator, GITHUB, identity)

    assert api(emulator, "/user", token).json()["email"] == profile_email
    assert api(emulator, "/user/emails", token).json() == emails


def test_emails_api_answers_404_without_the_user_email_scope(emulator):
    token = access_token(emulator, GITHUB, "ada", scope="read:user")

    response = api(emulator, "/user/emails", token)

    assert response.status_code == 404
    assert response.json()["message"] == "Not Found"


def test_repos_api_lists_the_persons_repositories(emulator):
    response = api(emulator, "/user/repos", access_token(emulator, GITHUB, "linus"))

    assert response.status_code == 200
    repos = response.json()
    assert [repo["full_name"] for repo in repos] == ["linus/tiny-kernel", "linus/content-tracker"]
    assert {repo["owner"]["login"] for repo in repos} == {"linus"}
    assert all(repo["private"] is False for repo in repos)
    assert requests.get(repos[0]["html_url"], timeout=TIMEOUT).status_code == 200


def test_unknown_scopes_are_dropped_like_github_does(emulator):
    flow = approve(emulator, GITHUB, scope="read:user,user:email,not-a-scope")

    assert parse_token_response(exchange(emulator, flow))["scope"] == "read:user,user:email"


def check_token(
    base: str,
    body: Any,
    *,
    auth: tuple[str, str] | None,
    client_id: str = GITHUB.client["client_id"],
) -> requests.Response:
    """POST /applications/{client_id}/token: `body` goes as JSON, or as it is if bytes."""
    sent: dict[str, Any] = {"data": body} if isinstance(body, bytes) else {"json": body}
    return requests.post(
        f"{base}/github/api/v3/applications/{client_id}/token",
        auth=auth,
        timeout=TIMEOUT,
        **sent,
    )


APP_AUTH = (GITHUB.client["client_id"], GITHUB.client["client_secret"])
OTHER_APP_AUTH = (GITHUB.other_client["client_id"], GITHUB.other_client["client_secret"])


def other_app_token(base: str) -> str:
    """An access token issued to GITHUB.other_client."""
    response = exchange(base, approve(base, GITHUB, client=GITHUB.other_client))
    assert response.status_code == 200, response.text
    return parse_token_response(response)["access_token"]


def assert_not_found(response: requests.Response, emulator: str) -> None:
    assert response.status_code == 404
    body = response.json()
    assert body["message"] == "Not Found"
    assert body["status"] == "404"
    assert body["documentation_url"].startswith(f"{emulator}/github/docs#")


def test_check_token_describes_a_token_of_the_checking_app(emulator):
    token = access_token(emulator, GITHUB, "ada")

    response = check_token(emulator, {"access_token": token}, auth=APP_AUTH)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    authorization = response.json()
    assert authorization["app"]["client_id"] == GITHUB.client["client_id"]
    assert authorization["app"]["name"] == "Test GitHub App"
    assert authorization["user"]["login"] == "ada"
    assert authorization["user"] == api(emulator, "/user", token).json()
    assert authorization["scopes"] == ["read:user", "user:email"]
    assert authorization["token"] == token
    assert authorization["token_last_eight"] == token[-8:]
    assert authorization["hashed_token"] == hashlib.sha256(token.encode()).hexdigest()
    assert isinstance(authorization["id"], int)
    assert authorization["url"] == f"{emulator}/github/api/v3/authorizations/{authorization['id']}"
    for timestamp in ("created_at", "updated_at"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", authorization[timestamp])
    for empty in ("note", "note_url", "fingerprint", "expires_at"):
        assert authorization[empty] is None
    again = check_token(emulator, {"access_token": token}, auth=APP_AUTH).json()
    assert again["id"] == authorization["id"]


@pytest.mark.parametrize(
    "auth",
    [
        (GITHUB.client["client_id"], "wrong-secret"),
        (GITHUB.client["client_id"], ""),
        None,
    ],
    ids=["wrong-secret", "empty-secret", "no-credentials"],
)
def test_check_token_without_the_apps_credentials_is_not_found(emulator, auth):
    token = access_token(emulator, GITHUB, "ada")

    assert_not_found(check_token(emulator, {"access_token": token}, auth=auth), emulator)


def test_check_token_with_a_basic_user_other_than_the_path_client_is_not_found(emulator):
    token = other_app_token(emulator)

    response = check_token(emulator, {"access_token": token}, auth=OTHER_APP_AUTH)

    assert_not_found(response, emulator)


def test_check_token_of_another_apps_token_is_not_found(emulator):
    token = other_app_token(emulator)

    response = check_token(emulator, {"access_token": token}, auth=APP_AUTH)

    assert_not_found(response, emulator)
    other_app = check_token(
        emulator,
        {"access_token": token},
        auth=OTHER_APP_AUTH,
        client_id=GITHUB.other_client["client_id"],
    )
    assert other_app.status_code == 200
    assert other_app.json()["app"]["client_id"] == GITHUB.other_client["client_id"]


def test_check_token_of_an_unknown_token_is_not_found(emulator):
    response = check_token(
        emulator, {"access_token": "gho_000000000000000000000000000000000000"}, auth=APP_AUTH
    )

    assert_not_found(response, emulator)


def test_check_token_of_a_revoked_token_is_not_found(emulator):
    flow = approve(emulator, GITHUB)
    token = parse_token_response(exchange(emulator, flow))["access_token"]
    exchange(emulator, flow)  # Replaying the code revokes its tokens.

    assert_not_found(check_token(emulator, {"access_token": token}, auth=APP_AUTH), emulator)


@pytest.mark.parametrize(
    "body",
    [{}, {"access_token": 42}, {"access_token": None}, ["gho_x"], b"access_token=gho_x"],
    ids=["no-access-token", "number", "null", "list", "not-json"],
)
def test_check_token_without_an_access_token_is_invalid(emulator, body):
    response = check_token(emulator, body, auth=APP_AUTH)

    assert response.status_code == 422
    assert response.json()["message"] == "Invalid request."
    assert response.json()["status"] == "422"


def test_check_token_answers_500_for_the_api_500_identity(emulator):
    token = access_token(emulator, GITHUB, "api-500")

    response = check_token(emulator, {"access_token": token}, auth=APP_AUTH)

    assert response.status_code == 500
    assert response.json() == {"message": "Server Error"}
