"""What the fault suite breaks, for real: a PostgreSQL cluster of its own that it stops hard and
starts again, a Redis server it kills with SIGKILL and starts again (with its data or empty), a
TCP proxy in front of Redis that silently drops or delays what a subscription receives, and
load: threads calling the servers and recording every answer with the time its request started.
"""

import contextlib
import glob
import os
import queue
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.servers import free_port, redis_server_binary, wait_for_port


def _as_postgres_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root (CI's user): run it as Debian's `postgres` user."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def postgres_binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class PrivatePostgres:
    """A throwaway PostgreSQL cluster on a free port: `stop()` is `pg_ctl stop -m immediate` (the
    server quits at once and every connection drops, as in a crash), `start()` starts it again
    on the same data."""

    def __init__(self) -> None:
        binaries = postgres_binaries()
        assert binaries is not None, "no PostgreSQL server binaries (apt-get install postgresql)"
        self.binaries = binaries
        self.port = free_port()
        # Not under pytest's tmp_path: its folders are private to root, and the server is not.
        self.folder = Path(tempfile.mkdtemp(prefix="signin-faults-pg-"))
        self.folder.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self.data = self.folder / "data"
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-N")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/signin"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(  # noqa: S603 -- Debian's PostgreSQL binaries
            _as_postgres_user([str(self.binaries / tool), *args]),
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off"
            " -c max_connections=200"
        )
        log = str(self.folder / "log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def create_database(self) -> None:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "signin")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class KillableRedis:
    """A Redis server on a fixed port that `kill()` ends with SIGKILL. `start(keep_data=True)`
    brings it back with what it had written (an append-only file synced on every write, as a
    Redis run for sessions should be); `start(keep_data=False)` brings it back empty."""

    def __init__(self, folder: Path) -> None:
        assert redis_server_binary() is not None, "no redis-server (apt-get install redis-server)"
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None

    def url(self, database: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"

    def start(self, *, keep_data: bool = True) -> None:
        if not keep_data:
            shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        options = {
            "port": str(self.port),
            "bind": "127.0.0.1",
            "dir": str(self.folder),
            "save": "",
            "appendonly": "yes",
            "appendfsync": "always",
            "maxmemory-policy": "noeviction",
        }
        arguments = [part for name, value in options.items() for part in (f"--{name}", value)]
        self.process = subprocess.Popen(  # noqa: S603 -- Debian's redis-server
            [redis_server_binary(), *arguments],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.process, "redis-server")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.kill()


def resp_frame_end(buffer: bytes, start: int) -> int | None:
    """Where the RESP2/RESP3 frame beginning at `start` ends, or None if it is not all here."""
    line_end = buffer.find(b"\r\n", start)
    if line_end < 0:
        return None
    kind = buffer[start : start + 1]
    if kind in b"+-:_,#(":
        return line_end + 2
    length = int(buffer[start + 1 : line_end])
    if kind in b"$=!":
        end = line_end + 2 + max(length, 0) + (2 if length >= 0 else 0)
        return end if end <= len(buffer) else None
    position = line_end + 2
    for _ in range(max(length, 0) * (2 if kind == b"%" else 1)):
        position = resp_frame_end(buffer, position)
        if position is None:
            return None
    return position


def is_published_message(frame: bytes) -> bool:
    head = frame[:24]
    return b"$7\r\nmessage\r\n" in head or b"$8\r\npmessage\r\n" in head


class PubSubProxy:
    """A TCP proxy in front of Redis. Connections pass through untouched, except on a connection
    that has subscribed, from Redis to the client, where `mode` decides:
    - "pass": everything passes;
    - "drop-messages": published messages are dropped, everything else (pings' answers) passes:
      the subscription looks alive and announces nothing;
    - "blackhole": everything is dropped: the subscription goes silent;
    - "delay": everything passes, in order, `delay_seconds` late: announcements on their way
      while the writer already has its answer, as on a slow or distant link.
    `dropped` counts the frames dropped."""

    def __init__(self, upstream_port: int, *, delay_seconds: float = 0.2) -> None:
        self.upstream_port = upstream_port
        self.mode = "pass"
        self.delay_seconds = delay_seconds
        self.dropped = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._closing = False
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, database: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=2)
            except OSError:
                client.close()  # Redis is down: so is the proxy's far side
                continue
            upstream.settimeout(None)
            self._sockets += [client, upstream]
            state = {"subscribed": False}
            threading.Thread(target=self._up, args=(client, upstream, state), daemon=True).start()
            threading.Thread(target=self._down, args=(upstream, client, state), daemon=True).start()

    def _up(self, client: socket.socket, upstream: socket.socket, state: dict) -> None:
        with contextlib.suppress(OSError):
            while chunk := client.recv(65536):
                if b"SUBSCRIBE" in chunk.upper():
                    state["subscribed"] = True
                upstream.sendall(chunk)
        self._close(client, upstream)

    def _down(self, upstream: socket.socket, client: socket.socket, state: dict) -> None:
        pending = b""
        # Once subscribed, what Redis sends leaves through `outbox`, each part at its due time.
        outbox: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._send_when_due, args=(outbox, client), daemon=True).start()
        with contextlib.suppress(OSError):
            while chunk := upstream.recv(65536):
                if not state["subscribed"]:
                    client.sendall(chunk)
                    continue
                due = time.monotonic() + (self.delay_seconds if self.mode == "delay" else 0.0)
                if self.mode in ("pass", "delay") and not pending:
                    outbox.put((due, chunk))
                    continue
                pending += chunk
                while (end := resp_frame_end(pending, 0)) is not None:
                    frame, pending = pending[:end], pending[end:]
                    if self.mode == "blackhole" or (
                        self.mode == "drop-messages" and is_published_message(frame)
                    ):
                        self.dropped += 1
                    else:
                        outbox.put((due, frame))
        outbox.put(None)
        self._close(client, upstream)

    @staticmethod
    def _send_when_due(outbox: queue.SimpleQueue, client: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while (item := outbox.get()) is not None:
                due, data = item
                time.sleep(max(0.0, due - time.monotonic()))
                client.sendall(data)

    @staticmethod
    def _close(*sockets: socket.socket) -> None:
        for each in sockets:
            with contextlib.suppress(OSError):
                each.shutdown(socket.SHUT_RDWR)
            each.close()

    def close(self) -> None:
        self._closing = True
        self._listener.close()
        self._close(*self._sockets)


@dataclass(frozen=True)
class Outcome:
    """One request of the load: what it was, when it started and ended (time.monotonic()), its
    answer."""

    label: str
    started: float
    finished: float
    status: int  # 0: no answer (connection refused or reset)
    body: str
    clears_session_cookie: bool


@dataclass
class Load:
    """Threads calling, round-robin, each of `calls` (label -> a function that makes one request
    with the session it is given) until stopped; every answer is kept in `outcomes`."""

    calls: dict[str, Callable[[requests.Session], requests.Response]]
    threads: int = 4
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._workers = [
            threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(self.threads)
        ]

    def _run(self, offset: int) -> None:
        labels = list(self.calls)
        session = requests.Session()
        turn = offset
        while not self._stop.is_set():
            label = labels[turn % len(labels)]
            turn += 1
            started = time.monotonic()
            try:
                response = self.calls[label](session)
            except requests.RequestException as error:
                self.outcomes.append(
                    Outcome(label, started, time.monotonic(), 0, repr(error)[:300], False)
                )
                session = requests.Session()
                continue
            cleared = any(
                cookie.startswith("__Host-sessionid=;") or cookie.startswith('__Host-sessionid="";')
                for cookie in response.raw.headers.getlist("Set-Cookie")
            )
            self.outcomes.append(
                Outcome(
                    label,
                    started,
                    time.monotonic(),
                    response.status_code,
                    response.text[:300],
                    cleared,
                )
            )

    def __enter__(self) -> "Load":
        for worker in self._workers:
            worker.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=30)

    def of(self, label: str, *, after: float = 0.0, before: float = float("inf")) -> list[Outcome]:
        """The outcomes of `label` whose request started at `after` or later and was answered
        before `before`."""
        return [
            o
            for o in self.outcomes
            if o.label == label and after <= o.started and o.finished < before
        ]


def wait_until(predicate: Callable[[], bool], *, seconds: float, step: float = 0.02) -> float:
    """Poll `predicate` until true; the seconds it took. Fails after `seconds`."""
    began = time.monotonic()
    while not predicate():
        assert time.monotonic() - began < seconds, f"not true within {seconds} s"
        time.sleep(step)
    return time.monotonic() - began
