"""Write benchmark (not a test): what a revoke, a sign-out and a session save cost, by how many app
processes are connected to the same Redis and PostgreSQL servers.

Run from the project folder, as root: `.venv/bin/python -m bench.writes [--writes 500]
[--processes 1,16,128]`. Needs `redis-server` and Debian's PostgreSQL server binaries: it starts
a PostgreSQL cluster of its own (128 processes hold more connections than a stock server's 100)
and a Redis server of its own, both on loopback, and a throwaway signing key.

This process runs Django under config.settings.production. Each count N of processes starts
clean: on a database of its own in that cluster, created and migrated up front and used by no
other count (this process's connection is switched to it as Django's test runner switches to a
test database), with Redis emptied (FLUSHALL) and this process's `local` cache alias cleared, so
no count meets the token families, revocation marks, sessions or audit events another left.
There, the writes' fixtures are made, then N - 1 more processes are started beside this one,
each importing Django with the same settings and that count's database, reading once through
every cache alias and querying the database once, so each holds its connections, then waiting.
Then `--writes` writes of each kind are made here, one at a time:

- revoke: api.services.token_revoke of a fresh access token (a row in PostgreSQL, a mark in
  Redis);
- sign-out: the real thing, as a person does it: a POST to /accounts/logout/ (over HTTPS, as
  from the load balancer) through django.test.Client with a session signed in beforehand by
  force_login, so it includes the request's middleware, the session read and allauth's logout;
- session save: a SessionStore of the production SESSION_ENGINE, created with one value and
  saved;

beside two baselines, each a plain redis-py SET to the same Redis server:

- plain SET: back to back, so redis-server and this client stay busy;
- plain SET after 2 ms idle: each SET IDLE_GAP_SECONDS after the last, as a write's Redis
  commands come after its PostgreSQL work (2 ms and more), while redis-server sat idle; only the
  SET is timed;
- plain SET after a row write: each SET right after a committed INSERT through Django's
  connection, as a revoke's SET comes right after its row's commit; only the SET is timed;
- plain SET after Python work: each SET right after python_work() (sorting 20,000 strings, about
  3 ms, as much Python as a revoke runs before its SET), which fills the CPU's caches with other
  data than redis-py's and the socket's; only the SET is timed.

Per row: the whole call's time (median and 99th percentile), its Redis part (the time spent
sending commands to Redis and reading their answers, on this thread: redis-py's Connection
wrapped here; for a baseline, the SET's own, without redis-py's work around it) and its round
trips to Redis.

Expectations, printed as met or missed, not asserted: the Redis part of each write, per round
trip, within 1.5 x the Redis part of a plain SET after Python work (medians, at the same N:
measured the same way, under the conditions a write's commands meet; the round trips themselves
are counted, and tests/config/test_round_trips.py holds them); the whole write at the most
processes no slower than at the fewest, within noise: its median at most NOISE x the other's, a
margin for the drift of a shared machine between two measurements minutes apart, which the
back-to-back plain SET's own ratio between the two shows beside it.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from importlib import import_module
from pathlib import Path

import redis
import redis.connection

from bench.load import PROJECT, ROOT, manage, server_env
from tests.faults.services import PrivatePostgres
from tests.servers import free_port, running_redis

KINDS = ("revoke", "sign-out", "session save")
BASELINES = (
    "plain SET",
    "plain SET after 2 ms idle",
    "plain SET after a row write",
    "plain SET after Python work",
)
# What each write's Redis part is judged against: the baseline whose SET, like a write's
# commands, comes right after milliseconds of Python (a revoke's token check, ORM and audit).
JUDGED_AGAINST = "plain SET after Python work"
PYTHON_WORK_STRINGS = 20_000
IDLE_GAP_SECONDS = 0.002
NOISE = 1.25
REDIS_PART_BOUND = 1.5
# A process of the fleet: one read through every cache alias, one query, then it waits.
IDLE_PROCESS = """
import sys
import django
django.setup()
from django.conf import settings
from django.core.cache import caches
from django.db import connection
for alias in settings.CACHES:
    caches[alias].get("bench-writes-idle")
with connection.cursor() as cursor:
    cursor.execute("SELECT 1")
