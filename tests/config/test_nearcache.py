"""config.nearcache: Redis reads answered from the process's memory, exact across processes.

Against real throwaway Redis servers. Whether a read reached Redis is what Redis itself counts
(INFO commandstats: every read is one MGET). The second process is a real one: a small Python
program with a NearCache on the same server, told what to write over a pipe. Covered:

- a repeated read (of a present or a missing key) costs no round trip, and the cache answers
  as Django's own Redis cache does, operation by operation;
- a write made anywhere through a NearCache is seen by the very next read here, for every kind
  of write; a write behind its back is seen only once the copy expires (the documented contract);
- a copy never outlives the key's Redis expiry, nor MAX_LOCAL_SECONDS;
- without a subscription known to deliver (a ping unanswered, a reconnection, Redis gone) the
  copies are not used, and after a reconnection they are gone;
- a read that raced with an invalidation is not kept (Invalidations.keep);
- get_or_load_local: values kept in process memory only, until a delete anywhere;
- NearCache refuses more than one server.
"""

import json
import os
import subprocess
import sys
import time

import pytest
import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import request_finished, request_started

from config import nearcache
from config.nearcache import CHANNEL, Invalidations, NearCache
from tests.servers import ROOT, free_port, redis_server_binary, running_redis

READS = ("get", "mget", "exists")
# How long a test waits for something that takes a few milliseconds (a subscription answering).
PATIENCE_SECONDS = 10.0

# The other process: a NearCache configured through Django's settings, running the statements it
# is sent (one JSON string a line) and answering each with the repr of `result`, once done.
ELSEWHERE = """
import json, sys
import django
from django.conf import settings
settings.configure(
    CACHES={"default": {"BACKEND": "config.nearcache.NearCache", "LOCATION": sys.argv[1]}}
)
django.setup()
from django.core.cache import cache
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    namespace = {"cache": cache}
    try:
        exec(json.loads(line), namespace)
        answer = {"result": repr(namespace.get("result"))}
    except Exception as error:
        answer = {"error": repr(error)}
    print(json.dumps(answer), flush=True)
"""


