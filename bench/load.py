"""Load benchmark (not a test): the project against a stock peer, over the wire, with wrk; CPU
time per request of every process serving each side, throughput beside it.

Run from the project folder: `.venv/bin/python -m bench.load [--seconds 30] [--rounds 10]
[--only probe-bearer,peer-jwt-stateless] [--workers N] [--threads N] [--connections 16]
[--project-cache django-redis|django]`. Needs `wrk` (Debian: `apt-get install wrk`),
`redis-server`, and a PostgreSQL server on this machine whose `--postgres` role may create
databases (default: the role .ci/services makes); run as root, to read its backends' /proc.

Two servers run side by side on 127.0.0.1, both under gunicorn with config/gunicorn.py and the
same shape (--workers x --threads), each with a throwaway database on the same PostgreSQL server
and a Redis server of its own:

- the project, under its production settings (`--project-cache django`: bench/
  project_django_cache.py, the same with every django-redis alias on Django's own RedisCache);
- the peer (bench/peer/): what a developer would build instead, `django-admin startproject` with
  Django REST framework and djangorestframework-simplejwt in stock settings.

Each gets one user, a session of that user (cookie) and an access token; the project also a
DPoP-bound access token and its key (me-dpop: each request carries a new proof, written to a file
before the run, bench/dpop_proofs.lua; its cost is read against me-bearer's). Every target (TARGETS)
is first checked to answer 200 with the credentials it is meant to use (for the project, that
the expected authenticator accepted them), warmed up, then driven by wrk in turns, round by
round: each project target right beside its peer, in alternating order (measured_turns). Every
request says `X-Forwarded-Proto: https`, as the load balancer would.

Around every turn, the CPU time (user + system, /proc/<pid>/stat) of each process serving the
target's side is read: its gunicorn master and workers (with the time of workers that exited
and were reaped meanwhile), its Redis server, and its PostgreSQL backends (pg_stat_activity's
pids on its database, listed at the start and at the end of the turn, and every
BACKEND_READING_SECONDS between, so a backend that ends during the turn is counted up to its
last reading). CPU per request is those seconds over the requests wrk completed in the turn.
wrk itself, the other side and the machine's other work are not counted. At the end the
project's token is revoked through its API, and the very next request with it must be refused.

Prints, per target, the CPU per request in µs (all, then workers / Redis / PostgreSQL), requests
per second, p50/p99 latency and errors; for each project target, "x peer": the peer's CPU per
request over ours in the turn beside it (higher is better), the median over rounds, against its
goal, and the same median of our throughput over the peer's. `--only` measures a subset (the
peers of the chosen targets come along).
"""

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from psycopg import sql

from config import gunicorn as gunicorn_config
from tests.faults.services import worker_pids
from tests.servers import free_port, http, running_redis, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
LUA_REPORT = ROOT / "bench" / "wrk_report.lua"
LUA_DPOP = ROOT / "bench" / "dpop_proofs.lua"
# DPoP proofs written for one wrk run, per second of it: more than the API answers in a second.
DPOP_PROOFS_PER_SECOND = 4000
# A bound token with its proof may cost at most this many times a bearer token per request.
DPOP_COST_GOAL = 1.5
PROBE_PATH = "/compare/probe/"
WARM_UP_SECONDS = 2
STARTUP_SECONDS = 60
HTTPS = {"X-Forwarded-Proto": "https"}
# In a target's `expect`: the id of the user prepared on that target's server.
USER_ID = "<user id>"
# The settings the project runs under, by --project-cache.
PROJECT_SETTINGS = {
    "django-redis": "config.settings.production",
    "django": "bench.project_django_cache",
}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# How often a turn lists its side's PostgreSQL backends and reads their CPU time.
BACKEND_READING_SECONDS = 0.25
# Where a side's CPU time goes: its gunicorn master and workers, its Redis, its PostgreSQL backends.
PARTS = ("workers", "redis", "postgres")


@dataclass(frozen=True)
class Server:
    """One of the two servers: its WSGI app, where it answers when up, its preparation."""

    name: str
    app: str
    health_path: str
    settings: str


