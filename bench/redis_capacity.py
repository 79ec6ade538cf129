"""Redis capacity (not a test): how many GETs, and MGETs of 4 keys, a Redis server answers here.

Run from the project folder: `.venv/bin/python -m bench.redis_capacity [--requests 200000]
[--clients 16]`. Needs `redis-server` and `redis-benchmark` (Debian: redis-tools).

A private redis-server on loopback, its four keys k1..k4 set to 200-byte values (about a
session's size); then `redis-benchmark -q -n REQUESTS -P 1 -c CLIENTS -t get` and the same with
`MGET k1 k2 k3 k4`, the most one authenticated request reads in one round trip. Prints each's
operations per second, as redis-benchmark measured them: the ceiling one Redis server puts on
a fleet's authenticated requests, to set beside bench.load's requests per second.
"""

import argparse
import shutil
import subprocess
import sys

import redis

from tests.servers import free_port, running_redis

KEYS = ("k1", "k2", "k3", "k4")
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
        print(
            f"A private redis-server on loopback; redis-benchmark -n {args.requests} -P 1 "
            f"-c {args.clients} (no pipelining), each request one round trip:"
        )
        for command in (["-t", "get"], ["MGET", *KEYS]):
            print(
                benchmark(port=port, requests=args.requests, clients=args.clients, command=command)
            )


if __name__ == "__main__":
    main()
