"""config.memory: the process's bounded memory, read through by NearCache and LocalCache.

On real throwaway Redis servers (a read reached Redis if its INFO commandstats count an MGET), with
a real other process (a NearCache "cache" and an announcing LocalCache "local", fed over a pipe).
NearCache: repeated reads (present or missing keys) make no Redis read, only a request's one
ping; it answers as Django's Redis cache does; another process's write is seen by the very next
read, even with its announcement held back on the link; copies never outlive the key's expiry nor
MAX_STALE_SECONDS, even with announcements lost; no copy is used while the subscription does not
answer, or while another thread waits on it; a read that raced with an announcement is not kept.
LocalCache: Django's API in memory; with ANNOUNCE, another process's delete reaches the very next
read, entries live at most MAX_STALE_SECONDS, nothing is answered unless trusted. Bounds: Memory
holds at most its bytes (LRU out, oversized refused), a NearCache under a flood of missing keys
too; an entry past its deadline is never returned; a NearCache's callers share scalars only.
Django's closing of every cache alias after a request is skipped unless a backend closes anything.
"""

import contextlib
import json
import os
import queue
import secrets
import socket
import subprocess
import sys
import threading
import time

import pytest
import redis
from django.core.cache import caches, close_caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.signals import request_finished

from config import memory
from config.memory import ACK_PREFIX, CHANNEL, ENTRY_OVERHEAD, LocalCache, Memory, NearCache
from config.settings.caches import REDIS_TIMEOUT_SECONDS
from tests.conftest import production_caches, subscription_trusted
from tests.servers import ROOT, free_port, redis_server_binary, running_redis

READS = ("get", "mget", "exists")
PATIENCE_SECONDS = 10.0  # for what takes milliseconds (a subscription answering its first ping)

# The other process: runs each line it is sent, then prints repr(result) (it dies on an error,
# which pytest then shows from its stderr).
ELSEWHERE = """
import sys, django
from django.conf import settings
near = {"BACKEND": "config.memory.NearCache", "LOCATION": sys.argv[1]}
local = {"BACKEND": "config.memory.LocalCache", "OPTIONS": {"ANNOUNCE": sys.argv[1]}}
settings.configure(CACHES={"default": near, "local": local})
django.setup()
from django.core.cache import caches
print("ready", flush=True)
for line in sys.stdin:
    namespace = {"cache": caches["default"], "local": caches["local"]}
    exec(line, namespace)
    print(repr(namespace.get("result")), flush=True)
"""


def resp_frame_end(buffer: bytes, start: int) -> int | None:
    """Where the RESP2/RESP3 frame beginning at `start` ends, or None if it is not all here."""
    line_end = buffer.find(b"\r\n", start)
    if line_end < 0:
        return None
    kind = buffer[start : start + 1]
    if kind in b"+-:_,#(":
        return line_end + 2
    length = int(buffer[start + 1 : line_end])
    if kind in b"$=!":
        end = line_end + 2 + max(length, 0) + (2 if length >= 0 else 0)
        return end if end <= len(buffer) else None
    position = line_end + 2
    for _ in range(max(length, 0) * (2 if kind == b"%" else 1)):
        position = resp_frame_end(buffer, position)
        if position is None:
            return None
    return position


def is_published_message(frame: bytes) -> bool:
    head = frame[:24]
    return b"$7\r\nmessage\r\n" in head or b"$8\r\npmessage\r\n" in head


