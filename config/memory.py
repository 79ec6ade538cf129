"""Everything a process remembers between requests: one module, every memory bounded.

Two Django cache backends, so the apps use nothing but Django's public cache API
(`caches[alias].get/get_many/set/add/delete`), built on one bounded memory (`Memory`:
cachetools' LRUCache, sized in bytes, every entry with a hard deadline that nothing extends):

- `LocalCache`: this process only. With `OPTIONS["ANNOUNCE"]` (a Redis URL) its `delete` and
  `clear` reach every process of the deployment, and its entries live at most MAX_STALE_SECONDS.
- `NearCache`: Redis holds the values, shared by every process; the process keeps what it read
  (a missing key too) for at most MAX_STALE_SECONDS, and every write announces its keys to every
  process before it returns.

The aliases (config/settings/base.py), what each holds, who writes it, how stale it may be:

- `local`, this process only:
  - claims of access tokens this process verified (api.backends): never stale, as the key is
    the exact bytes that passed, and expiry and the key's window are checked on every use;
  - the parsed signing keys (api.keys): JWT_KEYS_RELOAD_SECONDS after a rotation; a token naming
    an unknown kid reloads them (at most once per JWT_UNKNOWN_KID_RELOAD_SECONDS);
  - "last seen" and "last used" not yet due (accounts.middleware, api.revocation): those times
    are written once a minute by design.
- `users`: the row of each user a session names (accounts.backends): 0 for changes made through
  accounts.services, MAX_STALE_SECONDS for a row written any other way.
- `sessions`: session data, Django's cache session engine (config.sessions): 0.
- `revocation`: the revocation marks of access tokens (api.revocation): 0.

"0" is exact, and costs readers no round trip. Every write through these aliases announces its
keys in the same MULTI/EXEC, and returns only once every process subscribed has applied the
announcement and said so, or LEASE_SECONDS after Redis answered. A process uses its copies only
under a lease: until LEASE_SECONDS after the last ping its listening thread sent and saw answered
(Redis answers a connection in order, so that answer came after every earlier announcement). So
when a write returns, no process answers from a copy it changed, however late the network
delivers the announcement; a process whose subscription is silent holds writes up for at most
LEASE_SECONDS and, past its lease, reads Redis. After a reconnection every copy goes, and a
copy read before an announcement arrived is not kept (NearCache's reads; a LocalCache's get that
missed, then set). Each process has one listening thread per Redis server, started by its first
read (again in a forked child). If the
network loses announcements but not pings, a copy is still dropped at its deadline:
MAX_STALE_SECONDS is the bound, whatever the network does. Without Redis (development, tests)
the same aliases are process-local and nothing needs announcing.

Sizes: an entry costs its key's length plus its value's (serialized) length plus ENTRY_OVERHEAD
bytes, so MAX_BYTES bounds the bytes and, at most MAX_BYTES / ENTRY_OVERHEAD, the entries; the
least recently used entries make room, and an entry past its deadline is never answered. Values a
LocalCache holds are shared by every thread of the process: store immutable values only (tuples,
frozen dataclasses), never a dict someone may change. A NearCache keeps the bytes Redis sent and
decodes them for each caller, except a scalar (a bool, a number, a string), kept decoded.

None of these backends holds anything to close after a request, so Django's closing of every
alias after each one is skipped (cache_closing_configure) unless a configured backend needs it.
"""

import contextlib
import json
import logging
import os
import pickle
import secrets
import select
import sys
import threading
import time
from collections.abc import Iterable
from typing import Any, NamedTuple

import redis
from cachetools import LRUCache
from django.conf import settings
from django.core.cache import close_caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.redis import RedisSerializer
from django.core.signals import request_finished, setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

CHANNEL = "signin-lab:announcements"
# Where the processes that receive an announcement acknowledge it: a list per announcement.
ACK_PREFIX = "signin-lab:ack:"
# How long an acknowledgement the writer no longer waits for stays in Redis.
ACK_SECONDS = 60
MAX_STALE_SECONDS = 1.0
HEARTBEAT_SECONDS = 0.25
LEASE_SECONDS = 1.0
RESUBSCRIBE_SECONDS = 0.25
ENTRY_OVERHEAD = 256
DEFAULT_MAX_BYTES = 8 * 1024 * 1024


