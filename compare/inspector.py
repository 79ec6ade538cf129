"""The auth inspector: how each API request proved who it is, and what it cost, in its headers.

With AUTH_INSPECTOR = True (development and tests; never production) every response under /api/
carries two headers:

- `Server-Timing` (shown by the browser's developer tools, W3C Server Timing):
  `app;desc="bearer, 1 query";dur=2.104`;
- `X-Auth-Inspector`, an RFC 8941 dictionary for scripts:
  `authenticator=bearer, queries=1, app-us=2104`.

`authenticator` is the authentication class that accepted the request (`bearer`, `session`) or
`none`, read from DRF's answer; `queries` counts every statement the request ran from this
middleware inwards, transaction control excepted; `app-us` is the time from this middleware
inwards. It only observes: the API runs the same authentication classes with it as without.
"""

import re
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import connections
from django.http import HttpRequest, HttpResponse

INSPECTED_PATH_PREFIX = "/api/"
# Statements that depend on the database and on whether the caller already holds a transaction
# (a test's, a service's), not on how the request authenticated.
TRANSACTION_CONTROL = re.compile(
    r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE\s+SAVEPOINT)\b", re.IGNORECASE
)


@dataclass
class AuthInspection:
    """What one request did: who accepted it, its time and its queries."""

    authenticator: str = "none"
    queries: int = 0
    app_ns: int = 0

    def query_count(
        self, execute: Callable, sql: str, params: Any, many: bool, context: dict[str, Any]
    ) -> Any:
        """A database execute wrapper (Django's documented instrumentation hook)."""
        if not TRANSACTION_CONTROL.match(sql):
            self.queries += 1
        return execute(sql, params, many, context)

    def server_timing(self) -> str:
        """The Server-Timing header: durations in milliseconds, as the specification has them."""
        return (
            f'app;desc="{self.authenticator}, {_queries(self.queries)}";dur={self.app_ns / 1e6:.3f}'
        )

    def header(self) -> str:
        """The X-Auth-Inspector header: an RFC 8941 dictionary of tokens and integers."""
        return (
            f"authenticator={self.authenticator}, queries={self.queries}, "
            f"app-us={self.app_ns // 1000}"
        )


def _queries(count: int) -> str:
    return f"{count} {'query' if count == 1 else 'queries'}"


def accepted_by(response: HttpResponse) -> str:
    """The `authenticated_by` of the authentication class that accepted the request DRF
    answered (its Response keeps the request), or `none`."""
    request = getattr(response, "renderer_context", {}).get("request")
    authenticator = getattr(request, "successful_authenticator", None)
    return getattr(authenticator, "authenticated_by", "none")


class AuthInspectorMiddleware:
    """Reports every /api/ request's authenticator, queries and time in its response headers.
    Off (removed from the chain at start-up) unless AUTH_INSPECTOR is True."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if not settings.AUTH_INSPECTOR:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(INSPECTED_PATH_PREFIX):
            return self.get_response(request)
        inspection = AuthInspection()
        start = time.perf_counter_ns()
        with ExitStack() as stack:
            for connection in connections.all():
                stack.enter_context(connection.execute_wrapper(inspection.query_count))
            response = self.get_response(request)
        inspection.app_ns = time.perf_counter_ns() - start
        inspection.authenticator = accepted_by(response)
        response["Server-Timing"] = inspection.server_timing()
        response["X-Auth-Inspector"] = inspection.header()
        return response
