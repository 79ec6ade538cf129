"""allauth's GitHub provider, plus sign-in with a GitHub access token an app already holds.

An app (mobile, desktop) that ran GitHub's OAuth flow itself hands its access token to allauth
headless (`POST /_allauth/app/v1/auth/provider/token`, `token: {client_id, access_token}`).
allauth's own GitHub provider refuses that: a bare GitHub token says nothing about which
application it was issued to, so a token any other GitHub app obtained (a game, a malicious
extension) would sign its holder in here. This provider first asks GitHub whether the token
belongs to the app that names itself, with GitHub's application-token API
(`POST /applications/{client_id}/token`, authenticated as that app, which only whoever holds the
app's secret can do), then reads the person as allauth always does (/user, /user/emails).

The app is one of the hidden GitHub applications (config.settings.providers): allauth finds it by
the `client_id` the app names, and the check runs with its secret. Selected by
SOCIALACCOUNT_PROVIDERS["github"]["provider_class"]; URLs stay allauth's (`package`).
"""

from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import requests
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialLogin, SocialToken
from allauth.socialaccount.providers.github.provider import GitHubProvider as AllauthGitHub
from allauth.socialaccount.providers.github.views import GitHubOAuth2Adapter
from django.http import HttpRequest


class GitHubProvider(AllauthGitHub):
    package = "allauth.socialaccount.providers.github"
    supports_token_authentication = True

    def verify_token(self, request: HttpRequest, token: dict[str, Any]) -> SocialLogin:
        """The person a GitHub access token of this app stands for; `invalid_token` when GitHub
        does not know the token as this app's, or cannot be asked (down, garbage)."""
        access_token = token.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise get_adapter().validation_error("invalid_token")
        adapter = GitHubOAuth2Adapter(request)
        try:
            if not self._issued_to_app(adapter.api_url, access_token):
                raise get_adapter().validation_error("invalid_token")
            social_token = SocialToken(app=self.app, token=access_token)
            login = adapter.complete_login(request, self.app, social_token)
        except (requests.RequestException, ValueError, KeyError, TypeError) as error:
            raise get_adapter().validation_error("invalid_token") from error
        # complete_login builds the login on the site's visible application; it is this app's.
        login.provider = self
        return login

    def _issued_to_app(self, api_url: str, access_token: str) -> bool:
        """GitHub's answer on whether `access_token` was issued to this app (and is live)."""
        app = self.app
        with get_adapter().get_requests_session() as session:
            response = session.post(
                f"{api_url}/applications/{quote(app.client_id, safe='')}/token",
                auth=(app.client_id, app.secret),
                json={"access_token": access_token},
                headers={"Accept": "application/vnd.github+json"},
            )
        if response.status_code in (HTTPStatus.NOT_FOUND, HTTPStatus.UNPROCESSABLE_ENTITY):
            return False
        response.raise_for_status()
        answer = response.json()
        return isinstance(answer, dict) and (answer.get("app") or {}).get("client_id") == (
            app.client_id
        )
