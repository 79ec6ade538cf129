"""Authorization requests the emulators refuse: by error page, or by redirect with an error."""

import pytest
import requests

from tests.emulators.oauth import (
    GITHUB,
    GOOGLE,
    TIMEOUT,
    Provider,
    approve,
    authorize_params,
    callback,
    exchange,
    new_pkce,
    query_of,
)


def authorize(
    base: str, provider: Provider, method: str = "GET", **changes: str | None
) -> requests.Response:
    return requests.request(
        method,
        base + provider.authorize_path,
        params=authorize_params(provider, **changes),
        data={"identity": provider.identity} if method == "POST" else None,
        allow_redirects=False,
        timeout=TIMEOUT,
    )


def redirected_error(response: requests.Response, provider: Provider) -> dict[str, str]:
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(callback(provider) + "?")
    query = query_of(location)
    assert "code" not in query
    return query


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unknown_client_gets_an_error_page_and_no_redirect(emulator, provider, method):
    response = authorize(emulator, provider, method, client_id="nobody")

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "invalid_client" in response.text


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://127.0.0.1:8000/accounts/{provider}/login/callback",
        "http://localhost:8000/accounts/{provider}/login/callback/",
        "http://127.0.0.1:8000/accounts/{provider}/login/callback/?next=/admin/",
        "http://127.0.0.1:8000/accounts/{provider}/login/callback/extra/",
        "https://attacker.example/accounts/{provider}/login/callback/",
        "",
    ],
)
def test_a_redirect_uri_not_registered_exactly_is_never_redirected_to(
    emulator, provider, method, redirect_uri
):
    response = authorize(
        emulator, provider, method, redirect_uri=redirect_uri.format(provider=provider.name)
    )

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "redirect_uri_mismatch" in response.text


def test_a_loopback_redirect_uri_registered_without_a_port_matches_any_port(emulator, provider):
    """RFC 8252 section 7.3: a native app listens on a port it picks at run time."""
    on_a_port = {**provider.client, "redirect_uris": ["http://127.0.0.1:54321/native/callback"]}

    flow = approve(emulator, provider, client=on_a_port)

    assert flow.location.startswith("http://127.0.0.1:54321/native/callback?")
    assert exchange(emulator, flow).status_code == 200


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://localhost:54321/native/callback",
        "http://127.0.0.2:54321/native/callback",
        "https://127.0.0.1:54321/native/callback",
        "http://127.0.0.1:54321/native/callback/extra",
        "http://127.0.0.1:54321/native/callback?next=/",
    ],
)
def test_only_the_port_of_a_loopback_redirect_uri_may_change(emulator, provider, redirect_uri):
    response = authorize(emulator, provider, redirect_uri=redirect_uri)

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "redirect_uri_mismatch" in response.text


def test_another_clients_redirect_uri_is_refused(emulator, provider):
    other = provider.other_client["redirect_uris"][1]

    response = authorize(emulator, provider, redirect_uri=other)

    assert response.status_code == 400
    assert "Location" not in response.headers


def test_a_repeated_redirect_uri_is_refused_without_redirect(emulator, provider):
    params = list(authorize_params(provider).items())
    params.append(("redirect_uri", "https://attacker.example/"))

    response = requests.get(
        emulator + provider.authorize_path, params=params, allow_redirects=False, timeout=TIMEOUT
    )

    assert response.status_code == 400
    assert "Location" not in response.headers


@pytest.mark.parametrize("method", ["plain", None])
def test_pkce_plain_is_rejected(emulator, provider, method):
    verifier, _ = new_pkce()

    response = authorize(
        emulator, provider, code_challenge=verifier[:43], code_challenge_method=method, state="s1"
    )

    query = redirected_error(response, provider)
    assert query["error"] == "invalid_request"
    assert "S256" in query["error_description"]
    assert query["state"] == "s1"


def test_a_malformed_challenge_is_rejected(emulator, provider):
    response = authorize(emulator, provider, code_challenge="short", code_challenge_method="S256")

    assert redirected_error(response, provider)["error"] == "invalid_request"


def test_a_request_without_state_is_rejected(emulator, provider):
    response = authorize(emulator, provider, state=None)

    query = redirected_error(response, provider)
    assert query["error"] == "invalid_request"
    assert "state" in query["error_description"]
    assert "state" not in query


def test_approving_needs_a_known_identity(emulator, provider):
    response = requests.post(
        emulator + provider.authorize_path,
        params=authorize_params(provider),
        data={"identity": "mallory"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )

    assert response.status_code == 400
    assert "Location" not in response.headers


def test_cancel_redirects_with_access_denied_and_the_state(emulator, provider):
    response = requests.post(
        emulator + provider.authorize_path,
        params=authorize_params(provider, state="keep-me"),
        data={"decision": "deny"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )

    query = redirected_error(response, provider)
    assert query["error"] == "access_denied"
    assert query["error_description"]
    assert query["state"] == "keep-me"
    if provider is GITHUB:
        assert query["error_uri"].startswith(f"{emulator}/github/docs#")
    else:
        assert "error_uri" not in query


def test_github_error_uri_resolves_locally(emulator):
    response = authorize(emulator, GITHUB, state=None)
    error_uri = query_of(response.headers["Location"])["error_uri"]

    page = requests.get(error_uri, timeout=TIMEOUT)

    assert page.status_code == 200
    assert 'id="invalid_request"' in page.text


def test_google_requires_response_type_code(emulator):
    missing = authorize(emulator, GOOGLE, response_type=None)
    token = authorize(emulator, GOOGLE, response_type="token")

    assert redirected_error(missing, GOOGLE)["error"] == "invalid_request"
    assert redirected_error(token, GOOGLE)["error"] == "unsupported_response_type"


def test_google_requires_known_scopes(emulator):
    missing = authorize(emulator, GOOGLE, scope=None)
    unknown = authorize(emulator, GOOGLE, scope="openid https://www.googleapis.com/auth/drive")

    assert redirected_error(missing, GOOGLE)["error"] == "invalid_request"
    assert redirected_error(unknown, GOOGLE)["error"] == "invalid_scope"


def test_google_prompt_none_needs_a_session_the_emulator_never_has(emulator):
    response = authorize(emulator, GOOGLE, prompt="none")

    assert redirected_error(response, GOOGLE)["error"] == "login_required"


def test_github_does_not_require_response_type(emulator):
    response = authorize(emulator, GITHUB, "POST")

    assert "code" in query_of(response.headers["Location"])
