"""Requests the comparison page makes to this site's own API, through Django's full stack.

Each demonstration sends a real request (middleware, authentication, CSRF, the view) in this
process, as the browser would send it, without a network hop back through the load balancer.
"""

import json
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.test import Client

from accounts.flow_recording import masked_authorization


@dataclass(frozen=True)
class ApiExchange:
    """One request as sent and the answer as received, for display."""

    method: str
    path: str
    sent_headers: dict[str, str]
    status: int
    answer: Any
    answer_headers: dict[str, str] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return self.status < 400

    @property
    def error_code(self) -> str | None:
        if isinstance(self.answer, dict) and isinstance(self.answer.get("error"), dict):
            return self.answer["error"].get("code")
        return None


def api_call(
    *,
    site: HttpRequest,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    cookies: dict[str, str] | None = None,
    body: dict | None = None,
) -> ApiExchange:
    """Send `method path` to this site as a browser on `site`'s host would, CSRF checks on.

    `headers` are HTTP headers by name (e.g. Authorization); `cookies` the cookies the browser
    would attach. Nothing else rides along: no session of the page's own request.
    """
    client = Client(enforce_csrf_checks=True, HTTP_HOST=site.get_host())
    for name, value in (cookies or {}).items():
        client.cookies[name] = value
    extra = {
        f"HTTP_{name.upper().replace('-', '_')}": value for name, value in (headers or {}).items()
    }
    response = client.generic(
        method,
        path,
        data=json.dumps(body) if body is not None else "",
        content_type="application/json",
        secure=site.is_secure(),
        **extra,
    )
    try:
        answer = json.loads(response.content)
    except ValueError:
        answer = response.content.decode(errors="replace")[:500]
    shown = ("WWW-Authenticate", "Content-Type")
    return ApiExchange(
        method=method,
        path=path,
        # Cookie values are credentials: the page shows only their names.
        sent_headers={
            **{
                name: masked_authorization(value) if name == "Authorization" else value
                for name, value in (headers or {}).items()
            },
            **({"Cookie": "; ".join(f"{name}=…" for name in cookies)} if cookies else {}),
        },
        status=response.status_code,
        answer=answer,
        answer_headers={name: response[name] for name in shown if response.has_header(name)},
    )
