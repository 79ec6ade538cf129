"""Write benchmark (not a test): what an announced write costs, by how many processes listen.

Run from the project folder: `.venv/bin/python -m bench.announce [--writes 2000]
[--listeners 1,4,16]`. Needs `redis-server`.

A write through config/memory.py's caches returns only once every process subscribed has
applied its announcement and acknowledged it (the price of reads that need no round trip). For
each count of listening processes (each a Python process holding a NearCache, as a gunicorn
worker does), this times `--writes` NearCache.set calls, next to Django's own Redis cache
setting the same key on the same server: per write, the median and the 99th percentile.
"""

import argparse
import statistics
import subprocess
import sys
import time

from bench.load import ROOT
from tests.servers import free_port, running_redis

LISTENER = """
import sys, time
from config.memory import NearCache
cache = NearCache(sys.argv[1], {})
cache.get("warm")
while cache._announcements.trusted() is None:
    time.sleep(0.01)
print("ready", flush=True)
sys.stdin.read()
"""


def timed(write, writes: int) -> tuple[float, float]:
    """Median and 99th percentile of `writes` calls, in milliseconds."""
    times = []
    for n in range(writes):
        started = time.perf_counter()
        write(n)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--listeners", default="1,4,16", help="comma-separated counts")
    args = parser.parse_args()

    import django
    from django.conf import settings

    settings.configure()
    django.setup()
    from django.core.cache.backends.redis import RedisCache

    from config.memory import NearCache

    print(f"{args.writes} writes of one key per row; ms per write (median / p99)")
    print(f"{'listening processes':>20}  {'NearCache.set':>16}  {'Django RedisCache.set':>22}")
    with running_redis(free_port()) as url:
        stock = RedisCache(url, {})
        ours = NearCache(url, {})
        for count in (int(each) for each in args.listeners.split(",")):
            listeners = [
                subprocess.Popen(  # noqa: S603 -- this interpreter, our own code
                    [sys.executable, "-c", LISTENER, url],
                    cwd=ROOT,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                for _ in range(count - 1)  # this process listens too
            ]
            try:
                for listener in listeners:
                    if listener.stdout.readline() != "ready\n":
                        raise SystemExit("a listening process failed to start")
                while ours._announcements.trusted() is None:
                    time.sleep(0.01)
                median, p99 = timed(lambda n: ours.set("k", n), args.writes)
                stock_median, stock_p99 = timed(lambda n: stock.set("k", n), args.writes)
            finally:
                for listener in listeners:
                    listener.stdin.close()
                    listener.wait(timeout=10)
            print(
                f"{count:>20}  {median:>7.3f} / {p99:>6.3f}  "
                f"{stock_median:>13.3f} / {stock_p99:>6.3f}"
            )
        ours._announcements.close()


if __name__ == "__main__":
    main()
