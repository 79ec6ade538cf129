"""The failure identities: each reproduces a real provider failure at the token step or after."""

import time

import jwt
import pytest
import requests

from tests.emulators.conftest import SLOW_SECONDS
from tests.emulators.oauth import (
    GITHUB,
    GOOGLE,
    TIMEOUT,
    access_token,
    approve,
    exchange,
    parse_token_response,
)


def test_token_500_answers_an_html_server_error(emulator, provider):
    response = exchange(emulator, approve(emulator, provider, "token-500"))

    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<html>" in response.text


def test_token_garbage_answers_200_with_a_body_that_is_not_json(emulator, provider):
    response = exchange(emulator, approve(emulator, provider, "token-garbage"))

    assert response.status_code == 200
    assert response.text == "<html>oops"
    with pytest.raises(requests.JSONDecodeError):
        response.json()
    assert "access_token" not in parse_token_response(response)


def test_token_slow_answers_correctly_but_late(emulator, provider):
    started = time.monotonic()

    response = exchange(emulator, approve(emulator, provider, "token-slow"))

    assert time.monotonic() - started >= SLOW_SECONDS
    assert "access_token" in parse_token_response(response)


def test_token_slow_outlasts_a_short_client_timeout(emulator, provider):
    flow = approve(emulator, provider, "token-slow")

    with pytest.raises(requests.ReadTimeout):
        exchange(emulator, flow, timeout=SLOW_SECONDS / 5)


def test_token_down_closes_the_connection_without_answering(emulator, provider):
    flow = approve(emulator, provider, "token-down")

    with pytest.raises(requests.ConnectionError):
        exchange(emulator, flow)

    (entry,) = requests.get(
        f"{emulator}/_emulator/requests",
        params={"provider": provider.name, "endpoint": "token"},
        timeout=TIMEOUT,
    ).json()[-1:]
    assert entry["status"] is None


@pytest.mark.parametrize("path", ["/user", "/user/emails", "/user/repos"])
def test_api_500_gives_a_token_then_github_api_fails(emulator, path):
    token = access_token(emulator, GITHUB, "api-500")

    response = requests.get(
        f"{emulator}/github/api/v3{path}",
        headers={"Authorization": f"token {token}"},
        timeout=TIMEOUT,
    )

    assert response.status_code == 500
    assert response.json() == {"message": "Server Error"}


@pytest.mark.parametrize("path", ["/oauth2/v2/userinfo", "/oauth2/v3/userinfo"])
def test_api_500_gives_a_token_then_google_userinfo_fails(emulator, path):
    token = access_token(emulator, GOOGLE, "api-500")

    response = requests.get(
        f"{emulator}/google{path}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT,
    )

    assert response.status_code == 500
    assert response.json()["error"]["status"] == "INTERNAL"


def test_google_api_500_id_token_has_no_picture_so_clients_ask_userinfo(emulator):
    response = exchange(emulator, approve(emulator, GOOGLE, "api-500"))

    claims = jwt.decode(response.json()["id_token"], options={"verify_signature": False})

    assert "picture" not in claims
    assert claims["email"] == "api-500@example.com"
