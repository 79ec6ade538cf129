"""Provider failures the emulators reproduce when the user signs in as a failure identity."""

import html
from collections.abc import Callable
from enum import StrEnum

from emulators.web import HTML_CONTENT_TYPE, Response


class Failure(StrEnum):
    """A simulated failure; its value is also the key of the identity that triggers it."""

    EXCHANGE_500 = "token-500"
    EXCHANGE_GARBAGE = "token-garbage"
    EXCHANGE_SLOW = "token-slow"
    EXCHANGE_DOWN = "token-down"
    API_500 = "api-500"

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    Failure.EXCHANGE_500: "The token endpoint answers HTTP 500 with an HTML error page.",
    Failure.EXCHANGE_GARBAGE: "The token endpoint answers 200 with a body that is not JSON.",
    Failure.EXCHANGE_SLOW: "The token endpoint answers correctly, but only after a long pause.",
    Failure.EXCHANGE_DOWN: "The token endpoint closes the connection without answering.",
    Failure.API_500: "The token arrives, then the user API answers HTTP 500.",
}


def token_step(
    failure: Failure | None, *, label: str, slow_seconds: float, answer: Callable[[], Response]
) -> Response:
    """The token endpoint's answer under `failure`.

    `answer` issues the token and is called only when one is delivered, so failures that stop
    the exchange leave no usable token behind.
    """
    if failure is Failure.EXCHANGE_500:
        return _server_error_page(label)
    if failure is Failure.EXCHANGE_GARBAGE:
        return Response(200, b"<html>oops", HTML_CONTENT_TYPE)
    if failure is Failure.EXCHANGE_DOWN:
        return Response(0, drop_connection=True)
    response = answer()
    if failure is Failure.EXCHANGE_SLOW:
        response.delay_seconds = slow_seconds
    return response


def _server_error_page(label: str) -> Response:
    # What a load balancer in front of a real provider serves when the backend fails.
    title = f"500 Internal Server Error &middot; {html.escape(label)}"
    page = (
        f"<!DOCTYPE html>\n<html><head><title>{title}</title></head>"
        "<body><h1>500 Internal Server Error</h1>"
        "<p>The server encountered an error and could not complete your request.</p>"
        "</body></html>\n"
    )
    return Response(500, page.encode("utf-8"), HTML_CONTENT_TYPE)
