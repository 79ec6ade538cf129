"""A dependency that is down (the database, the cache) answers 503 with a clear message.

Django hands any exception that escapes a view or a middleware to the 500 handler; this one tells
an outage from a bug. The site recovers by itself: Django opens a new database connection per
request and redis-py reconnects, so nothing needs a restart when the dependency comes back.
"""

import logging
import sys
from http import HTTPStatus

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

RETRY_AFTER_SECONDS = 30
# What says the database is unreachable: any other database error is a bug.
DATABASE_UNREACHABLE = (OperationalError, InterfaceError)


def dependency_down(exception: BaseException | None) -> str | None:
    """The dependency an exception says is unreachable, or None when it is something else. Only
    a connection or operational error is an outage: any other database error (a constraint, a
    value PostgreSQL refuses) is a bug, answered 500 with its traceback in the log."""
    if isinstance(exception, DATABASE_UNREACHABLE):
        return "database"
    if isinstance(exception, RedisConnectionError | RedisTimeoutError):
        return "cache"
    return None


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/.well-known/")


def server_error_view(request: HttpRequest) -> HttpResponse:
    """handler500: 503 naming the missing dependency during an outage, else a plain 500.

    The page is rendered without the request: its context processors would ask the very
    database or cache that is down.
    """
    dependency = dependency_down(sys.exc_info()[1])
    status = HTTPStatus.SERVICE_UNAVAILABLE if dependency else HTTPStatus.INTERNAL_SERVER_ERROR
    if dependency:
        code = "service_unavailable"
        message = f"The {dependency} is unavailable; try again shortly. Nothing was changed."
    else:
        code = "server_error"
        message = "Something went wrong on our side. Nothing was changed."
    if wants_json(request):
        response = JsonResponse({"error": {"code": code, "message": message}}, status=status)
    else:
        html = render_to_string("errors/server_error.html", {"message": message})
        response = HttpResponse(html, status=status)
    if dependency:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class OutageLogFilter(logging.Filter):
    """An outage is one log line naming the dependency, not a traceback per request."""

    def filter(self, record: logging.LogRecord) -> bool:
        exception = record.exc_info[1] if record.exc_info else None
        dependency = dependency_down(exception)
        if dependency:
            record.msg = f"{record.msg} ({dependency} unavailable: {type(exception).__name__})"
            record.exc_info = None
            record.exc_text = None
        return True