PROJECT = Server("project", "config.wsgi", "/healthz", "config.settings.production")
PEER = Server("peer", "bench.peer.wsgi", "/none/", "bench.peer.settings")


@dataclass(frozen=True)
class Target:
    """One URL with one kind of credentials ("none", "session" or "bearer") on one server.

    `peer` names the target it is compared with, `goal` the least the peer's CPU per request
    must be as a multiple of its own; `expect` holds fields its answer must have before it is
    loaded.
    """

    name: str
    server: Server
    path: str
    credentials: str
    peer: str | None = None
    goal: float | None = None
    expect: dict[str, object] = field(default_factory=dict)


TARGETS = (
    Target("peer-none", PEER, "/none/", "none", expect={"ok": True}),
    Target("peer-jwt", PEER, "/jwt/", "bearer", expect={"id": USER_ID}),
    Target("peer-jwt-stateless", PEER, "/jwt-stateless/", "bearer", expect={"id": USER_ID}),
    Target("peer-session", PEER, "/session/", "session", expect={"id": USER_ID}),
    Target(
        "probe-none",
        PROJECT,
        PROBE_PATH,
        "none",
        peer="peer-none",
        goal=0.90,
        expect={"authenticated_by": "none", "user_id": None},
    ),
    Target(
        "probe-session",
        PROJECT,
        PROBE_PATH,
        "session",
        peer="peer-session",
        expect={"authenticated_by": "session", "user_id": USER_ID},
    ),
    Target(
        "probe-bearer",
        PROJECT,
        PROBE_PATH,
        "bearer",
        peer="peer-jwt-stateless",
        goal=0.90,
        expect={"authenticated_by": "bearer", "user_id": USER_ID},
    ),
    Target(
        "me-session",
        PROJECT,
        "/api/me/",
        "session",
        peer="peer-session",
        goal=1.5,
        expect={"authenticated_by": "session", "id": USER_ID},
    ),
    Target(
        "me-bearer",
        PROJECT,
        "/api/me/",
        "bearer",
        peer="peer-jwt",
        goal=1.5,
        expect={"authenticated_by": "bearer", "id": USER_ID},
    ),
    Target("notes-bearer", PROJECT, "/api/notes/", "bearer", peer="peer-jwt"),
    # A DPoP-bound token with a fresh proof per request (RFC 9449): its cost is read against
    # me-bearer's (at most 1.5 times), its peer is the stock JWT's.
    Target(
        "me-dpop",
        PROJECT,
        "/api/me/",
        "dpop",
        peer="peer-jwt",
        expect={"authenticated_by": "dpop", "id": USER_ID},
    ),
)
TARGETS_BY_NAME = {target.name: target for target in TARGETS}

# Run in `shell` against each server's database and Redis: the credentials to send, as JSON.
PREPARE = {
    PROJECT: """
import json
from django.conf import settings
from accounts.models import User
from api import services
from api.models import TokenFamily
from compare.measurements import session_create
user = User.objects.create_user(username="bench", email="bench@example.com")
session = session_create(user=user)
pair = services.token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD)
from joserfc.jwk import ECKey
dpop_key = ECKey.generate_key("P-256")
bound = services.token_pair_issue(
    user=user, origin=TokenFamily.Origin.PASSWORD, jkt=dpop_key.thumbprint()
)
print(json.dumps({
    "cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}",
    "access": pair.access,
    "dpop_access": bound.access,
    "dpop_key": dpop_key.as_dict(private=True),
    "user_id": user.pk,
    "caches": {alias: each["BACKEND"] for alias, each in settings.CACHES.items()},
}))
""",
    # Stock only: Django's own login into the session store, simplejwt's own access token.
    PEER: """
import json
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from rest_framework_simplejwt.tokens import AccessToken
user = User.objects.create_user(username="bench", email="bench@example.com")
client = Client()
client.force_login(user)
name = settings.SESSION_COOKIE_NAME
print(json.dumps({
    "cookie": f"{name}={client.cookies[name].value}",
    "access": str(AccessToken.for_user(user)),
    "user_id": user.pk,
}))
""",
}