class PubSubProxy:
    """A TCP proxy in front of Redis. Connections pass through untouched, except on a connection
    that has subscribed, from Redis to the client, where `mode` decides:
    - "pass": everything passes;
    - "drop-messages": published messages are dropped, everything else (pings' answers) passes:
      the subscription looks alive and announces nothing;
    - "blackhole": everything is dropped: the subscription goes silent;
    - "delay": everything passes, in order, `delay_seconds` late: announcements on their way
      while the writer already has its answer, as on a slow or distant link.
    `dropped` counts the frames dropped."""

    def __init__(self, upstream_port: int, *, delay_seconds: float = 0.2) -> None:
        self.upstream_port = upstream_port
        self.mode = "pass"
        self.delay_seconds = delay_seconds
        self.dropped = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._closing = False
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, database: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=2)
            except OSError:
                client.close()  # Redis is down: so is the proxy's far side
                continue
            upstream.settimeout(None)
            self._sockets += [client, upstream]
            state = {"subscribed": False}
            threading.Thread(target=self._up, args=(client, upstream, state), daemon=True).start()
            threading.Thread(target=self._down, args=(upstream, client, state), daemon=True).start()

    def _up(self, client: socket.socket, upstream: socket.socket, state: dict) -> None:
        with contextlib.suppress(OSError):
            while chunk := client.recv(65536):
                if b"SUBSCRIBE" in chunk.upper():
                    state["subscribed"] = True
                upstream.sendall(chunk)
        self._close(client, upstream)

    def _down(self, upstream: socket.socket, client: socket.socket, state: dict) -> None:
        pending = b""
        # Once subscribed, what Redis sends leaves through `outbox`, each part at its due time.
        outbox: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._send_when_due, args=(outbox, client), daemon=True).start()
        with contextlib.suppress(OSError):
            while chunk := upstream.recv(65536):
                if not state["subscribed"]:
                    client.sendall(chunk)
                    continue
                due = time.monotonic() + (self.delay_seconds if self.mode == "delay" else 0.0)
                if self.mode in ("pass", "delay") and not pending:
                    outbox.put((due, chunk))
                    continue
                pending += chunk
                while (end := resp_frame_end(pending, 0)) is not None:
                    frame, pending = pending[:end], pending[end:]
                    if self.mode == "blackhole" or (
                        self.mode == "drop-messages" and is_published_message(frame)
                    ):
                        self.dropped += 1
                    else:
                        outbox.put((due, frame))
        outbox.put(None)
        self._close(client, upstream)

    @staticmethod
    def _send_when_due(outbox: queue.SimpleQueue, client: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while (item := outbox.get()) is not None:
                due, data = item
                time.sleep(max(0.0, due - time.monotonic()))
                client.sendall(data)

    @staticmethod
    def _close(*sockets: socket.socket) -> None:
        for each in sockets:
            with contextlib.suppress(OSError):
                each.shutdown(socket.SHUT_RDWR)
            each.close()

    def close(self) -> None:
        self._closing = True
        self._listener.close()
        self._close(*self._sockets)


class Elsewhere:
    """Another Python process with a NearCache and an announcing LocalCache on the same Redis."""

    def __init__(self, url: str) -> None:
        command = [sys.executable, "-c", ELSEWHERE, url]
        pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "text": True}
        self.process = subprocess.Popen(command, cwd=ROOT, **pipes)  # noqa: S603 -- our program
        assert self.process.stdout.readline() == "ready\n"

    def run(self, code: str) -> str:
        """Run `code` (one line) there; return once it has returned: the repr of `result`."""
        self.process.stdin.write(code + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        assert answer, f"the other process failed on {code!r}"
        return answer.strip()

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=10)


@pytest.fixture
def fresh(fresh_memory, monkeypatch):
    """This process starting afresh (tests/conftest.py), with copies that last: on a busy
    machine, no test meets an expiry it is not about (those that are set their own)."""
    monkeypatch.setattr(memory, "MAX_STALE_SECONDS", 30.0)


@pytest.fixture(scope="module")
def server():
    """One throwaway Redis for the module's tests that share the other process."""
    if redis_server_binary() is None:
        pytest.skip("no redis-server here: apt-get install redis-server")
    with running_redis(free_port()) as url:
        yield url


@pytest.fixture(scope="module")
def elsewhere(server):
    other = Elsewhere(server)
    yield other
    other.stop()


@pytest.fixture
def redis_url(server, fresh):
    """The shared server emptied (announced: the other process drops its copies too), its
    command counters reset, and this process starting afresh."""
    plain(server).flushdb()
    announce_everything(server)
    plain(server).config_resetstat()
    return server


@pytest.fixture
def own_redis(server, fresh):
    """A Redis of the test's own, for tests that disconnect it (`server`: skip without one)."""
    with running_redis(free_port()) as url:
        yield url


def announce_everything(url: str) -> None:
    """Every process listening on `url` drops all its copies; once each has said so (or its
    lease has ended), return."""
    client, ack = plain(url), f"{ACK_PREFIX}{secrets.token_hex(8)}"
    for _ in range(client.publish(CHANNEL, json.dumps({"keys": None, "ack": ack}))):
        client.blpop([ack], timeout=memory.LEASE_SECONDS)


