"""The Google emulator: OAuth 2.0 / OpenID Connect authorization, tokens, keys and userinfo."""

import secrets
import time
from collections.abc import Mapping
from typing import Any

from emulators.authorization import AuthorizationEndpoint, AuthorizationError
from emulators.avatars import avatar_response
from emulators.clients import Client, ClientAuthError, ClientRegistry
from emulators.failures import Failure, token_step
from emulators.identities import GOOGLE_IDENTITIES, GoogleIdentity, google_identity
from emulators.options import Options
from emulators.pages import Brand, Choice
from emulators.signing import ALGORITHM, SigningKey, at_hash
from emulators.store import CodeRejectedError, Grant, Rejection, Store
from emulators.web import Request, Response, Route, json_response, route

PROVIDER = "google"
BRAND = Brand("Google", "#1a73e8")
ACCESS_TOKEN_SECONDS = 3599
ID_TOKEN_SECONDS = 3600
# Short scope names and the URLs Google reports them as in token responses.
SCOPE_URLS = {
    "openid": "openid",
    "email": "https://www.googleapis.com/auth/userinfo.email",
    "profile": "https://www.googleapis.com/auth/userinfo.profile",
}
_SHORT_NAMES = {url: name for name, url in SCOPE_URLS.items()}
_PROMPTS = frozenset({"none", "consent", "select_account"})

_CLIENT_ERRORS = {
    ClientAuthError.MISSING: (
        400,
        "invalid_request",
        "Could not determine client ID from request.",
    ),
    ClientAuthError.UNKNOWN_CLIENT: (401, "invalid_client", "The OAuth client was not found."),
    ClientAuthError.BAD_CREDENTIALS: (401, "invalid_client", "Unauthorized"),
    ClientAuthError.CONFLICTING: (
        400,
        "invalid_request",
        "client_id in the body differs from the HTTP Basic credentials.",
    ),
}


class GoogleAuthorization(AuthorizationEndpoint):
    provider = PROVIDER
    brand = BRAND

    def check_response_type(self, response_type: str | None) -> None:
        # Unlike GitHub, Google insists on response_type.
        if response_type is None:
            raise AuthorizationError(
                "invalid_request", "Required parameter is missing: response_type"
            )
        super().check_response_type(response_type)

    def parse_scope(self, scope: str) -> tuple[str, ...]:
        requested = scope.split()
        if not requested:
            raise AuthorizationError("invalid_request", "Missing required parameter: scope")
        unknown = [
            item for item in requested if item not in SCOPE_URLS and item not in _SHORT_NAMES
        ]
        if unknown:
            raise AuthorizationError(
                "invalid_scope", f"Some requested scopes were invalid: {', '.join(unknown)}"
            )
        return tuple(dict.fromkeys(_SHORT_NAMES.get(item, item) for item in requested))

    def check_prompt(self, prompt: str | None) -> None:
        values = set((prompt or "").split())
        if values - _PROMPTS or ("none" in values and len(values) > 1):
            raise AuthorizationError("invalid_request", f"Invalid prompt: {prompt}")
        if "none" in values:
            # The emulator keeps no sign-in session, so it can never answer without asking.
            raise AuthorizationError("login_required", "The user must sign in.")

    def approval_params(self, grant: Grant) -> Mapping[str, str]:
        return {"scope": _scope_urls(grant.scope), "authuser": "0", "prompt": "consent"}

    def identity_choices(self) -> list[Choice]:
        return [
            Choice(
                person.key,
                person.name,
                f"{person.email} ({'verified' if person.email_verified else 'unverified'})",
            )
            for person in GOOGLE_IDENTITIES
            if person.failure is None
        ]

    def failure_choices(self) -> list[Choice]:
        return [
            Choice(person.key, person.key, person.failure.description)
            for person in GOOGLE_IDENTITIES
            if person.failure is not None
        ]

    def has_identity(self, key: str) -> bool:
        return google_identity(key) is not None

    def new_code(self) -> str:
        # Google's codes look like "4/0A" followed by about seventy URL-safe characters.
        return "4/0A" + secrets.token_urlsafe(54)


def _scope_urls(scope: tuple[str, ...]) -> str:
    return " ".join(SCOPE_URLS[item] for item in scope)


