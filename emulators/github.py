"""The GitHub emulator: OAuth app authorization, token exchange and the REST API it guards."""

import base64
import hashlib
import json
import re
import secrets
import string
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from emulators.authorization import AuthorizationEndpoint
from emulators.avatars import avatar_response
from emulators.clients import Client, ClientRegistry, authentication_method
from emulators.failures import Failure, token_step
from emulators.identities import GITHUB_IDENTITIES, GitHubIdentity, github_identity
from emulators.options import Options
from emulators.pages import Brand, Choice, definition_page
from emulators.store import AccessToken, CodeRejectedError, Grant, Rejection, Store
from emulators.web import (
    Request,
    Response,
    Route,
    form_response,
    html_response,
    json_response,
    route,
)

PROVIDER = "github"
BRAND = Brand("GitHub", "#24292f")
# Scopes GitHub knows and the emulator grants; GitHub drops unknown ones instead of failing.
KNOWN_SCOPES = ("read:user", "user:email", "user", "public_repo", "repo")
_TOKEN_ALPHABET = string.ascii_letters + string.digits

# The error codes explained at /github/docs, where error_uri and documentation_url point
# (the emulator's own page, so no answer sends anyone to github.com).
_ERRORS = {
    "incorrect_client_credentials": "The client_id and/or client_secret passed are incorrect.",
    "redirect_uri_mismatch": (
        "The redirect_uri MUST match the registered callback URL for this application."
    ),
    "bad_verification_code": "The code passed is incorrect or expired.",
    "unsupported_grant_type": "Only the authorization_code grant is supported.",
    "access_denied": "The user has denied your application access.",
    "invalid_request": "The authorization request was malformed.",
    "unsupported_response_type": "Only response_type=code is supported.",
    "bad-credentials": "The API was called with an unknown, revoked or expired token.",
    "requires-authentication": "The API was called without an Authorization header.",
    "not-found": "The token lacks the scope this API needs (user:email for /user/emails).",
    "check-token-not-found": (
        "Check a token: the HTTP Basic credentials are not this application's client_id and"
        " client_secret, or the token is unknown, revoked or another application's."
    ),
    "check-token-invalid": 'Check a token: the body must be JSON {"access_token": "..."}.',
}


def _new_token() -> str:
    # Real OAuth app tokens: "gho_" and 36 base62 characters.
    return "gho_" + "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(36))


class GitHubAuthorization(AuthorizationEndpoint):
    provider = PROVIDER
    brand = BRAND

    def parse_scope(self, scope: str) -> tuple[str, ...]:
        requested = [item for item in re.split(r"[\s,]+", scope) if item]
        return tuple(dict.fromkeys(item for item in requested if item in KNOWN_SCOPES))

    def error_extras(self, error: str) -> Mapping[str, str]:
        return {"error_uri": f"{self.options.public_url}/github/docs#{error}"}

    def identity_choices(self) -> list[Choice]:
        return [
            Choice(person.key, person.name, _email_summary(person))
            for person in GITHUB_IDENTITIES
            if person.failure is None
        ]

    def failure_choices(self) -> list[Choice]:
        return [
            Choice(person.key, person.key, person.failure.description)
            for person in GITHUB_IDENTITIES
            if person.failure is not None
        ]

    def has_identity(self, key: str) -> bool:
        return github_identity(key) is not None

    def new_code(self) -> str:
        # GitHub's codes are 20 hexadecimal digits.
        return secrets.token_hex(10)


def _email_summary(person: GitHubIdentity) -> str:
    primary = next(email for email in person.emails if email.primary)
    status = "verified" if primary.verified else "unverified"
    shown = "public on profile" if person.public_email else "hidden from profile"
    return f"@{person.login} · {primary.email} ({status}, {shown})"