print("ready", flush=True)
sys.stdin.read()
"""
# Started at once: more only take turns on the CPU while each imports Django.
STARTING_AT_ONCE = 16


class RedisClock:
    """The time this thread spends in redis-py's Connection sending commands and reading their
    answers, and its round trips (sends: a pipeline's commands go in one), since `reset()`.
    Other threads' calls pass untimed."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.round_trips = 0
        self._thread = threading.get_ident()
        connection = redis.connection.Connection
        self._send = connection.send_packed_command
        self._read = connection.read_response
        clock = self

        def send_packed_command(self, *args, **kwargs):
            return clock.timed(clock._send, self, args, kwargs, sent=True)

        def read_response(self, *args, **kwargs):
            return clock.timed(clock._read, self, args, kwargs, sent=False)

        connection.send_packed_command = send_packed_command
        connection.read_response = read_response

    def timed(self, method: Callable, connection: object, args, kwargs, *, sent: bool):
        if threading.get_ident() != self._thread:
            return method(connection, *args, **kwargs)
        started = time.perf_counter()
        try:
            return method(connection, *args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started
            self.round_trips += sent

    def reset(self) -> None:
        self.seconds, self.round_trips = 0.0, 0


@dataclass(frozen=True)
class Timings:
    """Of one kind of write at one N: milliseconds per write, whole and Redis part; round trips."""

    whole: list[float]
    redis: list[float]
    round_trips: float

    @staticmethod
    def summary(values: list[float]) -> tuple[float, float]:
        ordered = sorted(values)
        return statistics.median(ordered), ordered[int(len(ordered) * 0.99)]


def timed(
    write: Callable[[int], None],
    *,
    writes: int,
    clock: RedisClock,
    before: Callable[[], None] | None = None,
) -> Timings:
    """`writes` calls of `write`, each timed alone: `before`, if given, runs untimed first."""
    whole, redis_part, round_trips = [], [], 0
    for number in range(writes):
        if before is not None:
            before()
        clock.reset()
        started = time.perf_counter()
        write(number)
        whole.append((time.perf_counter() - started) * 1000)
        redis_part.append(clock.seconds * 1000)
        round_trips += clock.round_trips
    return Timings(whole, redis_part, round_trips / writes)


@contextmanager
def idle_processes(count: int, *, env: dict[str, str]) -> Iterator[list[subprocess.Popen]]:
    """`count` processes of the fleet, each holding its connections; stopped afterwards."""
    processes: list[subprocess.Popen] = []
    try:
        while len(processes) < count:
            batch = [
                subprocess.Popen(  # noqa: S603 -- this interpreter, our own code
                    [sys.executable, "-c", IDLE_PROCESS],
                    cwd=ROOT,
                    env=env,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                for _ in range(min(STARTING_AT_ONCE, count - len(processes)))
            ]
            processes += batch
            for process in batch:
                if process.stdout.readline() != "ready\n":
                    sys.exit("a process of the fleet failed to start")
        yield processes
    finally:
        for process in processes:
            process.kill()
        for process in processes:
            process.wait(timeout=30)


class Writes:
    """The three kinds of write, each with what it needs made beforehand (`count` of each)."""

    def __init__(self, *, count: int) -> None:
        from django.conf import settings
        from django.test import Client

        from accounts.models import User
        from api import services
        from api.models import TokenFamily

        self.services = services
        self.session_store = import_module(settings.SESSION_ENGINE).SessionStore
        self.cookie_name = settings.SESSION_COOKIE_NAME
        user = User.objects.create_user(username="writes", email="writes@example.com")
        self.tokens = [
            services.token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD).access
            for _ in range(count)
        ]
        self.sessions = []
        for _ in range(count):
            client = Client()
            client.force_login(user)
            self.sessions.append(client.cookies[self.cookie_name].value)
        self.client = Client()

    def revoke(self, number: int) -> None:
        self.services.token_revoke(token=self.tokens.pop())

    def sign_out(self, number: int) -> None:
        self.client.cookies[self.cookie_name] = self.sessions.pop()
        answer = self.client.post("/accounts/logout/", secure=True, HTTP_X_FORWARDED_PROTO="https")
        if answer.status_code != HTTPStatus.FOUND:
            sys.exit(f"sign-out answered {answer.status_code}, not 302")

    def session_save(self, number: int) -> None:
        store = self.session_store()
        store["bench"] = number
        store.save()


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def header(*, writes: int) -> None:
    print(
        f"{writes} calls of each kind per row, one at a time, each count on a fresh database and "
        "an emptied Redis; ms per call, median / p99; Redis part: time in redis-py sending "
        "commands and reading answers"
    )
    print(
        f"{'processes':>9}  {'row':<29}{'whole':>18}{'Redis part':>18}{'round trips':>12}  "
        f"Redis part per round trip <= {REDIS_PART_BOUND} x a {JUDGED_AGAINST}'s",
        flush=True,
    )


def rows(*, count: int, timings: dict[str, Timings]) -> None:
    """One count's rows, printed as soon as it is measured: the baselines, then each write
    judged against the baseline JUDGED_AGAINST."""
    baseline = statistics.median(timings[JUDGED_AGAINST].redis)
    for name in (*BASELINES, *KINDS):
        median, p99 = Timings.summary(timings[name].whole)
        redis_median, redis_p99 = Timings.summary(timings[name].redis)
        judged = ""
        if name in KINDS:
            ratio = redis_median / timings[name].round_trips / baseline
            judged = f"  {ratio:.2f} x: {verdict(ratio <= REDIS_PART_BOUND)}"
        print(
            f"{count:>9}  {name:<29}{median:>9.3f} / {p99:>6.3f}"
            f"{redis_median:>9.3f} / {redis_p99:>6.3f}{timings[name].round_trips:>12.1f}{judged}",
            flush=True,
        )


def by_processes(results: dict[int, dict[str, Timings]]) -> None:
    """The whole write at the most processes against the fewest."""
    fewest, most = min(results), max(results)
    plain = [statistics.median(results[count]["plain SET"].whole) for count in (fewest, most)]
    print(
        f"plain SET (back to back, whole) at {most} processes over at {fewest}: "
        f"{plain[1] / plain[0]:.2f} x "
        "(the machine's own drift between the two)"
    )
    for kind in KINDS:
        at_fewest = statistics.median(results[fewest][kind].whole)
        at_most = statistics.median(results[most][kind].whole)
        print(
            f"{kind}: whole write at {most} processes {at_most:.3f} ms, at {fewest} "
            f"{at_fewest:.3f} ms ({at_most / at_fewest:.2f} x; no slower within noise: at most "
            f"{NOISE} x): {verdict(at_most <= NOISE * at_fewest)}"
        )


def use_database(name: str) -> None:
    """Point this process's `default` database at `name` from its next query on, as Django's
    test runner points it at a test database (BaseDatabaseCreation.create_test_db)."""
    from django.conf import settings
    from django.db import connections

    connections["default"].close()
    settings.DATABASES["default"]["NAME"] = name
    connections["default"].settings_dict["NAME"] = name


def start_clean(*, database: str, redis_client: redis.Redis) -> None:
    """Before a count: its own database, an empty Redis, nothing kept in this process's memory."""
    from django.core.cache import caches

    use_database(database)
    redis_client.flushall()
    caches["local"].clear()


def idle_gap() -> None:
    """A pause as long as a write's PostgreSQL work, with nothing sent to Redis."""
    time.sleep(IDLE_GAP_SECONDS)


def python_work() -> None:
    """About 3 ms of Python touching other data than a SET does (sorting 20,000 strings)."""
    sorted(str(number) for number in range(PYTHON_WORK_STRINGS))


def row_write() -> None:
    """A committed INSERT of a throwaway row, as a revoke commits its mark's row."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE IF NOT EXISTS bench_writes (n integer)")
        cursor.execute("INSERT INTO bench_writes VALUES (1)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=500, help="of each kind per count (500)")
    parser.add_argument(
        "--processes", default="1,16,128", help="comma-separated counts of app processes"
    )
    args = parser.parse_args()
    counts = sorted(int(each) for each in args.processes.split(","))

    with ExitStack() as stack:
        postgres = PrivatePostgres()
        stack.callback(postgres.remove)
        postgres.start()
        # A database of its own for each count, used by no other.
        databases = {count: f"writes_{count}" for count in counts}
        database_urls = {count: postgres.create_database(name) for count, name in databases.items()}
        redis_url = stack.enter_context(running_redis(free_port()))
        keys = stack.enter_context(tempfile.TemporaryDirectory())
        env = server_env(
            server=PROJECT,
            database_url=database_urls[counts[0]],
            redis_url=redis_url,
            port=free_port(),
            workers=1,
            threads=1,
        ) | {
            # django.test.Client's host.
            "DJANGO_ALLOWED_HOSTS": "testserver",
            "JWT_SIGNING_KEYS_DIR": str(Path(keys) / "keys"),
            "DJANGO_STATIC_ROOT": keys,
            # Longer than the run, so no token expires before it is revoked.
            "JWT_ACCESS_TOKEN_SECONDS": "3600",
        }
        manage("jwt_rotate_key", env=env)
        for url in database_urls.values():
            manage("migrate", "--noinput", env=env | {"DATABASE_URL": url})
        os.environ.update(env)

        import django

        django.setup()
        clock = RedisClock()
        plain = redis.Redis.from_url(redis_url)
        stack.callback(plain.close)

        def plain_set(number: int) -> None:
            plain.set("bench:plain", number)

        results: dict[int, dict[str, Timings]] = {}
        header(writes=args.writes)
        for count in counts:
            start_clean(database=databases[count], redis_client=plain)
            writes = Writes(count=args.writes)
            calls = {
                "revoke": writes.revoke,
                "sign-out": writes.sign_out,
                "session save": writes.session_save,
            }
            # This process is one of the `count`; the others use the same database.
            fleet_env = os.environ | {"DATABASE_URL": database_urls[count]}
            with idle_processes(count - 1, env=fleet_env):
                results[count] = {
                    "plain SET": timed(plain_set, writes=args.writes, clock=clock),
                    "plain SET after 2 ms idle": timed(
                        plain_set, writes=args.writes, clock=clock, before=idle_gap
                    ),
                    "plain SET after a row write": timed(
                        plain_set, writes=args.writes, clock=clock, before=row_write
                    ),
                    JUDGED_AGAINST: timed(
                        plain_set, writes=args.writes, clock=clock, before=python_work
                    ),
                } | {
                    name: timed(call, writes=args.writes, clock=clock)
                    for name, call in calls.items()
                }
            rows(count=count, timings=results[count])
    by_processes(results)


if __name__ == "__main__":
    main()
