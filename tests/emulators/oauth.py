"""A minimal OAuth 2.0 client for driving the emulators over HTTP in tests."""

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import requests

TIMEOUT = 5.0
NATIVE_REDIRECT_URI = "http://127.0.0.1/native/callback"


@dataclass(frozen=True)
class Provider:
    """One emulated provider as a client sees it, with the applications the tests register."""

    name: str
    authorize_path: str
    token_path: str
    user_path: str
    client: dict[str, Any]
    other_client: dict[str, Any]
    identity: str
    scope: str
    extra_params: dict[str, str] = field(default_factory=dict)


def _client(provider: str, client_id: str, name: str | None = None) -> dict[str, Any]:
    client: dict[str, Any] = {
        "provider": provider,
        "client_id": client_id,
        "client_secret": f"{client_id}-secret",
        "redirect_uris": [
            f"http://127.0.0.1:8000/accounts/{provider}/login/callback/",
            f"http://127.0.0.1:8000/accounts/oidc/{client_id}/login/callback/",
            # A native app's loopback redirect, registered without a port (RFC 8252 section 7.3).
            NATIVE_REDIRECT_URI,
        ],
    }
    if name:
        client["name"] = name
    return client


GITHUB = Provider(
    name="github",
    authorize_path="/github/login/oauth/authorize",
    token_path="/github/login/oauth/access_token",
    user_path="/github/api/v3/user",
    client=_client("github", "test-github-app", "Test GitHub App"),
    other_client=_client("github", "other-github-app"),
    identity="ada",
    scope="read:user user:email",
)
GOOGLE = Provider(
    name="google",
    authorize_path="/google/o/oauth2/v2/auth",
    token_path="/google/token",
    user_path="/google/oauth2/v3/userinfo",
    client=_client("google", "test-google-app.apps.example.com", "Test Google App"),
    other_client=_client("google", "other-google-app.apps.example.com"),
    identity="alan",
    scope="openid email profile",
    extra_params={"response_type": "code"},
)
PROVIDERS = (GITHUB, GOOGLE)
CLIENTS = [client for p in PROVIDERS for client in (p.client, p.other_client)]


def new_pkce() -> tuple[str, str]:
    """A (code_verifier, S256 code_challenge) pair, computed as RFC 7636 §4.2 says."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def callback(provider: Provider, client: dict[str, Any] | None = None) -> str:
    return (client or provider.client)["redirect_uris"][0]


def authorize_params(provider: Provider, **changes: str | None) -> dict[str, str]:
    """Authorization parameters for the provider's test app; a change of None drops one."""
    params: dict[str, str | None] = {
        "client_id": provider.client["client_id"],
        "redirect_uri": callback(provider),
        "scope": provider.scope,
        "state": secrets.token_urlsafe(16),
        **provider.extra_params,
    }
    params.update(changes)
    return {name: value for name, value in params.items() if value is not None}


def query_of(url: str) -> dict[str, str]:
    """The query parameters of `url`, one value each."""
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


@dataclass(frozen=True)
class Flow:
    """An approved authorization: the code, and what the token request must repeat."""

    provider: Provider
    code: str
    state: str
    verifier: str | None
    client: dict[str, Any]
    redirect_uri: str
    location: str


def approve(
    base: str,
    provider: Provider,
    identity: str | None = None,
    *,
    pkce: bool = True,
    client: dict[str, Any] | None = None,
    **changes: str | None,
) -> Flow:
    """Approve as `identity` on the consent page and return the flow the redirect started."""
    client = client or provider.client
    verifier, challenge = new_pkce() if pkce else (None, None)
    params = authorize_params(
        provider,
        client_id=client["client_id"],
        redirect_uri=callback(provider, client),
        code_challenge=challenge,
        code_challenge_method="S256" if pkce else None,
        **changes,
    )
    response = requests.post(
        base + provider.authorize_path,
        params=params,
        data={"identity": identity or provider.identity},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    query = query_of(location)
    assert query["state"] == params["state"]
    return Flow(
        provider=provider,
        code=query["code"],
        state=query["state"],
        verifier=verifier,
        client=client,
        redirect_uri=params["redirect_uri"],
        location=location,
    )


def exchange(
    base: str,
    flow: Flow,
    *,
    basic: bool = False,
    headers: dict[str, str] | None = None,
    timeout: float = TIMEOUT,
    **changes: str | None,
) -> requests.Response:
    """POST the token request for `flow`, as allauth does; a change of None drops a field."""
    data: dict[str, str | None] = {
        "grant_type": "authorization_code",
        "code": flow.code,
        "redirect_uri": flow.redirect_uri,
        "client_id": flow.client["client_id"],
        "client_secret": flow.client["client_secret"],
        "code_verifier": flow.verifier,
    }
    data.update(changes)
    auth = None
    if basic:
        auth = (data.pop("client_id") or "", data.pop("client_secret") or "")
    return requests.post(
        base + flow.provider.token_path,
        data={name: value for name, value in data.items() if value is not None},
        auth=auth,
        headers=headers,
        timeout=timeout,
    )


def parse_token_response(response: requests.Response) -> dict[str, Any]:
    """Read a token response the way allauth's OAuth2Client does: JSON, else form-encoded."""
    content_type = response.headers.get("Content-Type", "").split(";")[0]
    if content_type == "application/json" or response.text[:2] == '{"':
        return json.loads(response.text)
    return dict(parse_qsl(response.text))


def access_token(base: str, provider: Provider, identity: str | None = None, **changes: str) -> str:
    """Run a whole flow as `identity` and return the access token."""
    response = exchange(base, approve(base, provider, identity, **changes))
    assert response.status_code == 200, response.text
    return parse_token_response(response)["access_token"]