class GoogleEmulator:
    """Routes for accounts.google.com, oauth2.googleapis.com and www.googleapis.com, under /google.

    The issuer is `<public URL>/google`; its discovery document makes the emulator usable as
    a generic OpenID Connect provider too.
    """

    def __init__(
        self, *, options: Options, clients: ClientRegistry, store: Store, key: SigningKey
    ) -> None:
        self._options = options
        self._clients = clients
        self._store = store
        self._key = key
        self.issuer = f"{options.public_url}/google"
        self._authorization = GoogleAuthorization(options=options, clients=clients, store=store)

    def routes(self) -> list[Route]:
        return [
            route(
                "GET POST",
                r"/google/o/oauth2/v2/auth",
                self._authorization,
                recorded_as=(PROVIDER, "authorize"),
            ),
            route("POST", r"/google/token", self.token, recorded_as=(PROVIDER, "token")),
            route("GET", r"/google/\.well-known/openid-configuration", self.discovery),
            route("GET", r"/google/oauth2/v1/certs", self.pem_certificates),
            route("GET", r"/google/oauth2/v3/certs", self.jwks),
            route("GET", r"/google/oauth2/v2/userinfo", self.userinfo_v2),
            route("GET", r"/google/oauth2/v3/userinfo", self.userinfo_oidc),
            route("GET", r"/google/avatars/(?P<sub>\d+)", self.avatar),
        ]

    def discovery(self, request: Request) -> Response:
        """OpenID Connect Discovery 1.0 §3, for exactly what this emulator supports."""
        return json_response(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/o/oauth2/v2/auth",
                "token_endpoint": f"{self.issuer}/token",
                "userinfo_endpoint": f"{self.issuer}/oauth2/v3/userinfo",
                "jwks_uri": f"{self.issuer}/oauth2/v3/certs",
                "response_types_supported": ["code"],
                "response_modes_supported": ["query"],
                "grant_types_supported": ["authorization_code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": [ALGORITHM],
                "scopes_supported": list(SCOPE_URLS),
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "client_secret_basic",
                ],
                "claims_supported": [
                    "aud",
                    "azp",
                    "at_hash",
                    "email",
                    "email_verified",
                    "exp",
                    "family_name",
                    "given_name",
                    "iat",
                    "iss",
                    "name",
                    "nonce",
                    "picture",
                    "sub",
                ],
                "code_challenge_methods_supported": ["S256"],
                "request_parameter_supported": False,
                "request_uri_parameter_supported": False,
            }
        )

    # The key changes at every start, so nobody should keep an old copy.
    def pem_certificates(self, request: Request) -> Response:
        return json_response(self._key.pem_certificates(), headers={"Cache-Control": "no-cache"})

    def jwks(self, request: Request) -> Response:
        return json_response(self._key.jwks(), headers={"Cache-Control": "no-cache"})

    # Token endpoint: https://developers.google.com/identity/protocols/oauth2/web-server

    def token(self, request: Request) -> Response:
        """Exchange a code; errors are HTTP 400/401 with `error` and `error_description`."""
        form = request.form
        grant_type = form.get("grant_type", "")
        if grant_type != "authorization_code":
            return _token_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")
        client = self._clients.authenticate(PROVIDER, request)
        if not isinstance(client, Client):
            return _token_error(*_CLIENT_ERRORS[client])
        code = form.get("code")
        if not code:
            return _token_error(400, "invalid_request", "Missing required parameter: code")
        if not form.get("redirect_uri"):
            return _token_error(400, "invalid_request", "Missing parameter: redirect_uri")
        try:
            grant = self._store.redeem_code(
                code,
                provider=PROVIDER,
                client_id=client.client_id,
                redirect_uri=form["redirect_uri"],
                code_verifier=form.get("code_verifier"),
            )
        except CodeRejectedError as rejected:
            error = (
                "redirect_uri_mismatch"
                if rejected.reason is Rejection.REDIRECT_URI_MISMATCH
                else "invalid_grant"
            )
            return _token_error(400, error, rejected.reason.description)
        person = google_identity(grant.identity)

        def answer() -> Response:
            token = self._store.add_token(
                "ya29." + secrets.token_urlsafe(120),
                code=code,
                grant=grant,
                lifetime_seconds=ACCESS_TOKEN_SECONDS,
            )
            body: dict[str, Any] = {
                "access_token": token.value,
                "expires_in": ACCESS_TOKEN_SECONDS,
                "scope": _scope_urls(grant.scope),
                "token_type": "Bearer",
            }
            if "openid" in grant.scope and person is not None:
                body["id_token"] = self._id_token(grant, person, token.value)
            return _no_store(json_response(body))

        return token_step(
            person.failure if person else None,
            label=BRAND.label,
            slow_seconds=self._options.slow_seconds,
            answer=answer,
        )

    def _id_token(self, grant: Grant, person: GoogleIdentity, access_token: str) -> str:
        # iat and exp use wall time, not the emulator's adjustable clock: relying parties check
        # them against their own clocks.
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "azp": grant.client_id,
            "aud": grant.client_id,
            "sub": person.sub,
            "at_hash": at_hash(access_token),
            "iat": now,
            "exp": now + ID_TOKEN_SECONDS,
            **self._profile_claims(grant, person, verified_key="email_verified"),
        }
        if grant.nonce:
            claims["nonce"] = grant.nonce
        return self._key.sign(claims)

    def _profile_claims(
        self, grant: Grant, person: GoogleIdentity, *, verified_key: str
    ) -> dict[str, Any]:
        """The claims the granted scopes release: email ones for `email`, names for `profile`."""
        claims: dict[str, Any] = {}
        if "email" in grant.scope:
            claims["email"] = person.email
            claims[verified_key] = person.email_verified
        if "profile" in grant.scope:
            claims["name"] = person.name
            if person.has_picture:
                claims["picture"] = f"{self.issuer}/avatars/{person.sub}"
            claims["given_name"] = person.given_name
            claims["family_name"] = person.family_name
        return claims

    # User info APIs.

    def _authenticate(self, request: Request) -> tuple[Grant, GoogleIdentity] | Response:
        value = request.token("bearer")
        if value is None:
            return self._unauthenticated(
                "Request is missing required authentication credential. Expected OAuth 2 "
                "access token, login cookie or other valid authentication credential.",
                error=None,
            )
        token = self._store.find_token(PROVIDER, value)
        person = google_identity(token.grant.identity) if token else None
        if token is None or person is None:
            return self._unauthenticated(
                "Request had invalid authentication credentials. Expected OAuth 2 access "
                "token, login cookie or other valid authentication credential.",
                error="invalid_token",
            )
        if person.failure is Failure.API_500:
            return _google_error(500, "Internal error encountered.", "INTERNAL")
        return token.grant, person

    def _unauthenticated(self, message: str, *, error: str | None) -> Response:
        response = _google_error(401, message, "UNAUTHENTICATED")
        challenge = f'Bearer realm="{self.issuer}"'
        if error:
            challenge += f', error="{error}"'
        response.headers["WWW-Authenticate"] = challenge
        return response

    def userinfo_v2(self, request: Request) -> Response:
        """www.googleapis.com/oauth2/v2/userinfo: `id` and `verified_email`, Google's own names."""
        authenticated = self._authenticate(request)
        if isinstance(authenticated, Response):
            return authenticated
        grant, person = authenticated
        claims = self._profile_claims(grant, person, verified_key="verified_email")
        return json_response({"id": person.sub, **claims})

    def userinfo_oidc(self, request: Request) -> Response:
        """The OpenID Connect userinfo endpoint (Core §5.3): standard claim names."""
        authenticated = self._authenticate(request)
        if isinstance(authenticated, Response):
            return authenticated
        grant, person = authenticated
        claims = self._profile_claims(grant, person, verified_key="email_verified")
        return json_response({"sub": person.sub, **claims})

    def avatar(self, request: Request, sub: str) -> Response:
        person = next((p for p in GOOGLE_IDENTITIES if p.sub == sub and p.has_picture), None)
        if person is None:
            return _google_error(404, "Not found", "NOT_FOUND")
        return avatar_response(person.name)


def _no_store(response: Response) -> Response:
    # RFC 6749 §5.1: token responses must not be cached.
    response.headers.update({"Cache-Control": "no-store", "Pragma": "no-cache"})
    return response


def _token_error(status: int, error: str, description: str) -> Response:
    return _no_store(json_response({"error": error, "error_description": description}, status))


def _google_error(status: int, message: str, status_name: str) -> Response:
    return json_response(
        {"error": {"code": status, "message": message, "status": status_name}}, status
    )