class Elsewhere:
    """Another Python process with a NearCache ("cache") on the same Redis server."""

    def __init__(self, url: str) -> None:
        self.process = subprocess.Popen(  # noqa: S603 -- this interpreter, our own program
            [sys.executable, "-c", ELSEWHERE, url],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert json.loads(self.process.stdout.readline()) == {"ready": True}

    def run(self, code: str) -> str:
        """Run `code` there; return once it has returned (the repr of its `result`)."""
        self.process.stdin.write(json.dumps(code) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        assert "error" not in answer, answer["error"]
        return answer["result"]

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=10)


def skip_without_redis() -> None:
    if redis_server_binary() is None:
        pytest.skip("no redis-server here: apt-get install redis-server")


@pytest.fixture(scope="module")
def server():
    """One throwaway Redis for the module's tests that share the other process."""
    skip_without_redis()
    with running_redis(free_port()) as url:
        yield url


@pytest.fixture(scope="module")
def elsewhere(server):
    other = Elsewhere(server)
    yield other
    other.stop()


@pytest.fixture
def redis_url(server, monkeypatch):
    """The shared server, emptied (announced, so the other process drops its copies too), its
    command counters reset, and this process starting with no copies nor subscription."""
    monkeypatch.setattr(nearcache, "_invalidations", {})
    NearCache(server, {}).clear()
    monkeypatch.setattr(nearcache, "_invalidations", {})
    plain(server).config_resetstat()
    return server


@pytest.fixture
def own_redis(monkeypatch):
    """A Redis of the test's own, for tests that stop or disconnect it."""
    skip_without_redis()
    monkeypatch.setattr(nearcache, "_invalidations", {})
    with running_redis(free_port()) as url:
        yield url


def plain(url: str) -> redis.Redis:
    """A redis-py client that goes around every NearCache: writes through it are not announced."""
    return redis.Redis.from_url(url)


def redis_reads(url: str) -> int:
    """How many reads of values the server has answered (every NearCache read is one MGET; the
    plain backend's are GET, MGET and EXISTS)."""
    stats = plain(url).info("commandstats")
    return sum(stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in READS)


def warm(cache: NearCache, url: str, keys: list[str]) -> dict:
    """Read `keys` until memory answers them (the subscription has answered its first ping and
    the copies are kept): what they hold. The last read reached no Redis."""
    deadline = time.monotonic() + PATIENCE_SECONDS
    while True:
        before = redis_reads(url)
        found = cache.get_many(keys)
        if redis_reads(url) == before:
            return found
        assert time.monotonic() < deadline, "the copies were never used"
        time.sleep(0.01)


def set_behind_its_back(url: str, cache: NearCache, key: str, value: int, **kwargs) -> None:
    """SET straight on Redis, as redis-cli would (an integer is stored as Django's serializer
    stores one)."""
    plain(url).set(cache.make_and_validate_key(key), value, **kwargs)


# Reads from memory.


def test_a_second_read_of_a_key_reaches_no_redis(redis_url):
    cache = NearCache(redis_url, {})
    cache.set("k", {"value": 1})
    warm(cache, redis_url, ["another"])

    first_before = redis_reads(redis_url)
    first = cache.get("k")
    second_before = redis_reads(redis_url)
    second = cache.get("k")
    after = redis_reads(redis_url)

    assert first == second == {"value": 1}
    assert second_before - first_before == 1
    assert after == second_before


def test_a_missing_key_is_remembered_too(redis_url):
    cache = NearCache(redis_url, {})
    warm(cache, redis_url, ["another"])

    first_before = redis_reads(redis_url)
    first = cache.get("missing", "default")
    second_before = redis_reads(redis_url)
    second = cache.get("missing", "default")
    has_it = cache.has_key("missing")
    many = cache.get_many(["missing"])

    assert first == second == "default"
    assert not has_it
    assert many == {}
    assert second_before - first_before == 1
    assert redis_reads(redis_url) == second_before


def test_the_copies_are_per_process_and_shared_by_every_cache_on_the_server(redis_url):
    one = NearCache(redis_url, {})
    other = NearCache(redis_url, {})
    one.set("k", 1)
    warm(one, redis_url, ["k"])

    before = redis_reads(redis_url)
    value = other.get("k")

    assert value == 1
    assert redis_reads(redis_url) == before


def exercise(cache, url: str) -> tuple[list, int]:
    """Every operation of Django's cache API, each read made twice in a row: what each call
    returned, in order, and how many of the repeated reads reached Redis."""
    seen = []
    repeats_from_redis = 0

    def twice(read):
        nonlocal repeats_from_redis
        seen.append(read())
        before = redis_reads(url)
        seen.append(read())
        repeats_from_redis += redis_reads(url) != before

    cache.clear()
    twice(lambda: cache.get("k"))
    twice(lambda: cache.get("k", "default"))
    cache.set("k", {"a": [1, 2]})
    twice(lambda: cache.get("k"))
    cache.set("none", None)
    twice(lambda: cache.get("none", "default"))
    twice(lambda: cache.has_key("none"))
    seen.append(cache.add("k", "other"))
    seen.append(cache.add("new", "added"))
    twice(lambda: cache.get_many(["k", "new", "missing"]))
    seen.append(cache.add("never", 1, timeout=0))
    twice(lambda: cache.has_key("never"))
    cache.set("n", 5)
    seen.append(cache.incr("n"))
    seen.append(cache.incr("n", 10))
    seen.append(cache.decr("n", 2))
    twice(lambda: cache.get("n"))
    with pytest.raises(ValueError, match="not found"):
        cache.incr("missing")
    seen.append(cache.touch("k", 100))
    seen.append(cache.touch("missing", 100))
    seen.append(cache.touch("k", None))
    twice(lambda: cache.get("k"))
    seen.append(cache.touch("new", 0))
    twice(lambda: cache.get("new", "expired"))
    cache.set("k", "gone", timeout=0)
    twice(lambda: cache.get("k", "deleted by timeout=0"))
    seen.append(cache.set_many({"a": 1, "b": 2, "c": 3}))
    seen.append(cache.set_many({}))
    twice(lambda: cache.get_many(["a", "b", "c", "d"]))
    cache.delete_many(["a", "b"])
    cache.delete_many([])
    twice(lambda: cache.get_many(["a", "b", "c"]))
    seen.append(cache.delete("c"))
    seen.append(cache.delete("c"))
    twice(lambda: cache.get("c", "deleted"))
    seen.append(cache.get_or_set("made", lambda: "by callable"))
    twice(lambda: cache.get("made"))
    cache.set("v", "version 2", version=2)
    twice(lambda: (cache.get("v", "no version 1"), cache.get("v", version=2)))
    seen.append(cache.clear())
    twice(lambda: cache.get_many(["made", "n", "none", "v"]))
    return seen, repeats_from_redis


def test_it_answers_every_call_as_djangos_redis_cache_does(redis_url):
    reference, reference_repeats_from_redis = exercise(DjangoRedisCache(redis_url, {}), redis_url)
    cache = NearCache(redis_url, {})
    warm(cache, redis_url, ["another"])

    seen, repeats_from_redis = exercise(cache, redis_url)

    assert seen == reference
    assert seen[:10] == [
        None,
        None,
        "default",
        "default",
        {"a": [1, 2]},
        {"a": [1, 2]},
        None,  # a stored None is a value, not a missing key
        None,
        True,
        True,
    ]
    assert seen[-2:] == [{}, {}]
    assert repeats_from_redis == 0
    assert reference_repeats_from_redis == 17


def test_timeouts_and_the_key_prefix_are_djangos(redis_url):
    cache = NearCache(redis_url, {"KEY_PREFIX": "sessions", "TIMEOUT": 300})

    cache.set("default-timeout", 1)
    cache.set("no-timeout", 1, timeout=None)
    cache.set("own-timeout", 1, timeout=20)
    cache.set("already-gone", 1, timeout=-5)

    redis_server = plain(redis_url)
    assert 290 < redis_server.ttl("sessions:1:default-timeout") <= 300
    assert redis_server.ttl("sessions:1:no-timeout") == -1
    assert 10 < redis_server.ttl("sessions:1:own-timeout") <= 20
    assert not redis_server.exists("sessions:1:already-gone")
    assert cache.get("already-gone", "gone") == "gone"


# Exact across processes.

KEYS = ["a", "b", "counter", "new"]
CROSS_PROCESS_WRITES = {
    "set": ("cache.set('a', 2)", {"a": 2, "b": 1, "counter": 5}),
    "set timeout=0": ("cache.set('a', 2, timeout=0)", {"b": 1, "counter": 5}),
    "add": ("result = cache.add('new', 3)", {"a": 1, "b": 1, "counter": 5, "new": 3}),
    "delete": ("cache.delete('a')", {"b": 1, "counter": 5}),
    "set_many": ("cache.set_many({'a': 2, 'new': 3})", {"a": 2, "b": 1, "counter": 5, "new": 3}),
    "delete_many": ("cache.delete_many(['a', 'b'])", {"counter": 5}),
    "incr": ("cache.incr('counter')", {"a": 1, "b": 1, "counter": 6}),
    "decr": ("cache.decr('counter', 3)", {"a": 1, "b": 1, "counter": 2}),
    "touch to expire": ("cache.touch('a', 0)", {"b": 1, "counter": 5}),
    "clear": ("cache.clear()", {}),
}


@pytest.mark.parametrize(
    ("write", "expected"), CROSS_PROCESS_WRITES.values(), ids=CROSS_PROCESS_WRITES.keys()
)
def test_a_write_in_another_process_is_seen_by_the_very_next_read(
    redis_url, elsewhere, write, expected
):
    cache = NearCache(redis_url, {})
    cache.set_many({"a": 1, "b": 1, "counter": 5})
    assert warm(cache, redis_url, KEYS) == {"a": 1, "b": 1, "counter": 5}

    elsewhere.run(write)
    before = redis_reads(redis_url)
    found = cache.get_many(KEYS)

    assert found == expected
    assert redis_reads(redis_url) == before + 1


@pytest.mark.django_db  # Django's own receivers of the request signals look at the database
def test_a_request_sees_what_was_announced_before_its_first_read(redis_url, elsewhere):
    """Within one request the subscription is read once, at its first read: what is announced
    later reaches the next request (and every read outside a request)."""
    cache = NearCache(redis_url, {})
    cache.set("k", 1)
    warm(cache, redis_url, ["k"])

    request_started.send(sender=None)
    first = cache.get("k")
    elsewhere.run("cache.set('k', 2)")
    later_in_the_same_request = cache.get("k")
    request_finished.send(sender=None)
    outside_a_request = cache.get("k")
    request_started.send(sender=None)
    next_request = cache.get("k")
    request_finished.send(sender=None)

    assert (first, later_in_the_same_request) == (1, 1)
    assert (outside_a_request, next_request) == (2, 2)


def test_a_new_value_from_another_process_is_kept_in_turn(redis_url, elsewhere):
    cache = NearCache(redis_url, {})
    cache.set("k", 1)
    warm(cache, redis_url, ["k"])

    elsewhere.run("cache.set('k', 2)")
    first = cache.get("k")
    before = redis_reads(redis_url)
    second = cache.get("k")

    assert first == second == 2
    assert redis_reads(redis_url) == before


def test_a_write_behind_its_back_is_seen_only_once_the_copy_expires(redis_url, monkeypatch):
    """The contract: every writer goes through a NearCache; other writes wait for expiry."""
    monkeypatch.setattr(nearcache, "MAX_LOCAL_SECONDS", 1.0)
    cache = NearCache(redis_url, {})
    cache.set("k", 1)
    warm(cache, redis_url, ["k"])

    set_behind_its_back(redis_url, cache, "k", 2)
    while_fresh = cache.get("k")
    time.sleep(1.2)
    once_expired = cache.get("k")

    assert while_fresh == 1
    assert once_expired == 2


def test_a_copy_never_outlives_the_keys_redis_expiry(redis_url):
    cache = NearCache(redis_url, {})
    cache.set("k", "short-lived", timeout=1)
    cache.set("persistent", "stays")
    cache.set("touched", "shortened")
    warm(cache, redis_url, ["k", "persistent", "touched"])

    cache.touch("touched", 1)
    warm(cache, redis_url, ["k", "persistent", "touched"])
    time.sleep(1.2)
    found = cache.get_many(["k", "persistent", "touched"])

    assert found == {"persistent": "stays"}
    assert cache.get("k", "expired") == "expired"


def test_a_key_read_as_it_expires_is_never_served_after_its_expiry(redis_url):
    """The value and its time to live are read at one moment: a key that expired between the
    two would otherwise be kept for MAX_LOCAL_SECONDS."""
    cache = NearCache(redis_url, {})
    warm(cache, redis_url, ["another"])
    set_at = {}
    for n in range(1500):  # expiries about one a millisecond
        started = time.monotonic()
        cache.set(f"k{n}", "value", timeout=1)
        set_at[f"k{n}"] = (started + time.monotonic()) / 2

    for n, (key, moment) in enumerate(set_at.items()):  # each read once, right at its expiry
        read_at = moment + 1.0 + ((n % 17) - 8) * 0.00005
        while time.monotonic() < read_at:
            pass
        cache.get(key)
    time.sleep(0.2)  # every key has expired in Redis by now
    served_after_expiry = cache.get_many(list(set_at))

    assert served_after_expiry == {}


# When memory may not answer.


def test_while_the_subscription_has_not_answered_a_ping_every_read_goes_to_redis(
    redis_url, monkeypatch
):
    cache = NearCache(redis_url, {})
    cache.set("k", 1)
    warm(cache, redis_url, ["k"])

    liveness = nearcache.LIVENESS_SECONDS
    monkeypatch.setattr(nearcache, "LIVENESS_SECONDS", 0.0)
    set_behind_its_back(redis_url, cache, "k", 2)
    before = redis_reads(redis_url)
    values = [cache.get("k") for _ in range(3)]
    reads = redis_reads(redis_url) - before
    cache.get("read-while-silent")
    monkeypatch.setattr(nearcache, "LIVENESS_SECONDS", liveness)
    set_behind_its_back(redis_url, cache, "read-while-silent", 3)

    assert values == [2, 2, 2]
    assert reads == 3
    # Nothing read while the subscription was silent was kept.
    assert cache.get("read-while-silent") == 3


def test_after_the_subscription_reconnects_every_copy_is_gone(own_redis):
    cache = NearCache(own_redis, {})
    cache.set_many({"k": 1, "other": 1})
    warm(cache, own_redis, ["k", "other", "missing"])
    set_behind_its_back(own_redis, cache, "k", 2)
    set_behind_its_back(own_redis, cache, "missing", 3)
    assert cache.get_many(["k", "missing"]) == {"k": 1}

    killed = plain(own_redis).client_kill_filter(_type="pubsub")
    time.sleep(0.2)  # the server's close reaches this process
    after_reconnection = cache.get_many(["k", "missing", "other"])

    assert killed == 1
    assert after_reconnection == {"k": 2, "missing": 3, "other": 1}
    # Copies are used again once the new subscription has answered a ping.
    assert warm(cache, own_redis, ["k"]) == {"k": 2}
    assert plain(own_redis).client_list(_type="pubsub")


def test_with_redis_gone_a_read_fails_rather_than_answer_from_memory(monkeypatch):
    skip_without_redis()
    monkeypatch.setattr(nearcache, "_invalidations", {})
    with running_redis(free_port()) as url:
        cache = NearCache(url, {})
        cache.set("k", 1)
        warm(cache, url, ["k", "missing"])

    with pytest.raises(redis.ConnectionError):
        cache.get("k")
    with pytest.raises(redis.ConnectionError):
        cache.get_many(["k", "missing"])
    with pytest.raises(redis.ConnectionError):
        cache.has_key("missing")


def test_a_forked_child_does_not_use_its_parents_copies(redis_url):
    cache = NearCache(redis_url, {})
    cache.set("k", 1)
    warm(cache, redis_url, ["k"])
    set_behind_its_back(redis_url, cache, "k", 2)

    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the child: answer what it reads, then leave without running pytest's exit
        try:
            os.write(write_end, json.dumps(cache.get("k")).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        childs_value = json.loads(pipe.read())
    os.waitpid(child, 0)

    assert childs_value == 2
    assert cache.get("k") == 1  # the parent's copy, still exact for every announced write


# The race guard.


def test_a_read_that_raced_with_an_invalidation_is_not_kept():
    invalidations = Invalidations(connection_pool=None)
    generation = invalidations.generation

    invalidations.invalidate(["some-other-key"])
    invalidations.keep({"k": (b"old", -1)}, generation=generation, read_at=time.monotonic())
    raced = invalidations.lookup(["k"])
    invalidations.keep(
        {"k": (b"new", -1)}, generation=invalidations.generation, read_at=time.monotonic()
    )
    kept = invalidations.lookup(["k"])

    assert raced == {}
    assert kept == {"k": b"new"}


def test_a_copy_lasts_as_long_as_the_key_does_in_redis_at_most():
    invalidations = Invalidations(connection_pool=None)
    asked_at = time.monotonic() - 2.0  # the read was sent two seconds ago

    invalidations.keep(
        {
            "gone": (b"1", 0),
            "missing": (None, -2),
            "persistent": (b"2", -1),
            "long": (b"3", 9000),
            "expired-before-its-lifetime-was-read": (b"4", -2),
        },
        generation=invalidations.generation,
        read_at=asked_at,
    )

    assert invalidations.lookup(
        ["gone", "missing", "persistent", "long", "expired-before-its-lifetime-was-read"]
    ) == {"missing": None, "persistent": b"2", "long": b"3"}
    copies = invalidations.copies
    assert copies["persistent"].deadline == asked_at + nearcache.MAX_LOCAL_SECONDS
    assert copies["long"].deadline == asked_at + 9.0


# get_or_load_local: values that live in process memory only.


class Loader:
    """A load function that counts its calls and returns a new mutable value each time."""

    def __init__(self, value) -> None:
        self.value = value
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return None if self.value is None else {"row": list(self.value)}


def test_get_or_load_local_loads_once_and_keeps_the_value_out_of_redis(redis_url):
    cache = NearCache(redis_url, {"KEY_PREFIX": "sessions"})
    warm(cache, redis_url, ["another"])
    load = Loader([1, 2])

    first = cache.get_or_load_local("user-row:1", load)
    second = cache.get_or_load_local("user-row:1", load)
    second["row"].append("mutated")
    third = cache.get_or_load_local("user-row:1", load)

    assert load.calls == 1
    assert first == third == {"row": [1, 2]}
    assert second is not third
    assert plain(redis_url).keys("*") == []


def test_get_or_load_local_loads_again_after_a_delete_in_another_process(redis_url, elsewhere):
    cache = NearCache(redis_url, {})
    warm(cache, redis_url, ["another"])
    load = Loader([1])
    cache.get_or_load_local("user-row:1", load)
    cache.get_or_load_local("user-row:1", load)

    elsewhere.run("cache.delete('user-row:1')")
    load.value = [2]
    after_delete = cache.get_or_load_local("user-row:1", load)
    again = cache.get_or_load_local("user-row:1", load)

    assert load.calls == 2
    assert after_delete == again == {"row": [2]}


def test_get_or_load_local_loads_again_after_a_delete_here(redis_url):
    cache = NearCache(redis_url, {})
    warm(cache, redis_url, ["another"])
    load = Loader([1])
    cache.get_or_load_local("user-row:1", load)

    cache.delete("user-row:1")
    cache.get_or_load_local("user-row:1", load)

    assert load.calls == 2


def test_get_or_load_local_never_keeps_none(redis_url):
    cache = NearCache(redis_url, {})
    warm(cache, redis_url, ["another"])
    load = Loader(None)

    answers = [cache.get_or_load_local("user-row:404", load) for _ in range(3)]

    assert answers == [None, None, None]
    assert load.calls == 3


def test_get_or_load_local_keeps_nothing_while_the_subscription_is_not_delivering(
    redis_url, monkeypatch
):
    cache = NearCache(redis_url, {})
    warm(cache, redis_url, ["another"])
    liveness = nearcache.LIVENESS_SECONDS
    monkeypatch.setattr(nearcache, "LIVENESS_SECONDS", 0.0)
    load = Loader([1])

    cache.get_or_load_local("user-row:1", load)
    cache.get_or_load_local("user-row:1", load)
    monkeypatch.setattr(nearcache, "LIVENESS_SECONDS", liveness)
    cache.get_or_load_local("user-row:1", load)
    cache.get_or_load_local("user-row:1", load)

    assert load.calls == 3


# Configuration.


def test_a_nearcache_reads_and_writes_one_server_only():
    with pytest.raises(ImproperlyConfigured, match="one Redis server"):
        NearCache("redis://127.0.0.1:6379/0,redis://127.0.0.1:6380/0", {})


def test_writes_announce_their_keys_on_the_channel(redis_url):
    cache = NearCache(redis_url, {"KEY_PREFIX": "p"})
    listener = plain(redis_url).pubsub(ignore_subscribe_messages=True)
    listener.subscribe(CHANNEL)
    listener.get_message(timeout=1.0)  # the subscription's confirmation

    cache.set_many({"a": 1, "b": 2})
    cache.delete("a")
    cache.clear()
    announced = [listener.get_message(timeout=PATIENCE_SECONDS)["data"] for _ in range(3)]
    listener.close()

    assert announced == [b'["p:1:a", "p:1:b"]', b'["p:1:a"]', b"*"]
