"""Load benchmark (not a test): sessions against JWTs over the wire, under gunicorn, with wrk.

Run from the project folder: `.venv/bin/python -m bench.load [--seconds 30] [--rounds 10]`.
Needs `wrk` (Debian: `apt-get install wrk`), `redis-server`, and a PostgreSQL server whose
`--postgres` role may create databases (default: the role .ci/services makes).

It serves the project with config/gunicorn.py under the production settings, on 127.0.0.1 only,
with a throwaway PostgreSQL database and its own Redis (cache, sessions, revocation marks), as in
production. It prepares one user, a session of that user and an access token, then drives the
auth probe (/compare/probe/, compare.measurements.AuthProbeApi) with wrk for each style in turn,
against the same server and workers: no credentials (the baseline), the session cookie, the bearer
token. Every request says `X-Forwarded-Proto: https`, as the load balancer would. Then it revokes
the token through the API and checks that the very next request with it is refused.

Prints requests per second, p50/p99 latency and the throughput ratio to the baseline against the
targets (bearer >= 90 %, session >= 80 %). The stateless JWT variant has no route on the site (it
would accept revoked tokens); `manage.py authbench` measures it in process.
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
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from tests.servers import free_port, http, running_redis, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
LUA_REPORT = ROOT / "bench" / "wrk_report.lua"
PROBE_PATH = "/compare/probe/"
WARM_UP_SECONDS = 2
STARTUP_SECONDS = 60
# Throughput each style must keep, as a fraction of the baseline's.
TARGETS = {"none": None, "session": 0.80, "jwt": 0.90}
# Runs in `manage.py shell` against the benchmark's database and Redis: the credentials to send.
PREPARE = """
import json
from django.conf import settings
from accounts.models import User
from api import services
from api.models import TokenFamily
from compare.measurements import session_create
user = User.objects.create_user(username="bench", email="bench@example.com")
session = session_create(user=user)
pair = services.token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD)
print(json.dumps({
    "cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}", "access": pair.access
}))
"""


@dataclass(frozen=True)
class LoadResult:
    """One style over all rounds: total throughput, the median round's p50, the worst p99, and
    the median over rounds of its throughput relative to the baseline's in the same round."""

    style: str
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    ratio_to_baseline: float


def rate(summary: dict) -> float:
    return summary["requests"] / (summary["duration_us"] / 1e6)


def load_result(*, style: str, summaries: dict[str, list[dict]]) -> LoadResult:
    runs = summaries[style]
    requests = sum(run["requests"] for run in runs)
    return LoadResult(
        style=style,
        requests=requests,
        requests_per_second=requests / (sum(run["duration_us"] for run in runs) / 1e6),
        p50_ms=statistics.median(run["p50_us"] for run in runs) / 1000,
        p99_ms=max(run["p99_us"] for run in runs) / 1000,
        errors=sum(run["non_2xx"] + run["socket_errors"] for run in runs),
        ratio_to_baseline=statistics.median(
            rate(run) / rate(base) for run, base in zip(runs, summaries["none"], strict=True)
        ),
    )


