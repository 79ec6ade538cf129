"""A real request to this site's own API, handled in this process by Django's full handler.

`api_request` builds the WSGI environ a client's request arrives with (method, path, the
visitor's host, scheme, address and browser, the credentials the demonstration sends, a body) and
hands it to the `get_response` of a WSGIHandler: the same middleware chain, URL resolution, views,
authentication, CSRF check and exception handler as every request, just not over the network.
The answer is the API's own: its status, JSON body and WWW-Authenticate challenge.

It calls `get_response`, not the handler itself: the request_started and request_finished
signals belong to the visitor's request, whose database connection this one shares.
"""

import functools
import io
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse
from rest_framework import status

from accounts.flow_recording import mask, masked_authorization
from config.client_address import client_address


@functools.cache
def wsgi_handler() -> WSGIHandler:
    """This process's handler for the page's API requests: its middleware chain is built once,
    from the settings, as the WSGI server builds its own."""
    return WSGIHandler()


@dataclass(frozen=True)
class ApiAnswer:
    """One request as sent and the API's answer to it, as the page shows them."""

    method: str
    path: str
    # Authorization masked, cookies by name only: both are credentials.
    sent_headers: dict[str, str]
    status: int
    # The JSON answer; None when the answer has no body (204).
    body: Any
    # The WWW-Authenticate challenge of a 401.
    challenge: str | None = None

    @property
    def answer_headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": self.challenge} if self.challenge else {}

    @property
    def accepted(self) -> bool:
        return self.status < status.HTTP_400_BAD_REQUEST

    @property
    def error_code(self) -> str | None:
        """The `code` of the API's error shape."""
        error = self.body.get("error") if isinstance(self.body, dict) else None
        return error.get("code") if isinstance(error, dict) else None


def api_request(
    *,
    visitor: HttpRequest,
    method: str,
    path: str,
    authorization: str | None = None,
    cookies: Mapping[str, str] | None = None,
    body: Mapping[str, str] | None = None,
    dpop: str | None = None,
) -> ApiAnswer:
    """Send `method path` to the API as `visitor`'s browser or script would, and its answer.

    Only what is passed rides along: `authorization` (the whole header value), `cookies` (name to
    value, none of the visitor's own unless given), `body` as JSON, `dpop` (a DPoP proof). The host,
    scheme, client address and User-Agent are the visitor's, so the request is answered as theirs
    would be (allowed hosts, HTTPS, rate limits per address).
    """
    handler = wsgi_handler()
    payload = json.dumps(body).encode() if body is not None else b""
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": visitor.META.get("SERVER_NAME", "localhost"),
        "SERVER_PORT": visitor.get_port(),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": visitor.get_host(),
        # The visitor's address as config.client_address resolves it: the proxies that handed
        # their request on are not in front of this one.
        "REMOTE_ADDR": client_address(visitor),
        "HTTP_USER_AGENT": visitor.META.get("HTTP_USER_AGENT", ""),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": visitor.scheme,
        "wsgi.input": io.BytesIO(payload),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    sent_headers = {}
    if authorization is not None:
        environ["HTTP_AUTHORIZATION"] = authorization
        sent_headers["Authorization"] = masked_authorization(authorization)
    if dpop is not None:
        environ["HTTP_DPOP"] = dpop
        sent_headers["DPoP"] = mask(dpop)
    if cookies:
        environ["HTTP_COOKIE"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
        sent_headers["Cookie"] = "; ".join(f"{name}=…" for name in cookies)
    if body is not None:
        environ["CONTENT_TYPE"] = "application/json"
        environ["CONTENT_LENGTH"] = str(len(payload))
        sent_headers["Content-Type"] = "application/json"
    response = handler.get_response(handler.request_class(environ))
    return ApiAnswer(
        method=method,
        path=path,
        sent_headers=sent_headers,
        status=response.status_code,
        body=_body(response),
        challenge=response.get("WWW-Authenticate"),
    )


def _body(response: HttpResponse) -> Any:
    if not response.content:
        return None
    if response.get("Content-Type", "").startswith("application/json"):
        return json.loads(response.content)
    return response.content.decode(errors="replace")
