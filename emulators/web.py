"""The request and response values passed between the HTTP server and the emulator endpoints."""

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from typing import Any, Self
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
HTML_CONTENT_TYPE = "text/html; charset=utf-8"

# The emulator's own pages need their inline style and nothing else; no form-action directive,
# because browsers apply it to the redirect that follows the form and would block the callback.
_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def parse_parameters(encoded: str) -> tuple[dict[str, str], frozenset[str]]:
    """Decode form-encoded text into the first value of each name and the names sent twice."""
    values: dict[str, str] = {}
    repeated: set[str] = set()
    for name, value in parse_qsl(encoded, keep_blank_values=True):
        if name in values:
            repeated.add(name)
        else:
            values[name] = value
    return values, frozenset(repeated)


@dataclass(frozen=True)
class Request:
    """One HTTP request; `form` is filled only for a form-encoded body."""

    method: str
    path: str
    query_string: str
    headers: Message
    body: bytes = b""
    query: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] = field(default_factory=dict)
    repeated: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, method: str, target: str, headers: Message, body: bytes) -> Self:
        path, _, query_string = target.partition("?")
        query, repeated_in_query = parse_parameters(query_string)
        form: dict[str, str] = {}
        repeated_in_form: frozenset[str] = frozenset()
        if headers.get_content_type() == FORM_CONTENT_TYPE:
            form, repeated_in_form = parse_parameters(body.decode("utf-8", errors="replace"))
        return cls(
            method=method,
            path=path,
            query_string=query_string,
            headers=headers,
            body=body,
            query=query,
            form=form,
            repeated=repeated_in_query | repeated_in_form | (query.keys() & form.keys()),
        )

    @property
    def params(self) -> dict[str, str]:
        """Query and form parameters together; the form wins where both name one."""
        return {**self.query, **self.form}

    def header(self, name: str) -> str:
        return self.headers.get(name, "")

    def authorization(self) -> tuple[str, str] | None:
        """The Authorization header as (lower-cased scheme, credentials), or None."""
        scheme, _, credentials = self.header("Authorization").strip().partition(" ")
        if not scheme or not credentials.strip():
            return None
        return scheme.lower(), credentials.strip()

    def token(self, *schemes: str) -> str | None:
        """The access token sent in the Authorization header under one of `schemes`."""
        authorization = self.authorization()
        if authorization is None or authorization[0] not in schemes:
            return None
        return authorization[1]


@dataclass
class Response:
    """What to answer; `delay_seconds` waits first, `drop_connection` closes without answering."""

    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0
    drop_connection: bool = False


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return Response(status, body, JSON_CONTENT_TYPE, dict(headers or {}))


def form_response(data: Mapping[str, str], status: int = 200) -> Response:
    body = urlencode(data).encode("ascii")
    return Response(status, body, f"{FORM_CONTENT_TYPE}; charset=utf-8")


def html_response(html: str, status: int = 200) -> Response:
    return Response(status, html.encode("utf-8"), HTML_CONTENT_TYPE, dict(_PAGE_HEADERS))


def redirect(url: str) -> Response:
    return Response(302, headers={"Location": url, "Cache-Control": "no-store"})


def with_query(url: str, params: Mapping[str, str]) -> str:
    """`url` with `params` appended to any query it already has (RFC 6749 §3.1.2 keeps it)."""
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, urlencode(params)]))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


Handler = Callable[..., Response]


@dataclass(frozen=True)
class Route:
    """Requests whose path fully matches `pattern` go to `handler`, with its named groups.

    `recorded_as` names the (provider, endpoint) under which the request log keeps them.
    """

    methods: frozenset[str]
    pattern: re.Pattern[str]
    handler: Handler
    recorded_as: tuple[str, str] | None = None


def route(
    methods: str, pattern: str, handler: Handler, *, recorded_as: tuple[str, str] | None = None
) -> Route:
    """A route for the space-separated `methods` and the regular expression `pattern`."""
    return Route(frozenset(methods.split()), re.compile(pattern), handler, recorded_as)