@contextmanager
def throwaway_database(*, admin_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards; yields its URL."""
    name = f"signin_lab_bench_{secrets.token_hex(4)}"
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
    """Run manage.py under the benchmark's environment; its standard output."""
    result = subprocess.run(  # noqa: S603 -- our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if result.returncode != 0:
        sys.exit(f"manage.py {args[0]} failed:\n{result.stderr}")
    return result.stdout


def healthy(base_url: str) -> bool:
    try:
        return http(f"{base_url}/healthz").status == HTTPStatus.OK
    except OSError:  # refused or timed out: still starting
        return False


@contextmanager
def running_server(*, env: dict[str, str], port: int) -> Iterator[str]:
    """gunicorn with config/gunicorn.py; its access log is still written, but to /dev/null."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process, "gunicorn")
        base_url = f"http://127.0.0.1:{port}"
        # The socket opens before the workers have loaded Django: wait for an answer.
        deadline = time.monotonic() + STARTUP_SECONDS
        while not healthy(base_url):
            if time.monotonic() > deadline:
                sys.exit("gunicorn did not become healthy")
            time.sleep(0.2)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=30)


def wrk(*, url: str, headers: dict[str, str], seconds: int, connections: int) -> dict:
    """One wrk run (one thread: the other core serves); its summary from wrk_report.lua."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(LUA_REPORT)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    result = subprocess.run(  # noqa: S603 -- Debian's wrk, fixed arguments
        [*command, url], capture_output=True, text=True, check=False, timeout=seconds + 60
    )
    if result.returncode != 0:
        sys.exit(f"wrk failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def probe_check(*, url: str, headers: dict[str, str], expected: str) -> None:
    """Refuse to load-test a style whose credentials are not the ones that authenticate."""
    answer = http(url, headers=headers)
    if answer.status != HTTPStatus.OK or json.loads(answer.body)["authenticated_by"] != expected:
        sys.exit(f"The probe answered {answer.status} {answer.body!r}; expected {expected}.")


def revocation_check(*, base_url: str, headers: dict[str, str], token: str) -> str:
    """Revoke `token` through the API, then use it once: the answer, as one line."""
    revoke = http(
        f"{base_url}/api/auth/token/revoke/",
        data=json.dumps({"token": token}).encode(),
        headers={**headers, "Content-Type": "application/json"},
    )
    after = http(f"{base_url}{PROBE_PATH}", headers={**headers, "Authorization": f"Bearer {token}"})
    code = json.loads(after.body).get("error", {}).get("code") if after.body else None
    immediate = revoke.status == HTTPStatus.OK and after.status == HTTPStatus.UNAUTHORIZED
    verdict = "immediate" if immediate else "NOT immediate"
    return f"revoke -> {revoke.status}; next request with it -> {after.status} {code}: {verdict}"


def benchmark(*, seconds: int, rounds: int, connections: int, workers: int, postgres: str) -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    with (
        tempfile.TemporaryDirectory() as folder,
        running_redis(free_port()) as redis_url,
        throwaway_database(admin_url=postgres) as database_url,
    ):
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "JWT_"))},
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_READ_DOT_ENV_FILE": "False",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "JWT_SIGNING_KEYS_DIR": str(Path(folder) / "keys"),
            # Longer than the run, so the token never expires under load.
            "JWT_ACCESS_TOKEN_SECONDS": "3600",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": str(workers),
        }
        manage("jwt_rotate_key", env=env)
        manage("migrate", "--noinput", env=env)
        credentials = json.loads(
            manage("shell", "--no-imports", "-c", PREPARE, env=env).strip().splitlines()[-1]
        )
        https = {"X-Forwarded-Proto": "https"}
        styles = {
            "none": ("none", https),
            "session": (
                "session",
                {**https, "Cookie": credentials["cookie"]},
            ),
            "jwt": ("bearer", {**https, "Authorization": f"Bearer {credentials['access']}"}),
        }
        load_before = os.getloadavg()[0]
        with running_server(env=env, port=port) as base_url:
            url = f"{base_url}{PROBE_PATH}"
            for expected, headers in styles.values():
                probe_check(url=url, headers=headers, expected=expected)
                wrk(url=url, headers=headers, seconds=WARM_UP_SECONDS, connections=connections)
            # Styles take turns, round by round: a change in the machine's load during the run
            # touches them alike, and each ratio compares runs seconds apart.
            summaries: dict[str, list[dict]] = {style: [] for style in styles}
            for _ in range(rounds):
                for style, (_, headers) in styles.items():
                    summaries[style].append(
                        wrk(
                            url=url,
                            headers=headers,
                            seconds=seconds // rounds,
                            connections=connections,
                        )
                    )
            revocation = revocation_check(
                base_url=base_url, headers=https, token=credentials["access"]
            )
        report(
            results=[load_result(style=style, summaries=summaries) for style in styles],
            revocation=revocation,
            seconds=seconds,
            rounds=rounds,
            connections=connections,
            workers=workers,
            load_before=load_before,
        )


def report(
    *,
    results: list[LoadResult],
    revocation: str,
    seconds: int,
    rounds: int,
    connections: int,
    workers: int,
    load_before: float,
) -> None:
    print(
        f"GET {PROBE_PATH} on gunicorn ({workers} workers x gthread), production settings, "
        f"PostgreSQL + Redis, loopback; wrk -t1 -c{connections}, {seconds} s per style "
        f"in {rounds} turns after {WARM_UP_SECONDS} s of warm-up; {os.cpu_count()} cores "
        f"shared by everything (load average before: {load_before:.2f})."
    )
    print(f"{'style':<9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'x base':>8}  target")
    for r in results:
        ratio = r.ratio_to_baseline
        target = TARGETS[r.style]
        verdict = (
            "" if target is None else f">= {target:.2f}: {'met' if ratio >= target else 'MISSED'}"
        )
        print(
            f"{r.style:<9}{r.requests_per_second:>9.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}"
            f"{r.errors:>8}{ratio:>8.2f}  {verdict}"
        )
    print(f"Revocation: {revocation}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Many short turns: on a small shared machine the throughput of one 3 s run moves by +-5 %;
    # the median of ten paired ratios moves much less.
    parser.add_argument("--seconds", type=int, default=30, help="per style (default 30)")
    parser.add_argument(
        "--rounds", type=int, default=10, help="turns the styles take, splitting --seconds (10)"
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * (os.cpu_count() or 1) + 1,
        help="gunicorn workers, the same for every style (default: config/gunicorn.py's)",
    )
    parser.add_argument(
        "--postgres",
        default="postgres://signin:signin@127.0.0.1:5432/postgres",
        help="a PostgreSQL URL whose role may create databases",
    )
    options = parser.parse_args()
    benchmark(
        seconds=options.seconds,
        rounds=options.rounds,
        connections=options.connections,
        workers=options.workers,
        postgres=options.postgres,
    )


if __name__ == "__main__":
    main()