class Copy(NamedTuple):
    """What a NearCache keeps of a key: the value's bytes (b"": none), and the value itself if
    it is a scalar (else UNDECODED: each caller gets a value of its own)."""

    raw: bytes
    value: Any


# A value a NearCache decodes for each caller; and what it keeps for a key Redis does not have.
UNDECODED = object()
ABSENT = object()
ABSENT_COPY = Copy(b"", ABSENT)
# Immutable values: a NearCache's copy holds them decoded, shared by every thread.
SCALARS = frozenset({bool, int, float, str, bytes, type(None)})


class Entry(NamedTuple):
    value: Any
    deadline: float  # time.monotonic()
    size: int


class Memory:
    """A thread-safe map bounded in bytes (cachetools' LRUCache), whose entries end at their
    deadline: one past it is never returned, and goes when read or when room is needed."""

    def __init__(self, *, max_bytes: int) -> None:
        self._lock = threading.Lock()
        self._entries: LRUCache = LRUCache(maxsize=max_bytes, getsizeof=lambda entry: entry.size)

    def get(self, key: str) -> Entry | None:
        with self._lock:
            return self._live(key, time.monotonic())

    def get_many(self, keys: Iterable[str]) -> dict[str, Entry]:
        """The live entry of each of `keys` that has one."""
        now = time.monotonic()
        with self._lock:
            return {key: entry for key in keys if (entry := self._live(key, now)) is not None}

    def _live(self, key: str, now: float) -> Entry | None:
        entry = self._entries.get(key)
        if entry is not None and entry.deadline <= now:
            del self._entries[key]
            return None
        return entry

    def put(
        self, key: str, value: Any, *, seconds: float, size: int, only_if_absent: bool = False
    ) -> bool:
        """Keep `value` for `seconds`; with `only_if_absent`, only where `key` has none. Whether
        it was kept (a value larger than the whole memory never is)."""
        now = time.monotonic()
        entry = Entry(value, now + seconds, len(key) + size + ENTRY_OVERHEAD)
        with self._lock:
            if entry.size > self._entries.maxsize:
                return False
            if only_if_absent and self._live(key, now) is not None:
                return False
            self._entries[key] = entry
            return True

    def forget(self, keys: Iterable[str] | None) -> None:
        """Drop `keys` (None: everything)."""
        with self._lock:
            if keys is None:
                self._entries.clear()
            else:
                for key in keys:
                    self._entries.pop(key, None)

    @property
    def bytes(self) -> int:
        """Bytes held, entries past their deadline not yet dropped included."""
        return int(self._entries.currsize)

    def __len__(self) -> int:
        return len(self._entries)


