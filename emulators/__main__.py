"""Command line: `python -m emulators --clients FILE.json` serves both emulators until stopped."""

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from emulators.app import build_emulator
from emulators.clients import ClientsFileError, load_clients
from emulators.options import DEFAULT_CODE_LIFETIME_SECONDS, DEFAULT_SLOW_SECONDS, Options
from emulators.server import EmulatorServer, base_url, log


def _non_negative(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a non-negative number")
    return value


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m emulators",
        description="Serve local GitHub and Google OAuth 2.0 emulators over HTTP.",
    )
    parser.add_argument("--host", default="localhost", help="address to listen on")
    parser.add_argument("--port", type=int, default=8001, help="port (0 picks a free one)")
    parser.add_argument(
        "--clients",
        type=Path,
        default=os.environ.get("EMULATOR_CLIENTS_FILE") or None,
        help="JSON list of registered applications (default: $EMULATOR_CLIENTS_FILE)",
    )
    parser.add_argument(
        "--public-url",
        help="base URL used in links, issuer and discovery (default: from host and port)",
    )
    parser.add_argument(
        "--slow-seconds",
        type=_non_negative,
        default=DEFAULT_SLOW_SECONDS,
        help="how long the token-slow identity's token endpoint waits",
    )
    parser.add_argument(
        "--code-lifetime-seconds",
        type=_non_negative,
        default=DEFAULT_CODE_LIFETIME_SECONDS,
        help="how long an authorization code stays valid",
    )
    arguments = parser.parse_args(argv)
    if arguments.clients is None:
        parser.error("--clients is required (or set EMULATOR_CLIENTS_FILE)")
    return arguments


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    try:
        clients = load_clients(arguments.clients)
    except ClientsFileError as error:
        print(f"emulators: {error}", file=sys.stderr)
        return 2
    try:
        server = EmulatorServer(arguments.host, arguments.port)
    except OSError as error:
        print(
            f"emulators: cannot listen on {arguments.host}:{arguments.port}: {error}",
            file=sys.stderr,
        )
        return 1
    public_url = (arguments.public_url or base_url(arguments.host, server.server_port)).rstrip("/")
    server.emulator = build_emulator(
        Options(
            public_url=public_url,
            slow_seconds=arguments.slow_seconds,
            code_lifetime_seconds=arguments.code_lifetime_seconds,
        ),
        clients,
    )

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    # serve_forever runs in a thread because shutdown() must be called from another one;
    # the main thread stays free to receive signals.
    serving = threading.Thread(target=server.serve_forever, name="emulators", daemon=True)
    serving.start()
    log(f"GitHub at {public_url}/github, Google at {public_url}/google, {len(clients)} clients")
    stop.wait()
    server.shutdown()
    server.server_close()
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