@dataclass(frozen=True)
class Processes:
    """What serves one side: its gunicorn master (the workers are its children), its Redis
    server, and the database whose PostgreSQL backends are its own."""

    master: int
    redis: int
    database: str


def proc_stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat's fields after the command name (the state first); None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rsplit(")", 1)[1].split()


# Indices in proc_stat's fields: proc(5)'s field numbers less 3 (pid and comm come first).
UTIME, STIME, CUTIME, CSTIME = 11, 12, 13, 14


class CpuMeter:
    """Reads the CPU time, in clock ticks, of every process serving a side, by part (PARTS)."""

    def __init__(self, *, admin_url: str, sides: dict[Server, Processes]) -> None:
        self.sides = sides
        # Connected to the admin database, so its own backend is no side's.
        self.admin = psycopg.connect(admin_url, autocommit=True)

    def close(self) -> None:
        self.admin.close()

    def snapshot(self, server: Server) -> dict[str, dict[int, int]]:
        """Per part, each process's ticks. The master's include its reaped children's (cutime,
        cstime): a worker that exits during a turn still has its time counted."""
        side = self.sides[server]
        ticks: dict[str, dict[int, int]] = {part: {} for part in PARTS}
        master = proc_stat(side.master)
        if master is not None:
            ticks["workers"][side.master] = sum(
                int(master[i]) for i in (UTIME, STIME, CUTIME, CSTIME)
            )
        for pid in [*worker_pids(side.master), side.redis]:
            if (fields := proc_stat(pid)) is not None:
                part = "redis" if pid == side.redis else "workers"
                ticks[part][pid] = int(fields[UTIME]) + int(fields[STIME])
        ticks["postgres"] = self.backend_ticks(side)
        return ticks

    def backend_ticks(self, side: Processes) -> dict[int, int]:
        backends = self.admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (side.database,)
        ).fetchall()
        ticks = {}
        for (pid,) in backends:
            if (fields := proc_stat(pid)) is not None:
                ticks[pid] = int(fields[UTIME]) + int(fields[STIME])
        return ticks

    @contextmanager
    def measuring(self, server: Server) -> Iterator[dict]:
        """What `server`'s side spends inside the block (cpu_between's answer, filled on exit).

        The backends are listed at the start and at the end, and every BACKEND_READING_SECONDS
        between: a backend that ends during the block (Django closes a connection older than
        CONN_MAX_AGE, and the postmaster, not the side, reaps it) is counted up to its last
        reading."""
        side = self.sides[server]
        start = self.snapshot(server)
        latest = dict(start["postgres"])
        done = threading.Event()

        def read_backends() -> None:
            while not done.wait(BACKEND_READING_SECONDS):
                latest.update(self.backend_ticks(side))

        reader = threading.Thread(target=read_backends)
        reader.start()
        spent: dict = {}
        try:
            yield spent
        finally:
            done.set()
            reader.join()
            end = self.snapshot(server)
            latest.update(end["postgres"])
            spent |= cpu_between(start=start, end=end, backends=latest)


def cpu_between(
    *, start: dict[str, dict[int, int]], end: dict[str, dict[int, int]], backends: dict[int, int]
) -> dict:
    """CPU seconds per part from `start` to `end`, and how many PostgreSQL backends ended in
    between. The gunicorn tree's is its total at `end` less its total at `start` (a reaped
    worker's time moved into the master's); a backend's is its last reading (`backends`) less
    its time at `start`, or all of it if it began in between."""
    seconds = {
        part: (sum(end[part].values()) - sum(start[part].values())) / CLOCK_TICKS
        for part in ("workers", "redis")
    }
    seconds["postgres"] = (
        sum(ticks - start["postgres"].get(pid, 0) for pid, ticks in backends.items()) / CLOCK_TICKS
    )
    return {"seconds": seconds, "ended_backends": len(backends.keys() - end["postgres"])}


@dataclass(frozen=True)
class LoadResult:
    """One target over all its turns: total throughput, the median turn's p50, the worst p99,
    CPU µs per request by part, and the medians over rounds of the peer's CPU per request over
    ours and of our throughput over the peer's, each in the turn beside it."""

    target: Target
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us: dict[str, float]
    ended_backends: int
    cpu_ratio: float | None
    rate_ratio: float | None