def value_size(value: Any) -> int:
    """The bytes a value takes, as its pickle; an object that cannot be pickled (a parsed key)
    counts its shallow size."""
    if isinstance(value, bytes):
        return len(value)
    try:
        return len(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
    except (pickle.PicklingError, TypeError, AttributeError):
        return sys.getsizeof(value)


class _PubSub(redis.client.PubSub):
    """redis-py's PubSub, telling its owner each time it (re)connects: announcements may have
    been missed while it was away."""

    def __init__(self, *args: Any, on_connect: Any, **kwargs: Any) -> None:
        self._owner_on_connect = on_connect
        super().__init__(*args, **kwargs)

    def on_connect(self, connection: Any) -> None:
        self._owner_on_connect()
        super().on_connect(connection)


class Announcements:
    """One process's subscription to CHANNEL on one Redis server, and the memories it keeps
    exact, by a lease and acknowledgements:

    - A thread of the process listens: it applies each announcement, then acknowledges it, and
      pings every HEARTBEAT_SECONDS. Redis answers a connection in order, so a pong for a ping
      sent at time t means every announcement made before t has been applied: copies may be used
      until t + LEASE_SECONDS (the lease).
    - A write announces its keys in the same MULTI/EXEC, then waits until every process that
      received the announcement (PUBLISH's count) has acknowledged it, or LEASE_SECONDS after
      EXEC answered: by then the lease of a process that has not applied it has ended.

    So when a write returns, no process answers from a copy it changed. Copies are used only
    while the lease holds and the subscription's socket has nothing unread (a connection that
    Redis closed is not yet noticed otherwise); after a (re)connection every copy goes.
    `generation` moves with every event after which a copy read earlier may be stale, so a read
    that raced with one is not kept."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.memories: list[Memory] = []
        self.generation = 0
        self._lock = threading.Lock()  # the generation, the memories and the lease
        self._start_lock = threading.Lock()
        self._lease_until = float("-inf")  # time.monotonic()
        self._pid: int | None = None
        self._listener: threading.Thread | None = None
        self._socket: Any = None  # the subscription's socket, while subscribed
        self._closed = threading.Event()
        self._answering = True  # whether the last attempt was answered

    # Readers.

    def trusted(self) -> int | None:
        """The generation copies may be used and kept under; None while they must not be used
        (the caller reads Redis): before the first pong, after the lease ran out, or with
        something unread on the subscription."""
        if self._pid != os.getpid() or self._listener is None or not self._listener.is_alive():
            self._start()
        if time.monotonic() >= self._lease_until or self._unread():
            return None
        return self.generation

    def _unread(self) -> bool:
        sock = self._socket
        if sock is None:
            return True
        try:
            poller = select.poll()  # not select.select: no limit on the descriptor's number
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        except (OSError, ValueError):  # closed meanwhile
            return True

    def keep(
        self, memory: Memory, key: str, value: Any, *, seconds: float, size: int, generation: int
    ) -> None:
        """Put a copy in `memory` unless an announcement came in since `generation`."""
        with self._lock:
            if generation == self.generation:
                memory.put(key, value, seconds=seconds, size=size)

    def forget(self, keys: list[str] | None) -> None:
        """Drop `keys` (None: everything) from every memory."""
        with self._lock:
            self.generation += 1
            for memory in self.memories:
                memory.forget(keys)

    # Writers.

    def write(self, keys: list[str] | None, *commands: tuple[str, tuple, dict]) -> list[Any]:
        """Run `commands` and announce `keys` (None: everything) in one MULTI/EXEC; return once
        every process has applied the announcement or its lease has ended. The commands'
        results."""
        ack_key = f"{ACK_PREFIX}{secrets.token_hex(12)}"
        pipeline = self.client.pipeline(transaction=True)
        for name, args, kwargs in commands:
            getattr(pipeline, name)(*args, **kwargs)
        pipeline.publish(CHANNEL, json.dumps({"keys": keys, "ack": ack_key}))
        *results, receivers = pipeline.execute()
        deadline = time.monotonic() + LEASE_SECONDS
        # This process's own copies, read before the write or while it was on its way.
        self.forget(keys)
        self._acknowledgements_wait(ack_key, receivers, deadline)
        return results

    def _acknowledgements_wait(self, ack_key: str, expected: int, deadline: float) -> None:
        received = 0
        try:
            while received < expected and (left := deadline - time.monotonic()) > 0:
                if self.client.blpop([ack_key], timeout=left) is None:
                    break
                received += 1
                received += len(self.client.lpop(ack_key, expected - received) or ())
        finally:
            self.client.delete(ack_key)
        if received < expected:
            logger.warning(
                "%d of %d processes did not acknowledge an announcement within %.1f s; "
                "their leases have ended",
                expected - received,
                expected,
                LEASE_SECONDS,
            )

    # The listener.

    def _start(self) -> None:
        with self._start_lock:
            if self._pid != os.getpid():  # a forked child: the parent's copies are not ours
                self._pid = os.getpid()
                self._listener = None
                self._lose()
            if self._listener is None or not self._listener.is_alive():
                self._listener = threading.Thread(
                    target=self._listen, name="memory-announcements", daemon=True
                )
                self._listener.start()

    def _listen(self) -> None:
        while not self._closed.is_set():
            try:
                self._listen_once()
            except Exception as error:  # a RedisError, or anything: never leave copies trusted
                if self._answering:  # logged once an outage, not at every attempt
                    logger.warning("the announcements' subscription failed: %r", error)
                self._answering = False
            self._lose()
            self._closed.wait(RESUBSCRIBE_SECONDS)

    def _listen_once(self) -> None:
        pubsub = _PubSub(
            self.client.connection_pool, ignore_subscribe_messages=True, on_connect=self._lose
        )
        try:
            pubsub.subscribe(CHANNEL)
            answered_at = next_ping_at = time.monotonic()
            while not self._closed.is_set():
                # What readers look at to notice a connection Redis closed before this thread
                # does (redis-py has no public accessor for a connection's socket).
                self._socket = pubsub.connection._sock
                now = time.monotonic()
                if now >= next_ping_at:
                    pubsub.ping(message=repr(now))
                    next_ping_at = now + HEARTBEAT_SECONDS
                if now - answered_at > LEASE_SECONDS:
                    raise redis.TimeoutError("the subscription stopped answering pings")
                message = pubsub.get_message(timeout=max(0.0, next_ping_at - now))
                if message is None:
                    continue
                data = message["data"]
                if message["type"] == "pong":
                    answered_at = time.monotonic()
                    if not self._answering:
                        logger.info("the announcements' subscription answers again")
                        self._answering = True
                    with self._lock:
                        self._lease_until = max(self._lease_until, float(data) + LEASE_SECONDS)
                elif message["type"] == "message":
                    announcement = json.loads(data)
                    self.forget(announcement["keys"])
                    pipeline = self.client.pipeline(transaction=False)
                    pipeline.rpush(announcement["ack"], 1).expire(announcement["ack"], ACK_SECONDS)
                    pipeline.execute()
        finally:
            self._socket = None
            with contextlib.suppress(redis.RedisError):
                pubsub.reset()

    def _lose(self) -> None:
        """The subscription is (re)connecting: what was announced meanwhile is unknown."""
        with self._lock:
            self._lease_until = float("-inf")
        self.forget(None)

    def close(self) -> None:
        """Stop listening (tests: a memory they are done with)."""
        self._closed.set()


# Django makes a cache backend per thread; what a process shares lives here, made once.
_shared_lock = threading.Lock()
_clients: dict[str, redis.Redis] = {}
_announcements: dict[str, Announcements] = {}
_memories: dict[str, Memory] = {}


def _client(url: str) -> redis.Redis:
    with _shared_lock:
        if url not in _clients:
            _clients[url] = redis.Redis.from_url(url)
        return _clients[url]


def _announcements_for(url: str) -> Announcements:
    client = _client(url)
    with _shared_lock:
        if url not in _announcements:
            _announcements[url] = Announcements(client)
        return _announcements[url]


def _memory_for(alias_key: str, *, max_bytes: int, announcements: Announcements | None) -> Memory:
    with _shared_lock:
        memory = _memories.get(alias_key)
        if memory is None:
            memory = _memories[alias_key] = Memory(max_bytes=max_bytes)
            if announcements is not None:
                announcements.memories.append(memory)
        return memory


class _BoundedCache(BaseCache):
    def validate_key(self, key: str) -> None:
        """Nothing to check: these backends take any string key. (Django's base backend warns
        about keys memcached would refuse, scanning each key on every call.)"""


class LocalCache(_BoundedCache):
    """This process's memory (see the module docstring); values are kept as given, shared."""

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        options = params.get("OPTIONS", {})
        announce = options.get("ANNOUNCE")
        self._announcements = _announcements_for(announce) if announce else None
        self._memory = _memory_for(
            f"local:{location}:{announce}",
            max_bytes=options.get("MAX_BYTES", DEFAULT_MAX_BYTES),
            announcements=self._announcements,
        )
        self._read_through = threading.local()

    def _seconds(self, timeout: Any) -> float:
        seconds = self.get_backend_timeout(timeout)
        seconds = float("inf") if seconds is None else seconds - time.time()
        return min(seconds, MAX_STALE_SECONDS) if self._announcements else seconds

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        full_key = self.make_key(key, version)
        if self._announcements is None:
            entry = self._memory.get(full_key)
        elif (generation := self._announcements.trusted()) is None:
            entry = None
        else:
            entry = self._memory.get(full_key)
            if entry is None:  # a read-through's miss: what its `set` is kept under
                self._read_through.miss = (full_key, generation)
        return default if entry is None else entry.value

    def set(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version=None) -> None:
        """With ANNOUNCE, a value this thread just found missing (get, then set: a read-through)
        is kept only if nothing was announced in between: it may have been read before the
        change the announcement was about."""
        seconds = self._seconds(timeout)
        full_key = self.make_key(key, version)
        if seconds <= 0:
            self._memory.forget([full_key])
        elif self._announcements is None:
            self._memory.put(full_key, value, seconds=seconds, size=value_size(value))
        else:
            missed_key, generation = getattr(self._read_through, "miss", (None, None))
            if missed_key != full_key:
                generation = self._announcements.trusted()
            if generation is not None:
                self._announcements.keep(
                    self._memory,
                    full_key,
                    value,
                    seconds=seconds,
                    size=value_size(value),
                    generation=generation,
                )

    def add(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version=None) -> bool:
        full_key = self.make_key(key, version)
        if self._memory.get(full_key) is not None:  # the common answer, without sizing a value
            return False
        seconds = self._seconds(timeout)
        return seconds > 0 and self._memory.put(
            full_key,
            value,
            seconds=seconds,
            size=value_size(value),
            only_if_absent=True,
        )

    def touch(self, key: str, timeout: Any = DEFAULT_TIMEOUT, version=None) -> bool:
        entry = self._memory.get(self.make_key(key, version))
        if entry is None:
            return False
        self.set(key, entry.value, timeout, version)
        return True

    def delete(self, key: str, version: int | None = None) -> bool:
        full_key = self.make_key(key, version)
        found = self._memory.get(full_key) is not None
        if self._announcements is None:
            self._memory.forget([full_key])
        else:
            self._announce([full_key])
        return found

    def clear(self) -> None:
        if self._announcements is None:
            self._memory.forget(None)
        else:
            self._announce(None)

    def _announce(self, keys: list[str] | None) -> None:
        self._announcements.write(keys)


class NearCache(_BoundedCache):
    """Redis, read through this process's copies (see the module docstring)."""

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        options = params.get("OPTIONS", {})
        self._redis = _client(location)
        self._announcements = _announcements_for(location)
        self._memory = _memory_for(
            f"near:{location}:{self.key_prefix}",
            max_bytes=options.get("MAX_BYTES", DEFAULT_MAX_BYTES),
            announcements=self._announcements,
        )
        self._serializer = RedisSerializer()

    # Reads.

    def _read(self, keys: list[str]) -> dict[str, Any]:
        """The value of each key (ABSENT: Redis has none)."""
        generation = self._announcements.trusted()
        found: dict[str, Any] = {}
        if generation is not None:
            for key, entry in self._memory.get_many(keys).items():
                found[key] = self._value(entry.value)
        missing = [key for key in keys if key not in found]
        if missing:
            # One MULTI/EXEC: each value and its time to live as of the same moment.
            pipeline = self._redis.pipeline(transaction=True)
            pipeline.mget(missing)
            for key in missing:
                pipeline.pttl(key)
            read_at = time.monotonic()
            raws, *ttls = pipeline.execute()
            for key, raw, ttl in zip(missing, raws, ttls, strict=True):
                if raw is None:
                    value, copy = ABSENT, ABSENT_COPY
                else:
                    value = self._serializer.loads(raw)
                    copy = Copy(raw, value if type(value) in SCALARS else UNDECODED)
                found[key] = value
                if generation is not None and (raw is None or ttl != -2):
                    self._keep(key, copy, ttl, generation=generation, read_at=read_at)
        return found

    def _value(self, copy: Copy) -> Any:
        """A copy's value; one that is not a scalar, decoded anew for each caller."""
        return self._serializer.loads(copy.raw) if copy.value is UNDECODED else copy.value

    def _keep(self, key: str, copy: Copy, ttl: int, *, generation: int, read_at: float) -> None:
        """Keep a copy unless an announcement came in since `generation`: it may predate it.
        Never past the key's own expiry (PTTL in ms; -1: none; -2: no such key)."""
        seconds = MAX_STALE_SECONDS if ttl < 0 else min(ttl / 1000, MAX_STALE_SECONDS)
        seconds -= time.monotonic() - read_at
        if seconds > 0:
            self._announcements.keep(
                self._memory, key, copy, seconds=seconds, size=len(copy.raw), generation=generation
            )

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        full_key = self.make_key(key, version)
        value = self._read([full_key])[full_key]
        return default if value is ABSENT else value

    def get_many(self, keys: Iterable[str], version: int | None = None) -> dict[str, Any]:
        full = {self.make_key(key, version): key for key in keys}
        return {
            full[full_key]: value
            for full_key, value in self._read(list(full)).items()
            if value is not ABSENT
        }

    def has_key(self, key: str, version: int | None = None) -> bool:
        full_key = self.make_key(key, version)
        return self._read([full_key])[full_key] is not ABSENT

    # Writes: each runs with its announcement in one MULTI/EXEC.

    def _write(self, keys: list[str] | None, *commands: tuple[str, tuple, dict]) -> list[Any]:
        return self._announcements.write(keys, *commands)

    def _expiry(self, timeout: Any) -> int | None:
        seconds = self.get_backend_timeout(timeout)
        return None if seconds is None else max(0, int(seconds - time.time()))

    def set(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version=None) -> None:
        full_key = self.make_key(key, version)
        seconds = self._expiry(timeout)
        if seconds == 0:
            self._write([full_key], ("delete", (full_key,), {}))
        else:
            raw = self._serializer.dumps(value)
            self._write([full_key], ("set", (full_key, raw), {"ex": seconds}))

    def add(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version=None) -> bool:
        full_key = self.make_key(key, version)
        seconds = self._expiry(timeout)
        raw = self._serializer.dumps(value)
        if seconds == 0:  # added and gone at once, as Django's backend does
            commands = [("set", (full_key, raw), {"nx": True}), ("delete", (full_key,), {})]
        else:
            commands = [("set", (full_key, raw), {"ex": seconds, "nx": True})]
        return bool(self._write([full_key], *commands)[0])

    def set_many(self, data: dict[str, Any], timeout: Any = DEFAULT_TIMEOUT, version=None) -> list:
        raws = {self.make_key(key, version): self._serializer.dumps(v) for key, v in data.items()}
        if not raws:
            return []
        seconds = self._expiry(timeout)
        commands = [("mset", (raws,), {})]
        if seconds is not None:
            commands += [("expire", (key, seconds), {}) for key in raws]
        self._write(list(raws), *commands)
        return []

    def touch(self, key: str, timeout: Any = DEFAULT_TIMEOUT, version=None) -> bool:
        full_key = self.make_key(key, version)
        seconds = self._expiry(timeout)
        if seconds is None:
            return bool(self._write([full_key], ("persist", (full_key,), {}))[0])
        return bool(self._write([full_key], ("expire", (full_key, seconds), {}))[0])

    def delete(self, key: str, version: int | None = None) -> bool:
        full_key = self.make_key(key, version)
        return bool(self._write([full_key], ("delete", (full_key,), {}))[0])

    def delete_many(self, keys: Iterable[str], version: int | None = None) -> None:
        full_keys = [self.make_key(key, version) for key in keys]
        if full_keys:
            self._write(full_keys, ("delete", tuple(full_keys), {}))

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        full_key = self.make_key(key, version)
        if not self._redis.exists(full_key):
            raise ValueError(f"Key '{key}' not found.")
        return self._write([full_key], ("incr", (full_key, delta), {}))[0]

    def clear(self) -> None:
        """Every key of this alias's prefix (never the whole Redis database)."""
        keys = list(self._redis.scan_iter(match=f"{self.key_prefix}:*", count=1000))
        for start in range(0, len(keys), 1000):
            self._redis.delete(*keys[start : start + 1000])
        self._write(None)


def cache_closing_configure() -> None:
    """Django closes every cache alias a thread has used once each request ends
    (django.core.cache.close_caches, on request_finished), each reached through its per-thread
    handler: about 5 µs an alias, 25 µs a request for this project's five, all for nothing, as
    only memcached's backends close anything. So close_caches stays connected only while a
    configured backend has a close() of its own. Runs at start-up (config.apps), and again when
    CACHES changes."""
    backends = {import_string(alias["BACKEND"]) for alias in settings.CACHES.values()}
    if all(backend.close is BaseCache.close for backend in backends):
        request_finished.disconnect(close_caches)
    else:
        request_finished.connect(close_caches)


@receiver(setting_changed)
def _caches_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "CACHES":
        cache_closing_configure()
