"""Token requests the emulators refuse, each in its provider's own error format."""

import pytest
import requests

from tests.emulators.oauth import (
    GITHUB,
    GOOGLE,
    TIMEOUT,
    Flow,
    Provider,
    approve,
    exchange,
    new_pkce,
    parse_token_response,
)


def assert_refused(response: requests.Response, provider: Provider, github: str, google: str):
    """GitHub says 200 with an `error` field; Google says 400/401 with JSON."""
    body = parse_token_response(response)
    assert "access_token" not in body
    if provider is GITHUB:
        assert response.status_code == 200
        assert body["error"] == github
        assert body["error_uri"].startswith("http://localhost:")
    else:
        assert response.status_code in (400, 401)
        assert response.headers["Content-Type"].startswith("application/json")
        assert body["error"] == google
    assert body["error_description"]
    return body


def call_api(base: str, provider: Provider, token: str) -> requests.Response:
    return requests.get(
        base + provider.user_path, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT
    )


def test_wrong_client_secret(emulator, provider):
    response = exchange(emulator, approve(emulator, provider), client_secret="not-the-secret")

    assert_refused(response, provider, "incorrect_client_credentials", "invalid_client")
    if provider is GOOGLE:
        assert response.status_code == 401


def test_wrong_client_secret_over_http_basic(emulator, provider):
    response = exchange(
        emulator, approve(emulator, provider), basic=True, client_secret="not-the-secret"
    )

    assert_refused(response, provider, "incorrect_client_credentials", "invalid_client")


def test_github_errors_are_json_when_asked(emulator):
    response = exchange(
        emulator,
        approve(emulator, GITHUB),
        client_secret="not-the-secret",
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 200
    assert response.json()["error"] == "incorrect_client_credentials"


def test_no_client_credentials(emulator, provider):
    response = exchange(emulator, approve(emulator, provider), client_id=None, client_secret=None)

    assert_refused(response, provider, "incorrect_client_credentials", "invalid_request")


def test_missing_code_verifier(emulator, provider):
    response = exchange(emulator, approve(emulator, provider), code_verifier=None)

    body = assert_refused(response, provider, "bad_verification_code", "invalid_grant")
    assert body["error_description"] == "Missing code verifier."


def test_wrong_code_verifier(emulator, provider):
    wrong, _ = new_pkce()

    response = exchange(emulator, approve(emulator, provider), code_verifier=wrong)

    body = assert_refused(response, provider, "bad_verification_code", "invalid_grant")
    assert body["error_description"] == "Invalid code verifier."


def test_a_verifier_without_a_challenge_at_authorize(emulator, provider):
    verifier, _ = new_pkce()
    flow = approve(emulator, provider, pkce=False)

    response = exchange(emulator, flow, code_verifier=verifier)

    assert_refused(response, provider, "bad_verification_code", "invalid_grant")


def test_without_pkce_on_both_sides_the_exchange_works(emulator, provider):
    response = exchange(emulator, approve(emulator, provider, pkce=False))

    assert "access_token" in parse_token_response(response)


def test_redirect_uri_must_repeat_the_authorization_requests(emulator, provider):
    flow = approve(emulator, provider)
    other_registered = flow.client["redirect_uris"][1]

    response = exchange(emulator, flow, redirect_uri=other_registered)

    assert_refused(response, provider, "redirect_uri_mismatch", "redirect_uri_mismatch")


def test_a_code_issued_to_another_client(emulator, provider):
    flow = approve(emulator, provider)
    other = provider.other_client
    stolen = Flow(
        provider, flow.code, flow.state, flow.verifier, other, flow.redirect_uri, flow.location
    )

    response = exchange(emulator, stolen)

    body = assert_refused(response, provider, "bad_verification_code", "invalid_grant")
    assert "another client" in body["error_description"]


def test_an_unknown_code(emulator, provider):
    response = exchange(emulator, approve(emulator, provider), code="not-a-code")

    assert_refused(response, provider, "bad_verification_code", "invalid_grant")


def test_a_code_from_the_other_provider(emulator):
    github_flow = approve(emulator, GITHUB)
    google_flow = approve(emulator, GOOGLE)

    response = exchange(emulator, google_flow, code=github_flow.code)

    assert_refused(response, GOOGLE, "", "invalid_grant")


def test_a_replayed_code_fails_and_revokes_the_first_token(emulator, provider):
    flow = approve(emulator, provider)
    first = parse_token_response(exchange(emulator, flow))
    assert call_api(emulator, provider, first["access_token"]).status_code == 200

    replay = exchange(emulator, flow)

    body = assert_refused(replay, provider, "bad_verification_code", "invalid_grant")
    assert "revoked" in body["error_description"]
    assert call_api(emulator, provider, first["access_token"]).status_code == 401


@pytest.mark.parametrize(("offset", "accepted"), [(599, True), (600, False), (3600, False)])
def test_codes_live_ten_minutes(emulator, provider, set_clock, offset, accepted):
    flow = approve(emulator, provider)

    set_clock(offset)
    response = exchange(emulator, flow)

    if accepted:
        assert "access_token" in parse_token_response(response)
    else:
        body = assert_refused(response, provider, "bad_verification_code", "invalid_grant")
        assert "expired" in body["error_description"]


def test_google_access_tokens_expire_after_3599_seconds(emulator, set_clock):
    token = parse_token_response(exchange(emulator, approve(emulator, GOOGLE)))["access_token"]

    set_clock(3598)
    assert call_api(emulator, GOOGLE, token).status_code == 200
    set_clock(3600)
    assert call_api(emulator, GOOGLE, token).status_code == 401


def test_google_rejects_other_grant_types(emulator):
    response = exchange(emulator, approve(emulator, GOOGLE), grant_type="refresh_token")

    assert_refused(response, GOOGLE, "", "unsupported_grant_type")


def test_google_requires_code_and_redirect_uri(emulator):
    flow = approve(emulator, GOOGLE)

    for missing in ("code", "redirect_uri"):
        response = exchange(emulator, flow, **{missing: None})
        body = assert_refused(response, GOOGLE, "", "invalid_request")
        assert missing in body["error_description"]


def test_token_endpoints_accept_post_only(emulator, provider):
    response = requests.get(emulator + provider.token_path, timeout=TIMEOUT)

    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
