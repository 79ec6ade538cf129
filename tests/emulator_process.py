"""Runs the provider emulators (`python -m emulators`) as a real subprocess for tests."""

import json
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 20.0


def free_port(host: str = "localhost") -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.create_server((host, 0)) as probe:
        return probe.getsockname()[1]


def emulator_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@dataclass
class EmulatorProcess:
    """A started emulator: its URL, its process and the file its log (stderr) goes to."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        """Send `sig`, wait for the exit and return its code (killing it if it hangs)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_emulator(
    *, host: str, port: int, clients_file: Path, log_path: Path, extra_args: Sequence[str] = ()
) -> EmulatorProcess:
    """Start the emulator and return once /_emulator/health answers; raise if it never does."""
    command = [
        sys.executable,
        "-m",
        "emulators",
        "--host",
        host,
        "--port",
        str(port),
        "--clients",
        str(clients_file),
        *extra_args,
    ]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(  # noqa: S603 -- the emulator's own entry point
            command,
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    started = EmulatorProcess(emulator_url(host, port), process, log_path)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the emulator exited ({process.returncode}):\n{started.log()}")
        try:
            health = requests.get(f"{started.url}/_emulator/health", timeout=1)
        except requests.ConnectionError:
            health = None
        if health is not None and health.ok:
            if health.json().get("pid") != process.pid:
                started.stop()
                raise RuntimeError(f"another emulator already answers on port {port}")
            return started
        time.sleep(0.05)
    started.stop()
    raise RuntimeError(f"the emulator did not answer within {STARTUP_SECONDS}s:\n{started.log()}")


@contextmanager
def running_emulator(
    *, host: str, port: int, clients: list[dict], slow_seconds: float = 3
) -> Iterator[str]:
    """Serve the emulators for `clients` on host:port while the block runs; yield the base URL."""
    with tempfile.TemporaryDirectory(prefix="emulators-") as directory:
        clients_file = Path(directory) / "clients.json"
        clients_file.write_text(json.dumps(clients), encoding="utf-8")
        emulator = start_emulator(
            host=host,
            port=port,
            clients_file=clients_file,
            log_path=Path(directory) / "emulator.log",
            extra_args=["--slow-seconds", str(slow_seconds)],
        )
        try:
            yield emulator.url
        finally:
            emulator.stop()