def rate(summary: dict) -> float:
    return summary["requests"] / (summary["duration_us"] / 1e6)


def cpu_per_request(summary: dict) -> float:
    return sum(summary["cpu"]["seconds"].values()) / max(summary["requests"], 1)


def load_result(
    *, target: Target, runs: list[dict], ratios: list[tuple[float, float]]
) -> LoadResult:
    requests = sum(run["requests"] for run in runs)
    return LoadResult(
        target=target,
        requests=requests,
        requests_per_second=requests / (sum(run["duration_us"] for run in runs) / 1e6),
        p50_ms=statistics.median(run["p50_us"] for run in runs) / 1000,
        p99_ms=max(run["p99_us"] for run in runs) / 1000,
        errors=sum(run["non_2xx"] + run["socket_errors"] for run in runs),
        cpu_us={
            part: sum(run["cpu"]["seconds"][part] for run in runs) / max(requests, 1) * 1e6
            for part in PARTS
        },
        ended_backends=sum(run["cpu"]["ended_backends"] for run in runs),
        cpu_ratio=statistics.median(cpu for cpu, _ in ratios) if ratios else None,
        rate_ratio=statistics.median(rate for _, rate in ratios) if ratios else None,
    )


def measured_turns(
    *,
    targets: list[Target],
    runs: dict[str, tuple[str, dict[str, str], "DpopProofs | None"]],
    meter: CpuMeter,
    rounds: int,
    seconds: int,
    connections: int,
) -> tuple[dict[str, list[dict]], dict[str, list[tuple[float, float]]]]:
    """Each target's wrk summaries (with the CPU its side spent, `cpu`), and each project
    target's (peer's CPU per request over its own, its throughput over the peer's), turn by turn.
    A project target runs right beside its peer, which goes first in even rounds and second in
    odd ones: a ratio compares two runs `seconds` apart, so a change in the machine's load (this
    one is shared) touches both sides alike. A peer is measured beside every target compared
    with it; one that no selected target compares with runs alone, once a round."""
    pairs = [(target, TARGETS_BY_NAME[target.peer]) for target in targets if target.peer]
    compared = {peer.name for _, peer in pairs}
    alone = [t for t in targets if t.peer is None and t.name not in compared]
    turns: dict[str, list[dict]] = {target.name: [] for target in targets}
    ratios: dict[str, list[tuple[float, float]]] = {target.name: [] for target, _ in pairs}

    def turn(target: Target) -> dict:
        url, headers, proofs = runs[target.name]
        with meter.measuring(target.server) as spent:
            summary = wrk(
                url=url, headers=headers, seconds=seconds, connections=connections, proofs=proofs
            )
        summary["cpu"] = spent
        turns[target.name].append(summary)
        return summary

    for number in range(rounds):
        for target, peer in pairs:
            if number % 2 == 0:
                peer_run, target_run = turn(peer), turn(target)
            else:
                target_run, peer_run = turn(target), turn(peer)
            # A turn that completed no request (every one timed out) is no comparison.
            if rate(target_run) and rate(peer_run):
                ratios[target.name].append(
                    (
                        cpu_per_request(peer_run) / cpu_per_request(target_run),
                        rate(target_run) / rate(peer_run),
                    )
                )
        for target in alone:
            turn(target)
    return turns, ratios


