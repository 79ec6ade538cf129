"""What the fault suite breaks, for real: a PostgreSQL cluster of its own that it stops hard and
starts again, a Redis server it kills with SIGKILL and starts again (with its data or empty),
gunicorn's workers (to stop one), subscribers to Redis that never read, and load: threads
calling the servers and recording every answer with the time its request started.
"""

import contextlib
import glob
import os
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

    def create_database(self, name: str = "signin") -> str:
        """A new database `name`; its URL."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return self.url.rsplit("/", 1)[0] + f"/{name}"

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


def worker_pids(master: int) -> list[int]:
    """The processes gunicorn's `master` has started: its workers."""
    pids = (int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit())
    return [pid for pid in pids if parent_pid(pid) == master]


def parent_pid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def resp_command(*words: str) -> bytes:
    """A command as Redis reads it (RESP)."""
    parts = [f"*{len(words)}\r\n".encode()]
    for word in words:
        parts.append(f"${len(word.encode())}\r\n".encode() + word.encode() + b"\r\n")
    return b"".join(parts)


class PassiveSubscriber:
    """Connections to Redis that subscribe and then never read what they are sent: one to
    `channel`, one to every channel (`PSUBSCRIBE *`), each with a small receive buffer, so Redis
    is soon left holding what it publishes to them, as with a subscriber that hangs."""

    def __init__(self, port: int, *, channel: str) -> None:
        self._sockets = []
        for command in (("SUBSCRIBE", channel), ("PSUBSCRIBE", "*")):
            connection = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            connection.connect(("127.0.0.1", port))
            connection.sendall(resp_command(*command))
            self._sockets.append(connection)

    def close(self) -> None:
        for connection in self._sockets:
            connection.close()


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
    with the session it is given) until stopped, each waiting `pause_seconds` after every
    answer; every answer is kept in `outcomes`."""

    calls: dict[str, Callable[[requests.Session], requests.Response]]
    threads: int = 4
    pause_seconds: float = 0.0
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
            self._stop.wait(self.pause_seconds)

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
