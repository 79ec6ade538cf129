"""The live demo of "what you can do with an access token": call the provider's API with it."""

from dataclasses import dataclass
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
    return ProviderCall(f"GET {url}", authorization, response.status_code, answer)
