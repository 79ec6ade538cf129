"""The HTTP server: one thread per connection, routing to the emulator, logging without secrets."""

import contextlib
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv6Address, ip_address
from typing import Any

from emulators.app import Emulator
from emulators.clients import authentication_method
from emulators.requestlog import masked_target
from emulators.web import Request, Response, Route, json_response

MAX_BODY_BYTES = 1 << 20


def base_url(host: str, port: int) -> str:
    """The http URL for `host` and `port`, bracketing an IPv6 address."""
    try:
        is_ipv6 = isinstance(ip_address(host), IPv6Address)
    except ValueError:
        is_ipv6 = False
    return f"http://[{host}]:{port}" if is_ipv6 else f"http://{host}:{port}"


_log_lock = threading.Lock()


def log(message: str) -> None:
    """One whole line on stderr: connection threads log at once, and print() writes the text
    and its newline separately, so unlocked lines could run into each other."""
    with _log_lock:
        sys.stderr.write(f"[emulators] {message}\n")
        sys.stderr.flush()


class EmulatorServer(ThreadingHTTPServer):
    """Serves `emulator` once it is set; threads are daemons so shutdown never waits on them."""

    daemon_threads = True
    emulator: Emulator

    def __init__(self, host: str, port: int) -> None:
        # IPv4 unless the host is an IPv6 literal: "localhost" then always means 127.0.0.1.
        try:
            if isinstance(ip_address(host), IPv6Address):
                self.address_family = socket.AF_INET6
        except ValueError:
            pass
        super().__init__((host, port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: EmulatorServer
    protocol_version = "HTTP/1.1"
    server_version = "signin-lab-emulator/1"

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        started = time.monotonic()
        request = self._read_request()
        if request is None:
            return
        route, response = self._dispatch(request)
        if response.delay_seconds:
            time.sleep(response.delay_seconds)
        status = None if response.drop_connection else response.status
        # Recorded and logged before answering, so a client reading either right after its own
        # request (or stopping the emulator) finds it there.
        if route is not None and route.recorded_as is not None:
            self._record(route.recorded_as, request, status)
        elapsed_ms = (time.monotonic() - started) * 1000
        target = masked_target(request.path, request.query_string)
        outcome = "no answer" if status is None else str(status)
        log(f"{self.client_address[0]} {request.method} {target} {outcome} {elapsed_ms:.0f}ms")
        if response.drop_connection:
            self._drop()
        else:
            self._send(response)

    def _read_request(self) -> Request | None:
        """The parsed request, or None after answering 400 to an unusable Content-Length."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            # The body is left unread, so the connection cannot carry another request.
            self.close_connection = True
            self._send(json_response({"error": "bad or oversized Content-Length"}, 400))
            log(f"{self.client_address[0]} {self.command} refused: Content-Length {length}")
            return None
        body = self.rfile.read(length)
        return Request.parse(self.command, self.path, self.headers, body)

    def _dispatch(self, request: Request) -> tuple[Route | None, Response]:
        """The route the request matched (None if none did) and the response to give."""
        allowed: set[str] = set()
        for candidate in self.server.emulator.routes:
            match = candidate.pattern.fullmatch(request.path)
            if match is None:
                continue
            if request.method in candidate.methods:
                return candidate, self._call(candidate, request, match.groupdict())
            allowed |= candidate.methods
        if allowed:
            headers = {"Allow": ", ".join(sorted(allowed))}
            return None, json_response({"error": "method not allowed"}, 405, headers)
        return None, json_response({"error": "not found", "path": request.path}, 404)

    def _record(self, recorded_as: tuple[str, str], request: Request, status: int | None) -> None:
        provider, endpoint = recorded_as
        self.server.emulator.request_log.record(
            provider=provider,
            endpoint=endpoint,
            request=request,
            status=status,
            client_authentication=authentication_method(request) if endpoint == "token" else None,
        )

    def _call(self, route: Route, request: Request, handler_args: dict[str, str]) -> Response:
        try:
            return route.handler(request, **handler_args)
        except Exception:
            # A bug must not pass for one of the failures the emulator simulates on purpose.
            traceback.print_exc(file=sys.stderr)
            return json_response({"error": "emulator bug: see its log"}, 500)

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up first, typically on the slow token answer.
            self.close_connection = True

    def _drop(self) -> None:
        # Close without a byte of HTTP, as a crashed upstream or a reset connection does.
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        # Requests are logged once handled, with secrets masked; see _handle.
        pass

    def log_error(self, fmt: str, *args: Any) -> None:
        # The base class reports unparsable requests here, quoting the raw request line,
        # which may carry a code or a secret: name the problem only.
        code = args[0] if args and isinstance(args[0], int) else "-"
        log(f"{self.client_address[0]} unparsable or unsupported request ({code})")