class GitHubEmulator:
    """Routes for github.com's OAuth endpoints and api.github.com, under /github."""

    def __init__(self, *, options: Options, clients: ClientRegistry, store: Store) -> None:
        self._options = options
        self._clients = clients
        self._store = store
        self._web_url = f"{options.public_url}/github"
        self._api_url = f"{self._web_url}/api/v3"
        self._authorization = GitHubAuthorization(options=options, clients=clients, store=store)
        # When each access token was issued, for the created_at of "Check a token".
        self._issued_at: dict[str, float] = {}

    def routes(self) -> list[Route]:
        return [
            route(
                "GET POST",
                r"/github/login/oauth/authorize",
                self._authorization,
                recorded_as=(PROVIDER, "authorize"),
            ),
            route(
                "POST",
                r"/github/login/oauth/access_token",
                self.token,
                recorded_as=(PROVIDER, "token"),
            ),
            route("GET", r"/github/api/v3/user", self.user),
            route("GET", r"/github/api/v3/user/emails", self.emails),
            route("GET", r"/github/api/v3/user/repos", self.repos),
            route(
                "POST",
                r"/github/api/v3/applications/(?P<client_id>[A-Za-z0-9._-]+)/token",
                self.check_token,
            ),
            route("GET", r"/github/avatars/u/(?P<user_id>\d+)", self.avatar),
            route("GET", r"/github/docs", self.docs),
            route("GET", r"/github/(?P<login>[A-Za-z0-9-]+)", self.profile),
            route("GET", r"/github/(?P<login>[A-Za-z0-9-]+)/(?P<name>[A-Za-z0-9._-]+)", self.repo),
        ]

    def _docs_url(self, anchor: str) -> str:
        return f"{self._web_url}/docs#{anchor}"

    # Token endpoint: https://docs.github.com/apps/oauth-apps (web application flow, step 2).

    def token(self, request: Request) -> Response:
        """Exchange a code: errors come as HTTP 200 with an `error` field, as on GitHub."""
        wants_json = "application/json" in request.header("Accept")
        form = request.form
        if form.get("grant_type") not in (None, "authorization_code"):
            return self._token_error("unsupported_grant_type", wants_json)
        client = self._clients.authenticate(PROVIDER, request)
        if not isinstance(client, Client):
            return self._token_error("incorrect_client_credentials", wants_json)
        code = form.get("code", "")
        try:
            grant = self._store.redeem_code(
                code,
                provider=PROVIDER,
                client_id=client.client_id,
                redirect_uri=form.get("redirect_uri"),
                code_verifier=form.get("code_verifier"),
            )
        except CodeRejectedError as rejected:
            if rejected.reason is Rejection.REDIRECT_URI_MISMATCH:
                return self._token_error("redirect_uri_mismatch", wants_json)
            return self._token_error(
                "bad_verification_code", wants_json, rejected.reason.description
            )
        person = github_identity(grant.identity)

        def answer() -> Response:
            token = self._store.add_token(
                _new_token(), code=code, grant=grant, lifetime_seconds=None
            )
            self._issued_at[token.value] = time.time()
            body = {
                "access_token": token.value,
                "token_type": "bearer",
                "scope": ",".join(grant.scope),
            }
            return self._token_format(body, wants_json)

        return token_step(
            person.failure if person else None,
            label=BRAND.label,
            slow_seconds=self._options.slow_seconds,
            answer=answer,
        )

    def _token_error(
        self, error: str, wants_json: bool, description: str | None = None
    ) -> Response:
        body = {
            "error": error,
            "error_description": description or _ERRORS[error],
            "error_uri": self._docs_url(error),
        }
        return self._token_format(body, wants_json)

    def _token_format(self, body: dict[str, str], wants_json: bool) -> Response:
        # GitHub answers form-encoded unless asked for JSON; allauth asks for neither.
        response = json_response(body) if wants_json else form_response(body)
        response.headers.update({"Cache-Control": "no-store", "Pragma": "no-cache"})
        return response

    # REST API.

    def _authenticate(self, request: Request) -> tuple[Grant, GitHubIdentity] | Response:
        value = request.token("token", "bearer")
        if value is None:
            return self._api_error(401, "Requires authentication", "requires-authentication")
        token = self._store.find_token(PROVIDER, value)
        person = github_identity(token.grant.identity) if token else None
        if token is None or person is None:
            return self._api_error(401, "Bad credentials", "bad-credentials")
        if person.failure is Failure.API_500:
            return json_response({"message": "Server Error"}, 500)
        return token.grant, person

    def _api_error(self, status: int, message: str, anchor: str) -> Response:
        return json_response(
            {
                "message": message,
                "documentation_url": self._docs_url(anchor),
                "status": str(status),
            },
            status,
        )

    def _api_response(self, data: Any, grant: Grant) -> Response:
        return json_response(
            data,
            headers={
                "X-OAuth-Scopes": ", ".join(grant.scope),
                "X-GitHub-Media-Type": "github.v3; format=json",
                "Cache-Control": "private, max-age=60",
            },
        )

    def user(self, request: Request) -> Response:
        authenticated = self._authenticate(request)
        if isinstance(authenticated, Response):
            return authenticated
        grant, person = authenticated
        return self._api_response(self._user_json(person), grant)

    def emails(self, request: Request) -> Response:
        """GitHub answers 404, not 403, when the token lacks user:email (or user)."""
        authenticated = self._authenticate(request)
        if isinstance(authenticated, Response):
            return authenticated
        grant, person = authenticated
        if not {"user:email", "user"} & set(grant.scope):
            return self._api_error(404, "Not Found", "not-found")
        emails = [
            {
                "email": email.email,
                "primary": email.primary,
                "verified": email.verified,
                "visibility": email.visibility,
            }
            for email in person.emails
        ]
        return self._api_response(emails, grant)

    def repos(self, request: Request) -> Response:
        authenticated = self._authenticate(request)
        if isinstance(authenticated, Response):
            return authenticated
        grant, person = authenticated
        return self._api_response(self._repos_json(person), grant)

    # OAuth app endpoints: https://docs.github.com/rest/apps/oauth-applications.

    def check_token(self, request: Request, client_id: str) -> Response:
        """Check a token: the app proves itself with HTTP Basic client_id:client_secret.

        GitHub answers 404 Not Found, not 401, when those credentials are wrong or missing,
        and also when the token is unknown, revoked or issued to another application; a body
        without an access_token string is 422 Invalid request.
        """
        client = self._clients.authenticate(PROVIDER, request)
        if (
            authentication_method(request) != "client_secret_basic"
            or not isinstance(client, Client)
            or client.client_id != client_id
        ):
            return self._api_error(404, "Not Found", "check-token-not-found")
        try:
            body = json.loads(request.body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            body = None
        value = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(value, str):
            return self._api_error(422, "Invalid request.", "check-token-invalid")
        token = self._store.find_token(PROVIDER, value)
        person = github_identity(token.grant.identity) if token else None
        if token is None or person is None or token.grant.client_id != client.client_id:
            return self._api_error(404, "Not Found", "check-token-not-found")
        if person.failure is Failure.API_500:
            return json_response({"message": "Server Error"}, 500)
        return json_response(self._authorization_json(token, client, person))

    def _authorization_json(
        self, token: AccessToken, client: Client, person: GitHubIdentity
    ) -> dict[str, Any]:
        # GitHub's authorization object; its id is a number, here derived from the token.
        digest = hashlib.sha256(token.value.encode()).hexdigest()
        authorization_id = int(digest[:8], 16)
        issued = _iso8601(self._issued_at.get(token.value, time.time()))
        homepage = urlsplit(client.redirect_uris[0])
        return {
            "id": authorization_id,
            "url": f"{self._api_url}/authorizations/{authorization_id}",
            "scopes": list(token.grant.scope),
            "token": token.value,
            "token_last_eight": token.value[-8:],
            "hashed_token": digest,
            "app": {
                "client_id": client.client_id,
                "name": client.name,
                "url": f"{homepage.scheme}://{homepage.netloc}",
            },
            "note": None,
            "note_url": None,
            "updated_at": issued,
            "created_at": issued,
            "fingerprint": None,
            "expires_at": None,
            "user": self._user_json(person),
        }

    def _user_json(self, person: GitHubIdentity) -> dict[str, Any]:
        api_user = f"{self._api_url}/users/{person.login}"
        return {
            "login": person.login,
            "id": person.id,
            "node_id": _node_id("04:User", person.id),
            "avatar_url": f"{self._web_url}/avatars/u/{person.id}?v=4",
            "gravatar_id": "",
            "url": api_user,
            "html_url": f"{self._web_url}/{person.login}",
            "followers_url": f"{api_user}/followers",
            "repos_url": f"{api_user}/repos",
            "type": "User",
            "user_view_type": "public",
            "site_admin": False,
            "name": person.name,
            "company": None,
            "blog": "",
            "location": person.location,
            "email": person.public_email,
            "hireable": None,
            "bio": person.bio,
            "twitter_username": None,
            "notification_email": person.public_email,
            "public_repos": len(person.repos),
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "created_at": "2011-01-25T18:44:36Z",
            "updated_at": "2025-01-01T00:00:00Z",
        }

    def _repos_json(self, person: GitHubIdentity) -> list[dict[str, Any]]:
        owner = {
            key: self._user_json(person)[key]
            for key in ("login", "id", "node_id", "avatar_url", "url", "html_url", "type")
        }
        repos = []
        for number, repo in enumerate(person.repos, 1):
            repo_id = person.id * 1000 + number
            full_name = f"{person.login}/{repo.name}"
            repos.append(
                {
                    "id": repo_id,
                    "node_id": _node_id("010:Repository", repo_id),
                    "name": repo.name,
                    "full_name": full_name,
                    "private": False,
                    "owner": owner,
                    "html_url": f"{self._web_url}/{full_name}",
                    "description": repo.description,
                    "fork": False,
                    "url": f"{self._api_url}/repos/{full_name}",
                    "created_at": "2012-03-01T12:00:00Z",
                    "updated_at": "2025-01-01T00:00:00Z",
                    "pushed_at": "2025-01-01T00:00:00Z",
                    "homepage": None,
                    "size": 128,
                    "stargazers_count": repo.stars,
                    "watchers_count": repo.stars,
                    "language": repo.language,
                    "forks_count": 0,
                    "archived": False,
                    "disabled": False,
                    "open_issues_count": 0,
                    "license": None,
                    "topics": [],
                    "visibility": "public",
                    "default_branch": "main",
                    "permissions": {"admin": True, "push": True, "pull": True},
                }
            )
        return repos

    # Pages a browser may follow from the data above.

    def avatar(self, request: Request, user_id: str) -> Response:
        person = next((p for p in GITHUB_IDENTITIES if p.id == int(user_id)), None)
        if person is None:
            return json_response({"message": "Not Found"}, 404)
        return avatar_response(person.name)

    def profile(self, request: Request, login: str) -> Response:
        person = next((p for p in GITHUB_IDENTITIES if p.login == login), None)
        if person is None:
            return html_response(
                definition_page(BRAND, title="Not Found", intro=f"No user {login}.", rows=[]), 404
            )
        rows = [
            ("Login", person.login),
            ("Name", person.name),
            ("Public email", person.public_email or "(hidden)"),
            ("Location", person.location),
            ("Repositories", ", ".join(repo.name for repo in person.repos) or "(none)"),
        ]
        return html_response(definition_page(BRAND, title=person.name, intro=person.bio, rows=rows))

    def repo(self, request: Request, login: str, name: str) -> Response:
        person = next((p for p in GITHUB_IDENTITIES if p.login == login), None)
        repo = next((r for r in person.repos if r.name == name), None) if person else None
        if person is None or repo is None:
            return html_response(
                definition_page(BRAND, title="Not Found", intro=f"No {login}/{name}.", rows=[]),
                404,
            )
        rows = [("Owner", person.login), ("Language", repo.language), ("Stars", str(repo.stars))]
        return html_response(
            definition_page(BRAND, title=f"{login}/{name}", intro=repo.description, rows=rows)
        )

    def docs(self, request: Request) -> Response:
        return html_response(
            definition_page(
                BRAND,
                title="Errors",
                intro="What the GitHub emulator's error codes mean.",
                rows=list(_ERRORS.items()),
            )
        )


def _iso8601(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _node_id(kind: str, number: int) -> str:
    # GitHub's legacy global ids: base64 of "<type>:<Type><id>".
    return base64.b64encode(f"{kind}{number}".encode()).decode("ascii")
