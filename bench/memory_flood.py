"""Memory benchmark (not a test): does a flood of random session cookies grow a worker?

Run from the project folder: `.venv/bin/python -m bench.memory_flood [--requests 100000]`.
Needs what bench/load.py needs (wrk, redis-server, a PostgreSQL role that may create databases).

Serves the project under its production settings with one gunicorn worker, warms it up, then
sends `--requests` requests to /api/me/, each with a different random 6 KB session cookie
(bench/cookie_flood.lua), and prints the worker's resident memory before and after. The session
engine looks up well-formed keys only (config/sessions.py) and keeps nothing in the process
(config/memory.py lists what a process keeps, each bounded), so the growth should stay flat
however many cookies come.
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.load import PROJECT, ROOT, manage, running_server, server_env, throwaway_database
from tests.servers import free_port, running_redis

LUA = ROOT / "bench" / "cookie_flood.lua"
WRK = shutil.which("wrk") or "wrk"


def worker_rss_kib(port: int) -> int:
    """The resident memory (KiB) of the gunicorn worker serving `port`: the process started with
    GUNICORN_BIND on that port whose parent was started with it too (the master)."""
    marker = f"GUNICORN_BIND=127.0.0.1:{port}".encode()
    serving = {}
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker in (proc / "environ").read_bytes():
                fields = dict(
                    line.split(":", 1) for line in (proc / "status").read_text().splitlines()
                )
                serving[proc.name] = fields
        except OSError:  # gone, or not ours to read
            continue
    workers = [f for f in serving.values() if f["PPid"].strip() in serving]
    return max(int(f["VmRSS"].split()[0]) for f in workers)


def flood(*, url: str, requests: int) -> dict:
    seconds = 10
    sent = {"requests": 0, "non_2xx": 0}
    while sent["requests"] < requests:
        result = subprocess.run(  # noqa: S603 -- Debian's wrk, fixed arguments
            [WRK, "-t1", "-c8", f"-d{seconds}s", "-s", str(LUA), url],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        )
        summary = json.loads(result.stdout.strip().splitlines()[-1])
        sent = {key: sent[key] + summary[key] for key in sent}
    return sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--postgres", default="postgres://signin:signin@127.0.0.1:5432/postgres")
    options = parser.parse_args()
    port = free_port()
    with (
        tempfile.TemporaryDirectory() as keys,
        running_redis(free_port()) as redis_url,
        throwaway_database(admin_url=options.postgres, label="flood") as database_url,
    ):
        env = server_env(
            server=PROJECT,
            database_url=database_url,
            redis_url=redis_url,
            port=port,
            workers=1,
            threads=4,
        )
        env["JWT_SIGNING_KEYS_DIR"] = keys
        manage("jwt_rotate_key", env=env)
        manage("migrate", "--noinput", env=env)
        with running_server(server=PROJECT, env=env, port=port) as server:
            base_url = server.url
            url = f"{base_url}/api/me/"
            flood(url=url, requests=2_000)  # warm-up: imports, first-use caches
            time.sleep(1)
            before = worker_rss_kib(port)
            sent = flood(url=url, requests=options.requests)
            time.sleep(1)
            after = worker_rss_kib(port)
    print(
        f"{sent['requests']:,} requests to /api/me/, each with a different random 6 KB session "
        f"cookie ({sent['non_2xx']:,} answered 401, as they should); one worker's RSS: "
        f"{before / 1024:.1f} MB before, {after / 1024:.1f} MB after, "
        f"growth {(after - before) / 1024:+.1f} MB (goal: under 20 MB)."
    )
    if sent["non_2xx"] != sent["requests"]:
        sys.exit("Some random cookie was accepted.")


if __name__ == "__main__":
    main()
