"""Real servers for tests: the project under gunicorn, and Redis, on free loopback ports."""

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 20.0
# gunicorn accepts connections before its worker has loaded Django: the first answer can be slow
# on a busy machine.
HTTP_TIMEOUT = 30.0
# The host production servers in tests answer to (DJANGO_ALLOWED_HOSTS), behind a "balancer".
HOST = "signin.example.com"


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, what: str) -> None:
    """Return once something accepts connections on `port`; fail if `process` dies first."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        assert process.poll() is None, f"{what} exited at start-up"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            assert time.monotonic() < deadline, f"{what} did not start"
            time.sleep(0.05)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str


def http(url: str, *, data: bytes | None = None, headers: dict | None = None) -> Answer:
    """One request with the standard library (no client-side retries or cookies)."""
    request = urllib.request.Request(url, data=data, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:  # noqa: S310
            return Answer(response.status, dict(response.headers), response.read().decode())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read().decode())


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    output: list[str] = field(default_factory=list)


@contextmanager
def running_gunicorn(env: dict[str, str], *, workers: int = 1) -> Iterator[Server]:
    """The project under gunicorn with config/gunicorn.py; `output` holds its log once stopped.

    The log goes to a file, not a pipe: a pipe nobody reads until the end fills after some
    thousand access-log lines, and then every worker thread waits to write its line."""
    port = free_port()
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"],
            cwd=ROOT,
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "config.settings.test",
                "GUNICORN_BIND": f"127.0.0.1:{port}",
                "WEB_CONCURRENCY": str(workers),
                **env,
            },
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        server = Server(f"http://127.0.0.1:{port}", process)
        try:
            wait_for_port(port, process, "gunicorn")
            yield server
        finally:
            process.terminate()
            process.wait(timeout=20)
            log.seek(0)
            server.output.append(log.read())


def redis_server_binary() -> str | None:
    return shutil.which("redis-server")


@contextmanager
def running_redis(port: int) -> Iterator[str]:
    """A throwaway Redis server on `port` (no persistence); yields its URL."""
    process = subprocess.Popen(  # noqa: S603 -- Debian's redis-server
        [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


class RedisCommands:
    """Counts the commands a Redis server runs, as the server counts them (INFO commandstats):
    `with RedisCommands(url) as commands: ...`, then `commands.run` is a Counter of the commands
    run inside the block, less what opening a connection sends (a client's first command) and
    the INFO that took the first count."""

    CONNECTION_SETUP = ("hello", "client|setinfo", "select", "auth")

    def __init__(self, url: str) -> None:
        import redis

        self._client = redis.Redis.from_url(url)
        self.run: Counter = Counter()

    def _counts(self) -> Counter:
        stats = self._client.info("commandstats")
        return Counter({name.removeprefix("cmdstat_"): row["calls"] for name, row in stats.items()})

    def __enter__(self) -> "RedisCommands":
        self._before = self._counts()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.run = self._counts() - self._before - Counter(info=1)
        for name in self.CONNECTION_SETUP:
            del self.run[name]
        self._client.close()


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(  # noqa: S603 -- our own manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def production_env_prepared(
    tmp_path_factory, *, database_url: str, redis_url: str, **extra: str
) -> dict[str, str]:
    """The environment of production servers on `database_url` and `redis_url` (with `extra`),
    answering to HOST behind a load balancer on 127.0.0.1 (where the tests' clients are), rate
    limits out of the way; its signing key made, its database migrated and its static files
    collected, as a deployment does before the servers start."""
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "JWT_SIGNING_KEYS_DIR": str(tmp_path_factory.mktemp("jwt-keys")),
        "DJANGO_STATIC_ROOT": str(tmp_path_factory.mktemp("static")),
        "TRUSTED_PROXIES": "127.0.0.1",
        # Tests race many grants on purpose; the rate limits have tests of their own.
        "API_TOKEN_RATE_PER_ADDRESS": "100000/min",
        "SIGN_IN_RATE_PER_ADDRESS": "100000/m/ip",
        "API_TOKEN_RATE_PER_ACCOUNT": "100000/min",
        **extra,
    }
    manage(env, "jwt_rotate_key")
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "collectstatic", "--noinput", "-v0")
    return env


def person_create(env: dict[str, str], username: str) -> None:
    """A person `username` (email `username@example.com`, a verified email and the factories'
    password), made the way operators would: in a shell."""
    manage(
        env,
        "shell",
        "--no-imports",
        "-c",
        "from tests.factories import UserFactory; "
        f"UserFactory(username='{username}', email='{username}@example.com')",
    )


class Browser:
    """A client behind the TLS-terminating load balancer: it says HTTPS and names the host."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        headers = {
            "Host": HOST,
            "X-Forwarded-Proto": "https",
            "Referer": f"https://{HOST}/",
            **kwargs.pop("headers", {}),
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = requests.request(
            method, url, headers=headers, allow_redirects=False, timeout=HTTP_TIMEOUT, **kwargs
        )
        # The cookies are Secure (__Host-): kept by hand, since this hop is plain HTTP.
        for cookie in response.cookies:
            self.cookies[cookie.name] = cookie.value
        return response


def sign_in(browser: Browser, server: str, *, login: str, password: str) -> None:
    form = browser.request("GET", f"{server}/accounts/login/").text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    answer = browser.request(
        "POST",
        f"{server}/accounts/login/",
        data={"csrfmiddlewaretoken": token, "login": login, "password": password},
    )
    assert answer.status_code == HTTPStatus.FOUND, answer.text[:500]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
