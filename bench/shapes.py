"""Worker shapes (not a test): which gunicorn shape serves mixed load best on this machine.

Run from the project folder: `.venv/bin/python -m bench.shapes [--shapes 5x4,3x4,2x4,2x8]
[--seconds 20] [--connections 8]`. Needs what bench/load.py needs (wrk, redis-server, a
PostgreSQL role that may create databases).

For each shape (workers x threads), two production servers of the project run side by side on
one PostgreSQL database and one Redis, as behind a load balancer, and four wrk streams load them
at once for --seconds: on server A `/api/me/` and `/api/notes/` with a bearer token, on server B
`/api/me/` with a session and the auth probe with a bearer token. Printed per shape: each
stream's requests per second, p50 and p99 latency, and the total. A shape that starves one
stream (the others served, it waiting) shows as a low rate and a p99 of seconds.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from bench.load import (
    HTTPS,
    PREPARE,
    PROJECT,
    manage,
    running_server,
    server_env,
    throwaway_database,
    wrk,
)
from tests.servers import free_port, running_redis

# (server, path, credentials) of the four streams.
STREAMS = (
    ("A", "/api/me/", "bearer"),
    ("A", "/api/notes/", "bearer"),
    ("B", "/api/me/", "session"),
    ("B", "/compare/probe/", "bearer"),
)


def shape(text: str) -> tuple[int, int]:
    workers, _, threads = text.partition("x")
    return int(workers), int(threads)


def headers_for(credentials: dict, kind: str) -> dict[str, str]:
    if kind == "session":
        return {**HTTPS, "Cookie": credentials["cookie"]}
    return {**HTTPS, "Authorization": f"Bearer {credentials['access']}"}


def measure(*, workers: int, threads: int, seconds: int, connections: int, postgres: str) -> list:
    with ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory())
        redis_url = stack.enter_context(running_redis(free_port()))
        database_url = stack.enter_context(throwaway_database(admin_url=postgres, label="shape"))
        envs = {}
        for name in ("A", "B"):
            envs[name] = server_env(
                server=PROJECT,
                database_url=database_url,
                redis_url=redis_url,
                port=free_port(),
                workers=workers,
                threads=threads,
            ) | {
                "JWT_SIGNING_KEYS_DIR": str(Path(folder) / "keys"),
                "JWT_ACCESS_TOKEN_SECONDS": "3600",
            }
        # Both servers share the secret key, as a deployment's servers do.
        envs["B"]["DJANGO_SECRET_KEY"] = envs["A"]["DJANGO_SECRET_KEY"]
        manage("jwt_rotate_key", env=envs["A"])
        manage("migrate", "--noinput", env=envs["A"])
        output = manage("shell", "--no-imports", "-c", PREPARE[PROJECT], env=envs["A"])
        credentials = json.loads(output.strip().splitlines()[-1])
        urls = {
            name: stack.enter_context(
                running_server(
                    server=PROJECT, env=env, port=int(env["GUNICORN_BIND"].rsplit(":", 1)[1])
                )
            )
            for name, env in envs.items()
        }
        runs = [
            (f"{urls[server].url}{path}", headers_for(credentials, kind))
            for server, path, kind in STREAMS
        ]
        for url, headers in runs:  # warm every worker's imports and memories
            wrk(url=url, headers=headers, seconds=2, connections=connections)
        with ThreadPoolExecutor(len(runs)) as pool:
            return list(
                pool.map(
                    lambda run: wrk(
                        url=run[0], headers=run[1], seconds=seconds, connections=connections
                    ),
                    runs,
                )
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="5x4,3x4,2x4,2x8,3x2")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=8, help="per stream (8)")
    parser.add_argument("--postgres", default="postgres://signin:signin@127.0.0.1:5432/postgres")
    options = parser.parse_args()
    print(
        f"{os.cpu_count()} cores; two servers, four concurrent wrk streams of "
        f"{options.connections} connections, {options.seconds} s; load average before: "
        f"{os.getloadavg()[0]:.1f}"
    )
    print(
        "| shape | "
        + " | ".join(f"{s} {p} {k}" for s, p, k in STREAMS)
        + " | total req/s | worst p99 |"
    )
    print("|---" * (len(STREAMS) + 3) + "|")
    for text in options.shapes.split(","):
        workers, threads = shape(text)
        try:
            summaries = measure(
                workers=workers,
                threads=threads,
                seconds=options.seconds,
                connections=options.connections,
                postgres=options.postgres,
            )
        except subprocess.CalledProcessError as error:
            sys.exit(f"{text}: {error}")
        cells = []
        for summary in summaries:
            rate = summary["requests"] / (summary["duration_us"] / 1e6)
            errors = summary["non_2xx"] + summary["socket_errors"]
            cells.append(
                f"{rate:,.0f} req/s, p50 {summary['p50_us'] / 1000:.0f} ms, "
                f"p99 {summary['p99_us'] / 1000:.0f} ms" + (f", {errors} errors" if errors else "")
            )
        total = sum(s["requests"] / (s["duration_us"] / 1e6) for s in summaries)
        worst = max(s["p99_us"] for s in summaries) / 1000
        print(
            f"| {workers} x {threads} | "
            + " | ".join(cells)
            + f" | {total:,.0f} | {worst:,.0f} ms |",
            flush=True,
        )


if __name__ == "__main__":
    main()