def plain(url: str) -> redis.Redis:
    """A client that goes around every cache: its writes are not announced."""
    return redis.Redis.from_url(url)


def redis_reads(url: str) -> int:
    stats = plain(url).info("commandstats")
    return sum(stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in READS)


def warm(cache: NearCache, url: str, keys: list[str]) -> dict:
    """Read `keys` until memory answers them: what they hold. The last read reached no Redis."""
    deadline = time.monotonic() + PATIENCE_SECONDS
    while True:
        before = redis_reads(url)
        found = cache.get_many(keys)
        if redis_reads(url) == before:
            return found
        assert time.monotonic() < deadline, "the copies were never used"
        time.sleep(0.01)


def set_behind_its_back(url: str, cache: NearCache, key: str, value: int, **kwargs) -> None:
    """SET straight on Redis with no announcement (an int is stored as Django stores one)."""
    plain(url).set(cache.make_and_validate_key(key), value, **kwargs)


def test_repeated_reads_of_present_or_missing_keys_reach_no_redis(redis_url):
    cache, same = NearCache(redis_url, {}), NearCache(redis_url, {})
    prefixed = NearCache(redis_url, {"KEY_PREFIX": "p"})
    cache.set("k", {"value": 1})
    prefixed.set("k", 2)
    subscription_trusted(redis_url)

    reads = []
    for read in [lambda: cache.get("k"), lambda: cache.get("missing", "default")] * 2:
        before = redis_reads(redis_url)
        reads.append((read(), redis_reads(redis_url) - before))
    before = redis_reads(redis_url)
    others = (cache.has_key("missing"), cache.get_many(["missing", "k"]), same.get("k"))
    from_memory = redis_reads(redis_url) - before

    assert reads == [({"value": 1}, 1), ("default", 1), ({"value": 1}, 0), ("default", 0)]
    assert (others, from_memory) == ((False, {"k": {"value": 1}}, {"value": 1}), 0)
    assert prefixed.get("k") == 2  # another prefix: another memory
    assert redis_reads(redis_url) == before + 1


def exercise(cache, url: str) -> tuple[list, int]:
    """Every call of Django's cache API, each read made twice: what each returned, in order, and
    how many of the repeated reads reached Redis."""
    seen, repeats_from_redis = [], 0

    def twice(read):
        nonlocal repeats_from_redis
        seen.append(read())
        before = redis_reads(url)
        seen.append(read())
        repeats_from_redis += redis_reads(url) != before

    cache.clear()
    twice(lambda: (cache.get("k"), cache.get("k", "default")))
    cache.set("k", {"a": [1, 2]})
    cache.set("none", None)
    twice(lambda: (cache.get("k"), cache.get("none", "default"), cache.has_key("none")))
    seen.extend([cache.add("k", "other"), cache.add("new", "added")])
    twice(lambda: cache.get_many(["k", "new", "missing"]))
    seen.append(cache.add("never", 1, timeout=0))
    twice(lambda: cache.has_key("never"))
    cache.set("n", 5)
    seen.extend([cache.incr("n"), cache.incr("n", 10), cache.decr("n", 2)])
    twice(lambda: cache.get("n"))
    with pytest.raises(ValueError, match="not found"):
        cache.incr("missing")
    seen.extend([cache.touch("k", 100), cache.touch("missing", 100), cache.touch("k", None)])
    twice(lambda: cache.get("k"))
    seen.append(cache.touch("new", 0))
    cache.set("k", "gone", timeout=0)
    twice(lambda: (cache.get("new", "expired"), cache.get("k", "deleted by timeout=0")))
    seen.extend([cache.set_many({"a": 1, "b": 2, "c": 3}), cache.set_many({})])
    twice(lambda: cache.get_many(["a", "b", "c", "d"]))
    cache.delete_many(["a", "b"])
    cache.delete_many([])
    twice(lambda: cache.get_many(["a", "b", "c"]))
    seen.extend([cache.delete("c"), cache.delete("c")])
    twice(lambda: cache.get("c", "deleted"))
    seen.append(cache.get_or_set("made", lambda: "by callable"))
    cache.set("v", "version 2", version=2)
    twice(lambda: (cache.get("made"), cache.get("v", "no version 1"), cache.get("v", version=2)))
    cache.clear()  # (Django's returns FLUSHDB's answer; a NearCache clears its prefix only)
    twice(lambda: cache.get_many(["made", "n", "none", "v"]))
    return seen, repeats_from_redis