@contextmanager
def throwaway_database(*, admin_url: str, label: str) -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards; yields its URL."""
    name = f"signin_lab_bench_{label}_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def manage(*args: str, env: dict[str, str]) -> str:
    """Run a management command under `env` (its DJANGO_SETTINGS_MODULE); its standard output."""
    result = subprocess.run(  # noqa: S603 -- our own interpreter and Django
        [sys.executable, "-m", "django", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if result.returncode != 0:
        sys.exit(f"{env['DJANGO_SETTINGS_MODULE']}: {args[0]} failed:\n{result.stderr}")
    return result.stdout


def healthy(url: str) -> bool:
    try:
        return http(url, headers=HTTPS).status == HTTPStatus.OK
    except OSError:  # refused or timed out: still starting
        return False


@dataclass(frozen=True)
class RunningServer:
    url: str
    pid: int  # gunicorn's master


@contextmanager
def running_server(*, server: Server, env: dict[str, str], port: int) -> Iterator[RunningServer]:
    """gunicorn with config/gunicorn.py; its access log is still written, but to /dev/null."""
    process = subprocess.Popen(  # noqa: S603 -- our own interpreter and gunicorn
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", server.app],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process, f"gunicorn ({server.name})")
        base_url = f"http://127.0.0.1:{port}"
        # The socket opens before the workers have loaded Django: wait for an answer.
        deadline = time.monotonic() + STARTUP_SECONDS
        while not healthy(f"{base_url}{server.health_path}"):
            if time.monotonic() > deadline:
                sys.exit(f"gunicorn ({server.name}) did not become healthy")
            time.sleep(0.2)
        yield RunningServer(base_url, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


class DpopProofs:
    """Fresh DPoP proofs for GET `url` with `access_token`, signed with the prepared key."""

    def __init__(self, *, url: str, access_token: str, private_jwk: dict) -> None:
        from joserfc.jwk import ECKey

        from api.dpop import token_hash

        self.key = ECKey.import_key(private_jwk)
        self.htu = urlunsplit(urlsplit(url)._replace(scheme="https"))
        self.ath = token_hash(access_token)

    def one(self) -> str:
        from joserfc import jws

        from api.dpop import PROOF_REGISTRY

        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.key.as_dict(private=False)}
        claims = {
            "jti": secrets.token_urlsafe(12),
            "htm": "GET",
            "htu": self.htu,
            "iat": int(time.time()),
            "ath": self.ath,
        }
        return jws.serialize_compact(
            header, json.dumps(claims).encode(), self.key, registry=PROOF_REGISTRY
        )

    def written(self, folder: str, seconds: int) -> str:
        """A file of proofs for a run of `seconds`, one per line: its path."""
        path = Path(folder) / f"proofs-{secrets.token_hex(4)}"
        path.write_text("\n".join(self.one() for _ in range(DPOP_PROOFS_PER_SECOND * seconds)))
        return str(path)


def wrk(
    *,
    url: str,
    headers: dict[str, str],
    seconds: int,
    connections: int,
    proofs: DpopProofs | None = None,
) -> dict:
    """One wrk run (one thread: the other core serves); its summary from wrk_report.lua. With
    `proofs`, each request carries a new one (dpop_proofs.lua), written before the run starts."""
    env = None
    script = LUA_REPORT
    with tempfile.TemporaryDirectory() as folder:
        if proofs is not None:
            script = LUA_DPOP
            env = {
                **os.environ,
                "SIGNIN_LAB_WRK_REPORT": str(LUA_REPORT),
                "SIGNIN_LAB_DPOP_PROOFS": proofs.written(folder, seconds),
            }
        command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script)]
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        result = subprocess.run(  # noqa: S603 -- Debian's wrk, fixed arguments
            [*command, url],
            capture_output=True,
            text=True,
            check=False,
            timeout=seconds + 60,
            env=env,
        )
    if result.returncode != 0:
        sys.exit(f"wrk failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def request_headers(*, target: Target, credentials: dict) -> dict[str, str]:
    if target.credentials == "session":
        return {**HTTPS, "Cookie": credentials["cookie"]}
    if target.credentials == "bearer":
        return {**HTTPS, "Authorization": f"Bearer {credentials['access']}"}
    if target.credentials == "dpop":
        return {**HTTPS, "Authorization": f"DPoP {credentials['dpop_access']}"}
    return HTTPS


def target_proofs(*, target: Target, url: str, credentials: dict) -> DpopProofs | None:
    if target.credentials != "dpop":
        return None
    return DpopProofs(
        url=url, access_token=credentials["dpop_access"], private_jwk=credentials["dpop_key"]
    )


def probe_check(*, target: Target, url: str, headers: dict[str, str], user_id: int) -> None:
    """Refuse to load a target that does not answer 200 with the answer its credentials earn."""
    answer = http(url, headers=headers)
    # simplejwt's stateless TokenUser answers the id as the token holds it, a string.
    expected = {k: str(user_id) if v == USER_ID else v for k, v in target.expect.items()}
    body = json.loads(answer.body) if answer.status == HTTPStatus.OK else {}
    got = {
        k: str(body[k]) if v == USER_ID and k in body else body.get(k)
        for k, v in target.expect.items()
    }
    if answer.status != HTTPStatus.OK or got != expected:
        sys.exit(
            f"{target.name}: GET {target.path} answered {answer.status} {answer.body[:300]!r}; "
            f"expected 200 with {expected}."
        )


def revocation_check(*, base_url: str, token: str) -> str:
    """Revoke `token` through the project's API, then use it once: the answer, as one line."""
    revoke = http(
        f"{base_url}/api/auth/token/revoke/",
        data=json.dumps({"token": token}).encode(),
        headers={**HTTPS, "Content-Type": "application/json"},
    )
    after = http(f"{base_url}{PROBE_PATH}", headers={**HTTPS, "Authorization": f"Bearer {token}"})
    code = json.loads(after.body).get("error", {}).get("code") if after.body else None
    immediate = revoke.status == HTTPStatus.OK and after.status == HTTPStatus.UNAUTHORIZED
    verdict = "immediate" if immediate else "NOT immediate"
    return f"revoke -> {revoke.status}; next request with it -> {after.status} {code}: {verdict}"


