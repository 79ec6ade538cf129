"""The emulator's own endpoints: index, health, request log and clock; and its routing."""

import json

import requests

from tests.emulators.oauth import GITHUB, GOOGLE, TIMEOUT, approve, exchange


def test_health(emulator):
    response = requests.get(f"{emulator}/_emulator/health", timeout=TIMEOUT)

    assert response.status_code == 200
    health = response.json()
    assert isinstance(health.pop("pid"), int)
    assert health == {
        "status": "ok",
        "providers": ["github", "google"],
        "clients": 4,
        "public_url": emulator,
    }


def test_index_page(emulator):
    response = requests.get(f"{emulator}/", timeout=TIMEOUT)

    assert response.status_code == 200
    assert "/google/.well-known/openid-configuration" in response.text


def test_a_favicon_so_browsers_log_no_404_on_consent_pages(emulator):
    response = requests.get(f"{emulator}/favicon.ico", timeout=TIMEOUT)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/svg+xml"


def test_unknown_paths_and_methods(emulator):
    missing = requests.get(f"{emulator}/nowhere", timeout=TIMEOUT)
    wrong_method = requests.delete(f"{emulator}/_emulator/health", timeout=TIMEOUT)
    unsupported = requests.put(f"{emulator}/_emulator/health", timeout=TIMEOUT)

    assert missing.status_code == 404
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Allow"] == "GET"
    assert unsupported.status_code == 501


def test_request_log_shows_pkce_and_client_authentication_without_secrets(emulator):
    requests.delete(f"{emulator}/_emulator/requests", timeout=TIMEOUT).raise_for_status()
    flow = approve(emulator, GITHUB)
    response = exchange(emulator, flow, basic=True)
    token = dict(part.split("=", 1) for part in response.text.split("&"))["access_token"]

    log = requests.get(f"{emulator}/_emulator/requests", timeout=TIMEOUT)

    authorize, token_request = log.json()
    assert authorize["provider"] == "github"
    assert authorize["endpoint"] == "authorize"
    assert authorize["method"] == "POST"
    assert authorize["params"]["code_challenge_method"] == "S256"
    assert authorize["params"]["state"] == "[masked]"
    assert authorize["status"] == 302
    assert token_request["endpoint"] == "token"
    assert token_request["path"] == GITHUB.token_path
    assert token_request["client_authentication"] == "client_secret_basic"
    assert token_request["params"]["code_verifier"] == "[masked]"
    assert token_request["params"]["code"] == "[masked]"
    assert token_request["status"] == 200
    for secret in (flow.code, flow.verifier, flow.state, token, GITHUB.client["client_secret"]):
        assert secret not in log.text


def test_request_log_filters_and_forgets(emulator):
    exchange(emulator, approve(emulator, GOOGLE))
    url = f"{emulator}/_emulator/requests"

    google_tokens = requests.get(
        url, params={"provider": "google", "endpoint": "token"}, timeout=TIMEOUT
    ).json()
    assert google_tokens
    assert {(e["provider"], e["endpoint"]) for e in google_tokens} == {("google", "token")}
    assert google_tokens[-1]["client_authentication"] == "client_secret_post"
    assert google_tokens[-1]["params"]["client_secret"] == "[masked]"

    assert requests.delete(url, timeout=TIMEOUT).status_code == 204
    assert requests.get(url, timeout=TIMEOUT).json() == []


def test_clock_can_be_shifted_and_reset(emulator, set_clock):
    url = f"{emulator}/_emulator/clock"

    set_clock(601)
    assert requests.get(url, timeout=TIMEOUT).json()["offset_seconds"] == 601
    set_clock(0)
    assert requests.get(url, timeout=TIMEOUT).json()["offset_seconds"] == 0


def test_clock_accepts_json_numbers_only(emulator):
    url = f"{emulator}/_emulator/clock"

    form = requests.post(url, data={"offset_seconds": "601"}, timeout=TIMEOUT)
    text = requests.post(
        url,
        data=json.dumps({"offset_seconds": "601"}),
        headers={"Content-Type": "application/json"},
        timeout=TIMEOUT,
    )

    assert form.status_code == 415
    assert text.status_code == 400
    assert requests.get(url, timeout=TIMEOUT).json()["offset_seconds"] == 0
