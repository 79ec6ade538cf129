"""The authorization endpoint both emulators share (RFC 6749 §4.1.1-4.1.2, RFC 7636 §4.3)."""

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from emulators import pkce
from emulators.clients import Client, ClientRegistry
from emulators.options import Options
from emulators.pages import Brand, Choice, authorize_page, error_page
from emulators.store import Grant, Store
from emulators.web import Request, Response, html_response, redirect, with_query

_AUTHORIZATION_PARAMETERS = frozenset(
    {
        "client_id",
        "redirect_uri",
        "response_type",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
        "nonce",
        "prompt",
    }
)


class AuthorizationError(Exception):
    """A bad request from a known client and redirect URI: reported there by redirect."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class AuthorizationRequest:
    client: Client
    redirect_uri: str
    state: str
    scope: tuple[str, ...]
    code_challenge: str | None
    code_challenge_method: str | None
    nonce: str | None


class AuthorizationEndpoint(ABC):
    """GET shows the consent page; POST (from that page) approves as an identity or denies.

    The client id and the exact redirect URI are checked first: if either is wrong the user
    sees an error page and is never redirected. Other errors go back to the redirect URI.
    """

    provider: ClassVar[str]
    brand: ClassVar[Brand]

    def __init__(self, *, options: Options, clients: ClientRegistry, store: Store) -> None:
        self.options = options
        self._clients = clients
        self._store = store

    def __call__(self, request: Request) -> Response:
        # The authorization parameters always travel in the URL; the consent form posts
        # back to that same URL, so a decision is checked against what was shown.
        params = request.query
        for name in ("client_id", "redirect_uri"):
            if name in request.repeated:
                return self._error_page("invalid_request", f"{name} was sent more than once.")
        client = self._clients.find(self.provider, params.get("client_id", ""))
        if client is None:
            return self._error_page(
                "invalid_client",
                "The OAuth client was not found.",
                [f"client_id={params.get('client_id', '')}"],
            )
        redirect_uri = params.get("redirect_uri", "")
        if not client.allows_redirect(redirect_uri):
            return self._error_page(
                "redirect_uri_mismatch",
                "The redirect_uri is not registered for this application; it must match "
                "one of the registered redirect URIs exactly (a loopback IP one on any port).",
                [f"redirect_uri={redirect_uri}"]
                + [f"registered: {uri}" for uri in client.redirect_uris],
            )
        try:
            authorization = self._validate(request, client, redirect_uri)
        except AuthorizationError as error:
            return self._error_redirect(redirect_uri, error, params.get("state"))
        if request.method == "GET":
            return html_response(self._consent_page(request, authorization))
        return self._decide(request, authorization)

    def _validate(
        self, request: Request, client: Client, redirect_uri: str
    ) -> AuthorizationRequest:
        params = request.query
        repeated = sorted(request.repeated & _AUTHORIZATION_PARAMETERS)
        if repeated:
            raise AuthorizationError(
                "invalid_request", f"Parameters sent more than once: {', '.join(repeated)}."
            )
        self.check_response_type(params.get("response_type"))
        state = params.get("state", "")
        if not state:
            raise AuthorizationError(
                "invalid_request",
                "state is required: this emulator refuses requests without it "
                "(it protects the callback against CSRF, RFC 6749 §10.12).",
            )
        scope = self.parse_scope(params.get("scope", ""))
        challenge = params.get("code_challenge")
        method = params.get("code_challenge_method")
        if challenge is None and method is not None:
            raise AuthorizationError(
                "invalid_request", "code_challenge_method was sent without code_challenge."
            )
        if challenge is not None:
            # RFC 7636 §4.3: a missing method means "plain", which is refused like an explicit one.
            if method != pkce.S256:
                raise AuthorizationError(
                    "invalid_request",
                    f"code_challenge_method {method or 'plain'!r} is not supported; use S256.",
                )
            if not pkce.is_valid_challenge(challenge):
                raise AuthorizationError(
                    "invalid_request", "code_challenge must be an S256 digest: 43 base64url chars."
                )
        self.check_prompt(params.get("prompt"))
        return AuthorizationRequest(
            client=client,
            redirect_uri=redirect_uri,
            state=state,
            scope=scope,
            code_challenge=challenge,
            code_challenge_method=method,
            nonce=params.get("nonce"),
        )

    def _consent_page(self, request: Request, authorization: AuthorizationRequest) -> str:
        return authorize_page(
            self.brand,
            app_name=authorization.client.name,
            action=f"{request.path}?{request.query_string}",
            scope=authorization.scope,
            redirect_uri=authorization.redirect_uri,
            identities=self.identity_choices(),
            failures=self.failure_choices(),
        )

    def _decide(self, request: Request, authorization: AuthorizationRequest) -> Response:
        if request.form.get("decision") == "deny":
            denial = AuthorizationError(
                "access_denied", "The user has denied your application access."
            )
            return self._error_redirect(authorization.redirect_uri, denial, authorization.state)
        identity = request.form.get("identity", "")
        if not self.has_identity(identity):
            return self._error_page(
                "invalid_request", "Choose one of the identities offered on the consent page."
            )
        grant = Grant(
            provider=self.provider,
            client_id=authorization.client.client_id,
            redirect_uri=authorization.redirect_uri,
            identity=identity,
            scope=authorization.scope,
            code_challenge=authorization.code_challenge,
            code_challenge_method=authorization.code_challenge_method,
            nonce=authorization.nonce,
        )
        code = self.new_code()
        self._store.add_code(code, grant)
        params = {"code": code, "state": authorization.state, **self.approval_params(grant)}
        return redirect(with_query(authorization.redirect_uri, params))

    def _error_redirect(
        self, redirect_uri: str, error: AuthorizationError, state: str | None
    ) -> Response:
        params = {
            "error": error.error,
            "error_description": error.description,
            **self.error_extras(error.error),
        }
        if state:
            params["state"] = state
        return redirect(with_query(redirect_uri, params))

    def _error_page(self, error: str, message: str, details: list[str] | None = None) -> Response:
        return html_response(
            error_page(self.brand, error=error, message=message, details=details or []), 400
        )

    def check_response_type(self, response_type: str | None) -> None:
        """Raise AuthorizationError unless `response_type` asks for a code (or is left out)."""
        if response_type not in (None, "code"):
            raise AuthorizationError(
                "unsupported_response_type", f"response_type {response_type!r} is not supported."
            )

    def check_prompt(self, prompt: str | None) -> None:
        """Raise AuthorizationError for a `prompt` the provider would not honour."""
        return None

    def error_extras(self, error: str) -> Mapping[str, str]:
        """Parameters the provider adds to an error redirect besides error and description."""
        return {}

    def approval_params(self, grant: Grant) -> Mapping[str, str]:
        """Parameters the provider adds to a successful redirect besides code and state."""
        return {}

    @abstractmethod
    def parse_scope(self, scope: str) -> tuple[str, ...]:
        """The scopes granted for the requested `scope`, or AuthorizationError."""

    @abstractmethod
    def identity_choices(self) -> list[Choice]:
        """The demo identities, as consent-page buttons."""

    @abstractmethod
    def failure_choices(self) -> list[Choice]:
        """The failure identities, as consent-page buttons."""

    @abstractmethod
    def has_identity(self, key: str) -> bool: ...

    @abstractmethod
    def new_code(self) -> str:
        """A fresh authorization code in the provider's format."""