def server_env(
    *, server: Server, database_url: str, redis_url: str, port: int, workers: int, threads: int
) -> dict[str, str]:
    return {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "JWT_", "GUNICORN_"))
        },
        "DJANGO_SETTINGS_MODULE": server.settings,
        "DJANGO_READ_DOT_ENV_FILE": "False",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        # The benchmark's client plays the TLS-terminating load balancer (X-Forwarded-Proto).
        "TRUSTED_PROXIES": "127.0.0.1",
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_THREADS": str(threads),
    }


def selected_targets(only: str | None) -> list[Target]:
    """The targets named in `only` (all without it) and their peers, in TARGETS order."""
    if not only:
        return list(TARGETS)
    names = {name.strip() for name in only.split(",") if name.strip()}
    unknown = names - TARGETS_BY_NAME.keys()
    if unknown:
        sys.exit(f"--only: unknown target(s) {sorted(unknown)}; known: {list(TARGETS_BY_NAME)}")
    names |= {TARGETS_BY_NAME[name].peer for name in names} - {None}
    return [target for target in TARGETS if target.name in names]


def target_servers(targets: list[Target]) -> list[Server]:
    """The servers `targets` run on, the project first."""
    return [server for server in (PROJECT, PEER) if any(t.server is server for t in targets)]


@contextmanager
def prepared(
    *,
    servers: list[Server],
    postgres: str,
    workers: int,
    threads: int,
    project_settings: str = PROJECT.settings,
) -> Iterator[tuple[dict[Server, dict[str, str]], dict[Server, dict]]]:
    """Each server's environment (a throwaway database, migrated; a Redis server of its own;
    the project under `project_settings`) and credentials for it (a user, a session, an access
    token): what bench.load and bench.inprocess run on."""
    with ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory())
        envs: dict[Server, dict[str, str]] = {}
        credentials: dict[Server, dict] = {}
        for server in servers:
            database_url = stack.enter_context(
                throwaway_database(admin_url=postgres, label=server.name)
            )
            env = server_env(
                server=server,
                database_url=database_url,
                redis_url=stack.enter_context(running_redis(free_port())),
                port=free_port(),
                workers=workers,
                threads=threads,
            )
            if server is PROJECT:
                env |= {
                    "DJANGO_SETTINGS_MODULE": project_settings,
                    "JWT_SIGNING_KEYS_DIR": str(Path(folder) / "keys"),
                    # Longer than the run, so the token never expires under load.
                    "JWT_ACCESS_TOKEN_SECONDS": "3600",
                }
                manage("jwt_rotate_key", env=env)
            manage("migrate", "--noinput", env=env)
            output = manage("shell", "--no-imports", "-c", PREPARE[server], env=env)
            credentials[server] = json.loads(output.strip().splitlines()[-1])
            envs[server] = env
        yield envs, credentials


