"""Endpoints for tests and operators: an index page, health, the request log and the clock."""

import json
import math
import os

from emulators.avatars import avatar_response
from emulators.clients import ClientRegistry
from emulators.clock import Clock
from emulators.identities import GITHUB_IDENTITIES, GOOGLE_IDENTITIES
from emulators.options import Options
from emulators.pages import Brand, definition_page
from emulators.requestlog import RequestLog
from emulators.web import Request, Response, Route, html_response, json_response, route

BRAND = Brand("OAuth providers", "#57606a")


class Control:
    """Routes under /_emulator (JSON) and / (HTML)."""

    def __init__(
        self,
        *,
        options: Options,
        clients: ClientRegistry,
        clock: Clock,
        request_log: RequestLog,
    ) -> None:
        self._options = options
        self._clients = clients
        self._clock = clock
        self._request_log = request_log

    def routes(self) -> list[Route]:
        return [
            route("GET", r"/", self.index),
            route("GET", r"/favicon\.ico", self.favicon),
            route("GET", r"/_emulator/health", self.health),
            route("GET DELETE", r"/_emulator/requests", self.requests),
            route("GET POST", r"/_emulator/clock", self.clock),
        ]

    def index(self, request: Request) -> Response:
        base = self._options.public_url
        rows = [
            ("GitHub", f"{base}/github (GITHUB_URL for allauth)"),
            ("Google issuer", f"{base}/google"),
            ("Discovery", f"{base}/google/.well-known/openid-configuration"),
            ("Applications", f"{len(self._clients)} registered"),
            ("GitHub people", ", ".join(p.key for p in GITHUB_IDENTITIES if not p.failure)),
            ("Google people", ", ".join(p.key for p in GOOGLE_IDENTITIES if not p.failure)),
            ("Health", f"{base}/_emulator/health"),
            ("Requests", f"{base}/_emulator/requests"),
        ]
        page = definition_page(
            BRAND,
            title="GitHub and Google, emulated",
            intro="Local stand-ins for the sign-in providers; sign in from the site to use them.",
            rows=rows,
        )
        return html_response(page)

    def favicon(self, request: Request) -> Response:
        """Browsers ask every host for one; without it each consent page logs a 404."""
        return avatar_response("OAuth Emulator")

    def health(self, request: Request) -> Response:
        return json_response(
            {
                "status": "ok",
                "providers": ["github", "google"],
                "clients": len(self._clients),
                "public_url": self._options.public_url,
                # Lets whoever started this process tell it from another one on the same port.
                "pid": os.getpid(),
            },
            headers={"Cache-Control": "no-store"},
        )

    def requests(self, request: Request) -> Response:
        """GET lists recorded requests (filters: ?provider=, ?endpoint=); DELETE forgets them."""
        if request.method == "DELETE":
            self._request_log.clear()
            return Response(204)
        entries = self._request_log.entries(
            provider=request.query.get("provider"), endpoint=request.query.get("endpoint")
        )
        return json_response(entries, headers={"Cache-Control": "no-store"})

    def clock(self, request: Request) -> Response:
        """GET reads the clock; POST {"offset_seconds": N} shifts it (0 restores wall time)."""
        if request.method == "POST":
            # A JSON body cannot be sent cross-site without a CORS preflight, which the emulator
            # never approves, so web pages cannot move the clock.
            if request.headers.get_content_type() != "application/json":
                return json_response({"error": "send application/json"}, 415)
            try:
                offset = json.loads(request.body)["offset_seconds"]
            except (ValueError, KeyError, TypeError):
                offset = None
            if isinstance(offset, bool) or not isinstance(offset, int | float):
                return json_response({"error": "offset_seconds must be a number"}, 400)
            if not math.isfinite(offset):
                return json_response({"error": "offset_seconds must be finite"}, 400)
            self._clock.set_offset(float(offset))
        return json_response(
            {"offset_seconds": self._clock.offset_seconds, "now": self._clock()},
            headers={"Cache-Control": "no-store"},
        )