def test_it_answers_every_call_as_djangos_redis_cache_does(redis_url):
    reference, reference_repeats_from_redis = exercise(DjangoRedisCache(redis_url, {}), redis_url)
    cache = NearCache(redis_url, {})
    subscription_trusted(redis_url)

    seen, repeats_from_redis = exercise(cache, redis_url)

    assert seen == reference
    assert seen[:4] == [(None, "default")] * 2 + [({"a": [1, 2]}, None, True)] * 2
    assert seen[-2:] == [{}, {}]
    assert (repeats_from_redis, reference_repeats_from_redis) == (0, 12)


def test_timeouts_and_the_key_prefix_are_djangos_and_clear_keeps_to_its_prefix(redis_url):
    cache = NearCache(redis_url, {"KEY_PREFIX": "sessions", "TIMEOUT": 300})
    other = NearCache(redis_url, {"KEY_PREFIX": "other"})
    other.set("k", 1)

    cache.set("default-timeout", 1)
    cache.set("no-timeout", 1, timeout=None)
    cache.set("own-timeout", 1, timeout=20)
    cache.set("already-gone", 1, timeout=-5)
    ttls = [plain(redis_url).ttl(f"sessions:1:{key}-timeout") for key in ("default", "no", "own")]
    cache.clear()

    assert 290 < ttls[0] <= 300
    assert ttls[1] == -1
    assert 10 < ttls[2] <= 20
    assert cache.get("already-gone", "gone") == "gone"
    assert plain(redis_url).keys("*") == [b"other:1:k"]
    assert other.get("k") == 1


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
def test_a_write_in_another_process_is_seen_by_the_very_next_read_then_kept(
    redis_url, elsewhere, write, expected
):
    cache = NearCache(redis_url, {})
    cache.set_many({"a": 1, "b": 1, "counter": 5})
    assert warm(cache, redis_url, KEYS) == {"a": 1, "b": 1, "counter": 5}

    elsewhere.run(write)
    before = redis_reads(redis_url)
    found, again = cache.get_many(KEYS), cache.get_many(KEYS)

    assert found == again == expected
    assert redis_reads(redis_url) == before + 1  # the new values were kept in turn


@pytest.fixture
def slow_link(redis_url):
    """This process reaching the shared server through a proxy (tests/faults/services.py) that
    can hold back what its subscription receives; the other process reaches it directly."""
    proxy = PubSubProxy(int(redis_url.rsplit(":", 1)[1].split("/")[0]), delay_seconds=0.2)
    yield proxy
    proxy.close()


def test_an_announcement_still_on_its_way_is_applied_before_the_very_next_read(
    redis_url, elsewhere, slow_link
):
    """The link holds back what this process's subscription receives by 0.2 s: the write
    elsewhere returns only once this process has applied its announcement."""
    cache = NearCache(slow_link.url(), {})
    cache.set("k", 1)
    warm(cache, redis_url, ["k"])

    slow_link.mode = "delay"
    started = time.monotonic()
    elsewhere.run("cache.set('k', 2)")
    write_took = time.monotonic() - started
    next_read = cache.get("k")

    assert next_read == 2
    assert slow_link.delay_seconds <= write_took < memory.LEASE_SECONDS


def test_with_announcements_lost_a_copy_still_ends_at_max_stale_seconds(redis_url, monkeypatch):
    monkeypatch.setattr(memory, "MAX_STALE_SECONDS", 0.3)
    cache = NearCache(redis_url, {})
    cache.set("k", 1, timeout=3600)
    cache.set("persistent", 1, timeout=None)
    warm(cache, redis_url, ["k", "persistent"])

    for key in ("k", "persistent"):  # no PUBLISH: as if the announcements were lost
        set_behind_its_back(redis_url, cache, key, 2)
    while_fresh = cache.get_many(["k", "persistent"])
    time.sleep(0.35)

    assert while_fresh == {"k": 1, "persistent": 1}
    assert cache.get_many(["k", "persistent"]) == {"k": 2, "persistent": 2}