def side_processes(*, env: dict[str, str], master: int) -> Processes:
    """The processes serving the side that runs under `env`, its gunicorn master being `master`."""
    with redis.Redis.from_url(env["REDIS_URL"]) as client:
        redis_pid = int(client.info("server")["process_id"])
    return Processes(
        master=master, redis=redis_pid, database=urlsplit(env["DATABASE_URL"]).path.lstrip("/")
    )


def benchmark(
    *,
    targets: list[Target],
    seconds: int,
    rounds: int,
    connections: int,
    workers: int,
    threads: int,
    postgres: str,
    project_cache: str,
) -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    servers = target_servers(targets)
    with ExitStack() as stack:
        envs, credentials = stack.enter_context(
            prepared(
                servers=servers,
                postgres=postgres,
                workers=workers,
                threads=threads,
                project_settings=PROJECT_SETTINGS[project_cache],
            )
        )
        load_before = os.getloadavg()[0]
        # Both servers run at once, so they share the machine alike while the targets take turns.
        running = {
            server: stack.enter_context(
                running_server(
                    server=server,
                    env=envs[server],
                    port=int(envs[server]["GUNICORN_BIND"].rsplit(":", 1)[1]),
                )
            )
            for server in servers
        }
        meter = CpuMeter(
            admin_url=postgres,
            sides={
                server: side_processes(env=envs[server], master=running[server].pid)
                for server in servers
            },
        )
        stack.callback(meter.close)
        urls = {target.name: f"{running[target.server].url}{target.path}" for target in targets}
        runs = {
            target.name: (
                urls[target.name],
                request_headers(target=target, credentials=credentials[target.server]),
                target_proofs(
                    target=target, url=urls[target.name], credentials=credentials[target.server]
                ),
            )
            for target in targets
        }
        for target in targets:
            url, headers, proofs = runs[target.name]
            user_id = credentials[target.server]["user_id"]
            checked = {**headers, "DPoP": proofs.one()} if proofs is not None else headers
            probe_check(target=target, url=url, headers=checked, user_id=user_id)
            wrk(
                url=url,
                headers=headers,
                seconds=WARM_UP_SECONDS,
                connections=connections,
                proofs=proofs,
            )
        turns, ratios = measured_turns(
            targets=targets,
            runs=runs,
            meter=meter,
            rounds=rounds,
            seconds=max(1, seconds // rounds),
            connections=connections,
        )
        revocation = "not checked (no project target)"
        if PROJECT in running:
            revocation = revocation_check(
                base_url=running[PROJECT].url, token=credentials[PROJECT]["access"]
            )
    project_caches = credentials.get(PROJECT, {}).get("caches", {})
    print(
        f"Project (settings {PROJECT_SETTINGS[project_cache]}, --project-cache {project_cache}; "
        "cache backends: "
        + (", ".join(f"{alias} {backend}" for alias, backend in project_caches.items()) or "-")
        + ") and stock peer (bench/peer), each on gunicorn "
        f"{workers} workers x {threads} threads, its own Redis server, PostgreSQL, loopback; "
        f"wrk -t1 -c{connections}, {seconds} s per target in {rounds} rounds after "
        f"{WARM_UP_SECONDS} s of warm-up; {os.cpu_count()} cores shared by everything "
        f"(load average before: {load_before:.2f})."
    )
    report(
        results=[
            load_result(target=target, runs=turns[target.name], ratios=ratios.get(target.name, []))
            for target in targets
        ],
        revocation=revocation,
    )


def report(*, results: list[LoadResult], revocation: str) -> None:
    print(
        "CPU: µs per request of the side's processes (all = workers + redis + postgres); "
        "x peer: the peer's CPU per request over ours (higher is better), thr x peer: our "
        "throughput over the peer's, each the median over rounds of the turns side by side."
    )
    print(
        f"{'target':<19}{'all':>7}{'workers':>8}{'redis':>6}{'pg':>6}{'req/s':>7}{'p50 ms':>7}"
        f"{'p99 ms':>7}{'errors':>7}  {'peer':<19}{'x peer':>6}{'goal':>8}{'thr x':>6}  verdict"
    )
    for r in results:
        target = r.target
        cpu_ratio = "" if r.cpu_ratio is None else f"{r.cpu_ratio:.2f}"
        rate_ratio = "" if r.rate_ratio is None else f"{r.rate_ratio:.2f}"
        goal = "" if target.goal is None else f">= {target.goal:.2f}"
        verdict = ""
        if target.goal is not None and r.cpu_ratio is not None:
            verdict = "met" if r.cpu_ratio >= target.goal else "MISSED"
        cpu = r.cpu_us
        print(
            f"{target.name:<19}{sum(cpu.values()):>7.0f}{cpu['workers']:>8.0f}{cpu['redis']:>6.0f}"
            f"{cpu['postgres']:>6.0f}{r.requests_per_second:>7.0f}{r.p50_ms:>7.2f}{r.p99_ms:>7.2f}"
            f"{r.errors:>7}  {target.peer or '-':<19}{cpu_ratio:>6}{goal:>8}{rate_ratio:>6}  "
            f"{verdict}".rstrip()
        )
    by_name = {r.target.name: r for r in results}
    dpop, bearer = by_name.get("me-dpop"), by_name.get("me-bearer")
    if dpop is not None and bearer is not None and dpop.cpu_ratio and bearer.cpu_ratio:
        totals = sum(dpop.cpu_us.values()) / sum(bearer.cpu_us.values())
        paired = bearer.cpu_ratio / dpop.cpu_ratio
        print(
            f"DPoP: me-dpop's CPU per request is {paired:.2f} x me-bearer's (their x peer against "
            f"the same peer-jwt turns; {totals:.2f} x from the totals); goal at most "
            f"{DPOP_COST_GOAL:.2f}: {'met' if paired <= DPOP_COST_GOAL else 'MISSED'}."
        )
    ended = sum(r.ended_backends for r in results)
    print(
        f"PostgreSQL backends that ended during a turn: {ended} (each counted up to its last "
        f"reading, at most {BACKEND_READING_SECONDS} s before it ended)."
    )
    print(f"Revocation: {revocation}")


def main() -> None:
    # config/gunicorn.py's own (it reads WEB_CONCURRENCY and GUNICORN_THREADS).
    default_workers, default_threads = gunicorn_config.workers, gunicorn_config.threads
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Many short turns: on a small shared machine the throughput of one 3 s run moves by +-5 %;
    # the median of ten paired ratios moves much less.
    parser.add_argument(
        "--seconds", type=int, default=30, help="per target; a peer, as often as it is compared"
    )
    parser.add_argument(
        "--rounds", type=int, default=10, help="turns the targets take, splitting --seconds (10)"
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument(
        "--workers",
        type=int,
        default=default_workers,
        help=f"gunicorn workers, both servers (default: config/gunicorn.py's, {default_workers})",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=default_threads,
        help=f"threads per worker, both servers (default: config/gunicorn.py's, {default_threads})",
    )
    parser.add_argument(
        "--only",
        help="comma-separated targets to measure (their peers come along): "
        + ", ".join(TARGETS_BY_NAME),
    )
    parser.add_argument(
        "--project-cache",
        choices=list(PROJECT_SETTINGS),
        default="django-redis",
        help="django-redis: the production settings as they are (default); django: every "
        "django-redis alias on Django's own RedisCache (bench/project_django_cache.py)",
    )
    parser.add_argument(
        "--postgres",
        default="postgres://signin:signin@127.0.0.1:5432/postgres",
        help="a PostgreSQL URL whose role may create databases",
    )
    options = parser.parse_args()
    benchmark(
        targets=selected_targets(options.only),
        seconds=options.seconds,
        rounds=options.rounds,
        connections=options.connections,
        workers=options.workers,
        threads=options.threads,
        postgres=options.postgres,
        project_cache=options.project_cache,
    )


if __name__ == "__main__":
    main()
