"""Redis capacity (not a test): how many GETs, and MGETs of 3 keys, a Redis server answers here.

Run from the project folder: `.venv/bin/python -m bench.redis_capacity [--requests 200000]
[--clients 16]`. Needs `redis-server` and `redis-benchmark` (Debian: redis-tools).

A private redis-server on loopback, its three keys set to 200-byte values (about a session's
size); then `redis-benchmark -q -n REQUESTS -P 1 -c CLIENTS GET <key>` and the same with an
`MGET` of three keys, what a bearer request reads in its one round trip. Prints each's
operations per second, as redis-benchmark measured them, and the Redis server's own CPU time
per command (user + system, from /proc, so a busy neighbour moves it less than throughput): one
core's worth of commands a second is the ceiling one primary puts on a fleet's requests.
"""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import redis

from tests.servers import free_port, running_redis

# A bearer request's MGET reads three keys under one hash tag.
KEYS = ("k1{7}", "k2{7}", "k3{7}")
VALUE = b"x" * 200
REDIS_BENCHMARK = shutil.which("redis-benchmark")


def benchmark(*, port: int, requests: int, clients: int, command: list[str]) -> str:
    """redis-benchmark's own line for `command` (its operations per second, its p50)."""
    options = ["-p", str(port), "-q", "-n", str(requests), "-P", "1", "-c", str(clients)]
    result = subprocess.run(  # noqa: S603 -- Debian's redis-benchmark, fixed arguments
        [REDIS_BENCHMARK, *options, *command],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if result.returncode != 0:
        sys.exit(f"redis-benchmark failed ({result.returncode}):\n{result.stderr}")
    # -q rewrites its progress line in place (\r); the last one holds the result.
    lines = [
        line for line in result.stdout.replace("\r", "\n").splitlines() if "per second" in line
    ]
    return lines[-1].strip()


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far (fields 14 and 15 of /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    if REDIS_BENCHMARK is None:
        sys.exit("redis-benchmark is missing: apt-get install redis-tools")
    port = free_port()
    with running_redis(port) as url:
        with redis.Redis.from_url(url) as client:
            client.mset(dict.fromkeys(KEYS, VALUE))
            pid = client.info("server")["process_id"]
        print(
            f"A private redis-server on loopback; redis-benchmark -n {args.requests} -P 1 "
            f"-c {args.clients} (no pipelining), each request one round trip:"
        )
        for command in (["GET", KEYS[0]], ["MGET", *KEYS]):
            before = server_cpu_seconds(pid)
            line = benchmark(
                port=port, requests=args.requests, clients=args.clients, command=command
            )
            per_command = (server_cpu_seconds(pid) - before) / args.requests * 1e6
            print(f"{line}; the server's CPU: {per_command:.1f} µs a command")


if __name__ == "__main__":
    main()
