"""The auth inspector: how each API request proved who it is, and what that cost, in its headers.

With AUTH_INSPECTOR = True (development and tests; never production) every response under /api/
carries two headers:

- `Server-Timing` (shown by the browser's developer tools, W3C Server Timing):
  `auth;desc="bearer, 0 queries";dur=0.153, app;desc="1 query";dur=2.104`;
- `X-Auth-Inspector`, an RFC 8941 dictionary for scripts:
  `authenticator=bearer, auth-us=153, auth-queries=0, queries=1, app-us=2104`.

`authenticator` is the authentication class that accepted the request (`bearer`, `session`) or
`none`. The authentication step is timed wherever it runs: inside DRF's authentication classes
(the inspected subclasses below, declared in DEFAULT_AUTHENTICATION_CLASSES where the inspector is
on) and wherever the session's user is first loaded, which a middleware may do before DRF
(accounts.middleware.UserSessionActivityMiddleware does, for signed-in requests). `queries` counts
every statement the request ran from this middleware inwards, transaction control excepted;
`app-us` is the time from this middleware inwards.
"""

import re
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject
from rest_framework.request import Request

from api.authentication import BearerTokenAuthentication, SessionAuthentication
from api.schema import BearerTokenScheme, SessionCookieScheme

INSPECTED_PATH_PREFIX = "/api/"
# The attribute of the HttpRequest that holds its inspection; DRF's Request reads through to it.
INSPECTION_ATTRIBUTE = "auth_inspection"
# Statements that depend on the database and on whether the caller already holds a transaction
# (ATOMIC_REQUESTS opens one, or a savepoint inside a test's), not on how the request authenticated.
TRANSACTION_CONTROL = re.compile(
    r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE\s+SAVEPOINT)\b", re.IGNORECASE
)


@dataclass
class AuthInspection:
    """What one request's authentication did: who accepted it, its time and its queries."""

    authenticator: str = "none"
    auth_ns: int = 0
    auth_queries: int = 0
    queries: int = 0
    app_ns: int = 0
    # Steps nest (DRF's session check loads the lazy user): only the outermost one is timed.
    _depth: int = 0

    @contextmanager
    def authenticating(self) -> Iterator[None]:
        """Count the time and the queries of the block as authentication."""
        self._depth += 1
        start = time.perf_counter_ns()
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0:
                self.auth_ns += time.perf_counter_ns() - start

    def query_count(
        self, execute: Callable, sql: str, params: Any, many: bool, context: dict[str, Any]
    ) -> Any:
        """A database execute wrapper (Django's documented instrumentation hook)."""
        if not TRANSACTION_CONTROL.match(sql):
            self.queries += 1
            if self._depth:
                self.auth_queries += 1
        return execute(sql, params, many, context)

    def server_timing(self) -> str:
        """The Server-Timing header: durations in milliseconds, as the specification has them."""
        return (
            f'auth;desc="{self.authenticator}, {_queries(self.auth_queries)}";'
            f"dur={self.auth_ns / 1e6:.3f}, "
            f'app;desc="{_queries(self.queries)}";dur={self.app_ns / 1e6:.3f}'
        )

    def header(self) -> str:
        """The X-Auth-Inspector header: an RFC 8941 dictionary of tokens and integers."""
        return (
            f"authenticator={self.authenticator}, auth-us={self.auth_ns // 1000}, "
            f"auth-queries={self.auth_queries}, queries={self.queries}, "
            f"app-us={self.app_ns // 1000}"
        )


def _queries(count: int) -> str:
    return f"{count} {'query' if count == 1 else 'queries'}"


def request_inspection(request: HttpRequest | Request) -> AuthInspection | None:
    """The inspection of `request`, or None when the inspector does not watch it."""
    return getattr(request, INSPECTION_ATTRIBUTE, None)


class AuthInspectorMiddleware:
    """Times every /api/ request's authentication and reports it in the response headers.

    Sits right after AuthenticationMiddleware, so it wraps the lazy `request.user` before anything
    loads it. Off (removed from the chain at start-up) unless AUTH_INSPECTOR is True.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if not settings.AUTH_INSPECTOR:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(INSPECTED_PATH_PREFIX):
            return self.get_response(request)
        inspection = AuthInspection()
        setattr(request, INSPECTION_ATTRIBUTE, inspection)
        request.user = _timed_lazy_user(request.user, inspection)
        start = time.perf_counter_ns()
        with ExitStack() as stack:
            for connection in connections.all():
                stack.enter_context(connection.execute_wrapper(inspection.query_count))
            response = self.get_response(request)
        inspection.app_ns = time.perf_counter_ns() - start
        response["Server-Timing"] = inspection.server_timing()
        response["X-Auth-Inspector"] = inspection.header()
        return response


def _timed_lazy_user(user: Any, inspection: AuthInspection) -> SimpleLazyObject:
    """`user` (AuthenticationMiddleware's lazy user), loaded as a timed authentication step."""

    def load() -> Any:
        with inspection.authenticating():
            # Reading any attribute loads the session and then the user: the cost being timed.
            user.is_authenticated  # noqa: B018
        return user

    return SimpleLazyObject(load)


class InspectedAuthenticationMixin:
    """Times an authentication class's `authenticate` and, when it accepts, names it."""

    authenticated_by: str

    def authenticate(self, request: Request) -> Any:
        inspection = request_inspection(request)
        if inspection is None:
            return super().authenticate(request)  # type: ignore[misc]
        with inspection.authenticating():
            result = super().authenticate(request)  # type: ignore[misc]
        if result is not None:
            inspection.authenticator = self.authenticated_by
        return result


class InspectedBearerTokenAuthentication(InspectedAuthenticationMixin, BearerTokenAuthentication):
    """api.authentication.BearerTokenAuthentication, timed by the inspector."""


class InspectedSessionAuthentication(InspectedAuthenticationMixin, SessionAuthentication):
    """api.authentication.SessionAuthentication, timed by the inspector."""


# drf-spectacular matches authentication classes exactly: the API's schema describes the
# inspected classes as it does the classes they time.
class InspectedBearerTokenScheme(BearerTokenScheme):
    target_class = "compare.inspector.InspectedBearerTokenAuthentication"


class InspectedSessionCookieScheme(SessionCookieScheme):
    target_class = "compare.inspector.InspectedSessionAuthentication"
