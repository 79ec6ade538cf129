"""API calls without a valid token: 401 in each provider's own shape."""

import pytest
import requests

from tests.emulators.oauth import GITHUB, GOOGLE, TIMEOUT, access_token


def get(url: str, authorization: str | None = None) -> requests.Response:
    headers = {"Authorization": authorization} if authorization else {}
    return requests.get(url, headers=headers, timeout=TIMEOUT)


@pytest.mark.parametrize("path", ["/user", "/user/emails", "/user/repos"])
@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (None, "Requires authentication"),
        ("token gho_000000000000000000000000000000000000", "Bad credentials"),
        ("Bearer not-a-token", "Bad credentials"),
        ("Basic dXNlcjpwYXNz", "Requires authentication"),
    ],
)
def test_github_api_without_a_valid_token(emulator, path, authorization, message):
    response = get(f"{emulator}/github/api/v3{path}", authorization)

    assert response.status_code == 401
    body = response.json()
    assert body["message"] == message
    assert body["documentation_url"].startswith(f"{emulator}/github/docs#")


def test_a_google_token_is_no_github_token(emulator):
    token = access_token(emulator, GOOGLE)

    assert get(f"{emulator}/github/api/v3/user", f"token {token}").status_code == 401


@pytest.mark.parametrize("path", ["/oauth2/v2/userinfo", "/oauth2/v3/userinfo"])
def test_google_userinfo_without_a_token(emulator, path):
    response = get(f"{emulator}/google{path}")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == 401
    assert response.json()["error"]["status"] == "UNAUTHENTICATED"
    assert response.headers["WWW-Authenticate"] == f'Bearer realm="{emulator}/google"'


@pytest.mark.parametrize("path", ["/oauth2/v2/userinfo", "/oauth2/v3/userinfo"])
def test_google_userinfo_with_an_unknown_token(emulator, path):
    response = get(f"{emulator}/google{path}", "Bearer ya29.unknown")

    assert response.status_code == 401
    assert response.json()["error"]["status"] == "UNAUTHENTICATED"
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_github_token_is_no_google_token(emulator):
    token = access_token(emulator, GITHUB)

    assert get(f"{emulator}/google/oauth2/v3/userinfo", f"Bearer {token}").status_code == 401