def test_a_copy_never_outlives_the_keys_redis_expiry_even_read_as_it_expires(redis_url):
    """Value and time to live are read at one moment (MULTI/EXEC), else a key read as it
    expires would be kept for MAX_STALE_SECONDS (30 s here)."""
    cache = NearCache(redis_url, {})
    cache.set_many({"persistent": "stays", "touched": "shortened"})
    warm(cache, redis_url, ["persistent", "touched"])
    cache.touch("touched", 1)
    warm(cache, redis_url, ["persistent", "touched"])
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

    assert cache.get_many([*set_at, "persistent", "touched"]) == {"persistent": "stays"}


def test_a_read_that_raced_with_an_announcement_is_not_kept(monkeypatch, fresh):
    announcements = memory._announcements_for("redis://127.0.0.1:1/0")  # never reached
    kept_here = Memory(max_bytes=10_000)
    generation = announcements.generation

    announcements.forget(["some-other-key"])  # an announcement arrived while the read was out
    announcements.keep(kept_here, "k", b"old", seconds=1, size=3, generation=generation)
    raced = kept_here.get("k")
    current = announcements.generation
    announcements.keep(kept_here, "k", b"new", seconds=1, size=3, generation=current)

    assert raced is None
    assert kept_here.get("k").value == b"new"


def test_while_the_subscription_does_not_answer_writes_wait_out_its_lease_and_no_copy_is_used(
    redis_url, elsewhere, slow_link
):
    """The link drops all this process's subscription receives, pongs included. A write
    elsewhere waits for its acknowledgement at most LEASE_SECONDS, by when this process's lease
    has ended: it reads Redis, keeps nothing, and drops every copy on reconnecting."""
    cache = NearCache(slow_link.url(), {})
    local = LocalCache("here", {"OPTIONS": {"ANNOUNCE": slow_link.url()}})
    cache.set("k", 1)
    local.set("k", 1)
    warm(cache, redis_url, ["k"])

    slow_link.mode = "blackhole"
    started = time.monotonic()
    elsewhere.run("cache.set('k', 2)")
    write_took = time.monotonic() - started
    after_the_write = cache.get("k")
    set_behind_its_back(redis_url, cache, "k", 3)
    before = redis_reads(redis_url)
    values = [cache.get("k") for _ in range(3)]
    reads = redis_reads(redis_url) - before
    local_answers = (local.get("k", "nothing"), local.get_many(["k"]), local.has_key("k"))
    slow_link.mode = "pass"
    subscription_trusted(slow_link.url())

    assert memory.LEASE_SECONDS <= write_took < memory.LEASE_SECONDS + 1
    assert after_the_write == 2
    assert (values, reads) == ([3, 3, 3], 3)  # nothing read while silent was kept
    assert local_answers == ("nothing", {}, False)  # a LocalCache answers as empty
    assert local.get("k") is None  # on reconnecting, every copy went


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
    assert warm(cache, own_redis, ["k"]) == {"k": 2}  # copies used again once it answers


def test_with_redis_gone_a_read_fails_rather_than_answer_from_memory(server, monkeypatch, fresh):
    with running_redis(free_port()) as url:
        cache = NearCache(url, {})
        cache.set("k", 1)
        warm(cache, url, ["k", "missing"])
    # The server has exited: the copies are well within their time, yet not used.

    for read in (lambda: cache.get("k"), lambda: cache.has_key("missing")):
        with pytest.raises(redis.ConnectionError):
            read()


def test_a_redis_that_never_answers_fails_a_read_within_the_timeout(monkeypatch, fresh):
    """A partition that drops packets without closing the connection: a read gives up after
    REDIS_TIMEOUT_SECONDS (no lease was ever granted, so it asks Redis), so the request answers
    503 instead of holding its thread forever."""
    # The kernel accepts the connection into the backlog; nothing ever answers on it.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        location = production_caches(f"redis://127.0.0.1:{port}/0")["revocation"]["LOCATION"]
        cache = NearCache(location, {})
        started = time.monotonic()
        with pytest.raises(redis.TimeoutError):
            cache.get("k")
        waited = time.monotonic() - started

    assert REDIS_TIMEOUT_SECONDS <= waited < REDIS_TIMEOUT_SECONDS + 1


