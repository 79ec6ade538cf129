"""The live demo of "what you can do with an access token": call the provider's API with it."""

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import requests
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.providers.github.views import GitHubOAuth2Adapter
from allauth.socialaccount.providers.google.views import GoogleOAuth2Adapter

from accounts.flow_recording import mask, trimmed


@dataclass(frozen=True)
class ProviderCall:
    """One live call: the request as sent (token masked) and the provider's answer."""

    request_line: str
    authorization: str
    status: int | None
    answer: Any
    error: str | None = None
    # The provider refused the token itself: signing in again gets a new one.
    token_rejected: bool = False


# A 401 from the provider's API ("Bad credentials" from GitHub) means the token is no longer
# good: it expired or was revoked, or the provider restarted (the emulators keep tokens in memory).
REJECTED_BY_PROVIDER = (
    "The provider no longer accepts the access token this site held (HTTP 401): it expired or "
    "was revoked, or the provider was restarted and forgot it. Sign in again to get a new one."
)


def provider_api_url(provider_id: str) -> str | None:
    """The endpoint this demo calls, from the same settings allauth uses (real or emulated)."""
    if provider_id == "github":
        return GitHubOAuth2Adapter.profile_url + "/repos"
    if provider_id == "google":
        return GoogleOAuth2Adapter.identity_url
    return None


def provider_api_call(*, provider_id: str, access_token: str) -> ProviderCall:
    url = provider_api_url(provider_id)
    if url is None:
        return ProviderCall("", "", None, None, error="This provider has no API demo.")
    scheme = "token" if provider_id == "github" else "Bearer"
    authorization = f"{scheme} {mask(access_token)}"
    try:
        with get_adapter().get_requests_session() as session:
            response = session.get(url, headers={"Authorization": f"{scheme} {access_token}"})
    except requests.RequestException:
        return ProviderCall(f"GET {url}", authorization, None, None, error="No answer came back.")
    try:
        answer = trimmed(response.json())
    except ValueError:
        answer = f"(not JSON: {len(response.content)} bytes)"
    if response.status_code == HTTPStatus.UNAUTHORIZED:
        return ProviderCall(
            f"GET {url}",
            authorization,
            response.status_code,
            answer,
            error=REJECTED_BY_PROVIDER,
            token_rejected=True,
        )
    return ProviderCall(f"GET {url}", authorization, response.status_code, answer)