def test_a_forked_child_does_not_use_its_parents_copies(redis_url):
    cache = NearCache(redis_url, {})
    cache.set("k", 1)
    warm(cache, redis_url, ["k"])
    set_behind_its_back(redis_url, cache, "k", 2)

    read_end, write_end = os.pipe()
    if (child := os.fork()) == 0:  # the child: tell what it reads, leave without pytest's exit
        try:
            os.write(write_end, json.dumps(cache.get("k")).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    os.waitpid(child, 0)
    childs_value = json.loads(os.read(read_end, 100))
    os.close(read_end)

    assert childs_value == 2
    assert cache.get("k") == 1  # the parent's copy, still exact for every announced write


class Clock:
    """time.monotonic, moved forward at will (patched in before a memory is made: its timer)."""

    def __init__(self) -> None:
        self.real, self.offset = time.monotonic, 0.0

    def __call__(self) -> float:
        return self.real() + self.offset


def test_a_local_cache_answers_djangos_cache_api_from_its_locations_memory(monkeypatch, fresh):
    monkeypatch.setattr(time, "monotonic", clock := Clock())
    cache, value = LocalCache("here", {"TIMEOUT": 60}), ("immutable", 1)

    cache.set("k", value)
    results = [cache.get("k"), cache.get("missing", "default"), cache.add("k", "other")]
    results += [cache.add("new", 2), cache.touch("missing"), cache.touch("new", None)]
    cache.set("gone", 1, timeout=0)
    cache.set("past", 1, timeout=-5)
    cache.set("short", 1, timeout=5)
    results += [cache.get("gone"), cache.get("past"), cache.add("never", 1, timeout=0)]
    shared = (LocalCache("here", {}).get("k"), LocalCache("elsewhere", {}).get("k"))
    results += [cache.delete("k"), cache.delete("k"), cache.get("k", "deleted")]
    clock.offset = 30
    results += [cache.get("short", "expired"), cache.get("new")]
    cache.touch("new", 10)
    clock.offset = 120

    assert results[:9] == [value, "default", False, True, False, True, None, None, False]
    assert results[9:] == [True, False, "deleted", "expired", 2]
    assert cache.get("new", "expired") == "expired"
    assert shared == (value, None)


def test_an_announcing_local_cache_forgets_at_once_what_another_process_deletes(
    redis_url, elsewhere
):
    """Round after round, read right after the other process's delete has returned."""
    cache = LocalCache("here", {"OPTIONS": {"ANNOUNCE": redis_url}})
    subscription_trusted(redis_url)
    cache.set_many({"a": 1, "b": 2})
    found_deleted = elsewhere.run("result = local.delete('a')")
    after_delete = cache.get_many(["a", "b"])

    stale = []
    for n in range(300):  # a key each round: a late announcement harms no other round
        cache.set(f"k{n}", n)
        elsewhere.run(f"local.delete('k{n}')")
        if cache.get(f"k{n}") is not None:
            stale.append(n)
    cache.set("c", 3)
    elsewhere.run("local.clear()")

    assert found_deleted == "False"  # it had no copy there, yet the delete was announced
    assert after_delete == {"b": 2}
    assert stale == [], (
        f"{len(stale)} of 300 reads made just after another process's delete had returned "
        "still answered the deleted value: the announcement reached this process too late"
    )
    assert cache.get_many(["b", "c"]) == {}


def test_an_announcing_local_cache_keeps_no_read_through_that_raced_with_an_announcement(
    redis_url, elsewhere
):
    """get (a miss), the row read, then set: a change announced in between (here, another
    process's delete of that key) may be newer than what was read, so the set keeps nothing."""
    cache = LocalCache("here", {"OPTIONS": {"ANNOUNCE": redis_url}})
    subscription_trusted(redis_url)

    missed = cache.get("user-row:1")
    elsewhere.run("local.delete('user-row:1')")  # a change committed after our read
    cache.set("user-row:1", "the row as read before the change")
    raced = cache.get("user-row:1")
    cache.get("user-row:2")
    cache.set("user-row:2", "read with nothing announced meanwhile")

    assert (missed, raced) == (None, None)
    assert cache.get("user-row:2") == "read with nothing announced meanwhile"


def test_an_announcing_local_cache_keeps_nothing_past_max_stale_seconds(redis_url, monkeypatch):
    monkeypatch.setattr(time, "monotonic", clock := Clock())
    announcing = LocalCache("here", {"TIMEOUT": None, "OPTIONS": {"ANNOUNCE": redis_url}})
    unbounded = LocalCache("there", {"TIMEOUT": None})
    subscription_trusted(redis_url)
    for cache in (announcing, unbounded):
        cache.set_many({"forever": 1, "long": 1}, timeout=None)
        cache.set("long", 1, timeout=3600)
    fresh = announcing.get_many(["forever", "long"])

    clock.offset = memory.MAX_STALE_SECONDS
    subscription_trusted(redis_url)  # a lease granted after the clock's jump

    assert fresh == {"forever": 1, "long": 1}
    assert announcing.get_many(["forever", "long"]) == {}
    assert unbounded.get_many(["forever", "long"]) == fresh


def test_a_memory_holds_its_bytes_at_most_and_evicts_the_least_recently_used():
    entry = len("a") + 100 + ENTRY_OVERHEAD
    held = Memory(max_bytes=3 * entry)
    kept = [held.put(key, key, seconds=60, size=100) for key in "abc"]
    held.get("a")  # now b is the least recently used

    kept.append(held.put("d", "d", seconds=60, size=100))
    refused = held.put("huge", "huge", seconds=60, size=3 * entry)

    assert kept == [True] * 4
    assert refused is False
    assert [key for key in "abcd" if held.get(key) is not None] == ["a", "c", "d"]
    assert (held.bytes, len(held)) == (3 * entry, 3)


def test_a_memory_never_returns_an_entry_past_its_deadline():
    held = Memory(max_bytes=10_000)
    held.put("short", "short", seconds=0.05, size=5)
    held.put("long", "long", seconds=60, size=4)
    time.sleep(0.1)

    assert (held.get("short"), held.get_many(["short", "long"])) == (
        None,
        {"long": held.get("long")},
    )
    assert held.put("short", "again", seconds=60, size=5, only_if_absent=True) is True
    assert held.get("short").value == "again"


def test_each_caller_of_a_nearcache_gets_a_value_of_its_own_unless_it_is_a_scalar(redis_url):
    cache = NearCache(redis_url, {})
    cache.set_many({"dict": {"a": [1]}, "flag": True, "count": 7})
    subscription_trusted(redis_url)
    first = cache.get_many(["dict", "flag", "count"])  # from Redis, then kept

    first["dict"]["a"].append(2)
    before = redis_reads(redis_url)
    again = cache.get_many(["dict", "flag", "count"])

    assert again == {"dict": {"a": [1]}, "flag": True, "count": 7}
    assert redis_reads(redis_url) == before  # from memory
    assert cache._memory.get(cache.make_key("flag")).value.value is True  # kept decoded
    assert cache._memory.get(cache.make_key("dict")).value.value is memory.UNDECODED


def test_a_nearcache_fed_thousands_of_missing_keys_stays_within_max_bytes(redis_url):
    max_bytes = 1_000_000
    cache = NearCache(redis_url, {"OPTIONS": {"MAX_BYTES": max_bytes}})
    subscription_trusted(redis_url)

    most = 0
    for _ in range(3000):
        cache.get(secrets.token_hex(3072))  # a 6 KB key, missing
        most = max(most, cache._memory.bytes)

    assert most <= max_bytes
    assert len(cache._memory) >= max_bytes // (6144 + ENTRY_OVERHEAD + 16) - 1  # it did keep


class ClosingCache(LocMemCache):
    """A backend with a close() of its own, as memcached's are: it counts its calls."""

    closed = 0

    def close(self, **kwargs):
        type(self).closed += 1


def close_caches_connected() -> bool:
    connected = request_finished.disconnect(close_caches)
    if connected:
        request_finished.connect(close_caches)
    return connected


def test_caches_are_closed_after_each_request_only_if_a_backend_closes_anything(client, settings):
    without = close_caches_connected()
    settings.CACHES = {**settings.CACHES, "closing": {"BACKEND": f"{__name__}.ClosingCache"}}
    caches["closing"]  # made in this thread: what a request's end closes
    before = ClosingCache.closed

    answer = client.get("/compare/probe/")

    assert answer.status_code == 200
    assert without is False  # this project's backends close nothing: Django's call is skipped
    assert close_caches_connected() is True
    assert ClosingCache.closed == before + 1
