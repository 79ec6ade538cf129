"""A Redis cache whose reads are answered from the process's own memory, and still exact.

Sessions and the bearer tokens' revocation marks are read on every authenticated request and
written rarely. `NearCache` keeps what it reads from Redis in the process (up to MAX_ENTRIES per
alias, never longer than the key's own Redis expiry or MAX_LOCAL_SECONDS), so a repeated read
costs no network round trip. A missing key is remembered too: "this token is not revoked" is the
answer the hot path asks for most.

Exactness comes from the writers. Every write through a NearCache (set, add, delete, touch, incr,
set_many, delete_many, clear) runs in one MULTI/EXEC with a PUBLISH of the keys it changed on
CHANNEL. Each process subscribes to that channel, once per Redis server, and applies what is
pending on the subscription (a poll(2) of its socket, no round trip) at the first read of each
request, and at every read outside a request. Redis delivers a PUBLISH to every subscriber before
it answers the writer, so once a sign-out or a revocation has returned, the next request anywhere
sees it, as it would without the copies.

The copies are used only while the subscription is known to deliver: a ping goes out on it every
HEARTBEAT_SECONDS of use, and memory answers only while the last answered ping was sent less than
LIVENESS_SECONDS ago. After a reconnection (Redis restarted, the subscription dropped) every copy
is thrown away, as messages may have been missed. Until the subscription answers again, reads go
to Redis as with the plain backend, which is also what happens while a process's subscription is
being set up. A read that raced with an invalidation is not kept (see `generation`).

What this needs from the deployment: every writer of these keys goes through a NearCache. A key
changed behind its back (redis-cli, another program) is seen by a process only when its copy
expires, after MAX_LOCAL_SECONDS at most.

redis-py has server-assisted client-side caching of its own, but only with Redis 7.4 or later
(not Valkey, nor Debian 12's Redis 7.0); this works with any Redis that has pub/sub.
"""

import contextlib
import itertools
import json
import os
import select
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from django.core.exceptions import ImproperlyConfigured
from django.core.signals import request_finished, request_started
from django.dispatch import receiver
from redis.client import PubSub
from redis.exceptions import RedisError

from config.cache import RedisCache, RedisCacheClient

CHANNEL = "nearcache:invalidate"
# A message that empties every copy (clear() flushes the whole Redis database).
EVERYTHING = "*"
MAX_ENTRIES = 10_000
MAX_LOCAL_SECONDS = 60.0
HEARTBEAT_SECONDS = 1.0
LIVENESS_SECONDS = 5.0


class Copy(NamedTuple):
    """A value as Redis returned it (serialized; None: the key did not exist), and until when
    it may be used (time.monotonic())."""

    raw: bytes | None
    deadline: float


def _local_seconds(pttl: int) -> float:
    """How long a copy may be used, from Redis's PTTL (-2: missing, -1: no expiry, else ms)."""
    return MAX_LOCAL_SECONDS if pttl < 0 else min(pttl / 1000, MAX_LOCAL_SECONDS)


class _Subscription(PubSub):
    """redis-py's PubSub, telling its owner each time it (re)connects."""

    def __init__(self, *args: Any, on_connect: Callable[[], None], **kwargs: Any) -> None:
        self._owner_on_connect = on_connect
        super().__init__(*args, **kwargs)

    def on_connect(self, connection: Any) -> None:
        self._owner_on_connect()
        super().on_connect(connection)


class Invalidations:
    """One process's copies of what it read from one Redis server, and its subscription to
    CHANNEL there, which says which copies other writers have made stale.

    `generation` counts every event after which a copy read earlier may be stale (a message, a
    local write, a reconnection). A read stores its copy only if the generation did not move
    between asking Redis and storing, so a copy never outlives the write that invalidated it.
    """

    def __init__(self, *, connection_pool: Any) -> None:
        self.connection_pool = connection_pool
        self.lock = threading.RLock()
        # Full Redis keys (prefix and version included) to their copies: every alias on this
        # server and every thread of the process share them. A plain dict: threads read it
        # without the lock (a dict lookup is atomic), so requests never queue for a read. Writes
        # take the lock; at MAX_ENTRIES it starts afresh.
        self.copies: dict[str, Copy] = {}
        self.generation = 0
        self._pid = os.getpid()
        self._subscription: _Subscription | None = None
        self._confirmed_sent_at = float("-inf")
        self._next_ping_at = float("-inf")
        self._polled = threading.local()
        self._poller: Any = None
        self._poller_socket: Any = None

    def poll(self) -> int | None:
        """Apply every invalidation already delivered. The generation the caller may store
        copies under, or None when copies must not be used: the subscription is not known to be
        delivering (not yet set up, reconnecting, or silent for too long)."""
        request = getattr(_serving, "request", None)
        with self.lock:
            if self._pid != os.getpid():  # a forked child: the parent's socket is not ours
                self._pid = os.getpid()
                self._subscription = None
                self._forget_all()
            # Once per request: what was announced before the request's first read is applied;
            # a later read of the same request may answer as of that moment.
            if request is None or getattr(self._polled, "request", None) != request:
                try:
                    self._drain()
                except RedisError:
                    self._reset()
                    return None
                self._polled.request = request
            if time.monotonic() - self._confirmed_sent_at > LIVENESS_SECONDS:
                return None
            return self.generation

    def lookup(self, keys: Iterable[str]) -> dict[str, bytes | None]:
        """The copies there are of `keys` (a missing key's is None), by key."""
        now = time.monotonic()
        found = {}
        for key in keys:
            copy = self.copies.get(key)
            if copy is not None and now < copy.deadline:
                found[key] = copy.raw
        return found

    def keep(
        self, read: dict[str, tuple[bytes | None, int]], *, generation: int, read_at: float
    ) -> None:
        """Keep copies of what was read (key: raw value, PTTL) at `read_at` (time.monotonic(),
        taken before asking, so a copy never outlives its key), unless an invalidation came in
        since `generation` was polled: the values may predate it."""
        with self.lock:
            if generation != self.generation:
                return
            if len(self.copies) + len(read) > MAX_ENTRIES:
                self.copies.clear()
            for key, (raw, pttl) in read.items():
                if raw is not None and pttl == -2:  # gone by the time its lifetime was asked
                    continue
                self.copies[key] = Copy(raw=raw, deadline=read_at + _local_seconds(pttl))

    def invalidate(self, keys: Iterable[str] | None) -> None:
        """Drop this process's copies of `keys` (None: of everything) at once."""
        with self.lock:
            self.generation += 1
            if keys is None:
                self.copies.clear()
            else:
                for key in keys:
                    self.copies.pop(key, None)

    def _drain(self) -> None:
        subscription = self._subscription
        if subscription is None:
            subscription = _Subscription(
                self.connection_pool,
                ignore_subscribe_messages=True,
                on_connect=self._forget_all,
            )
            self._subscription = subscription
            subscription.subscribe(CHANNEL)
        now = time.monotonic()
        if now >= self._next_ping_at:
            subscription.ping(message=repr(now))
            self._next_ping_at = now + HEARTBEAT_SECONDS
        if not self._socket_readable(subscription.connection):
            return
        while subscription.connection.can_read(timeout=0):
            message = subscription.get_message(timeout=0)
            if message is None:  # a subscription confirmation, or a partial message
                continue
            data = message["data"]
            if isinstance(data, bytes):
                data = data.decode()
            if message["type"] == "pong":
                self._confirmed_sent_at = max(self._confirmed_sent_at, float(data))
            elif message["type"] == "message":
                self.invalidate(None if data == EVERYTHING else json.loads(data))

    def _socket_readable(self, connection: Any) -> bool:
        """Whether anything waits on the subscription's socket: one poll(2), where redis-py's
        can_read makes five system calls (it makes the socket non-blocking and back). redis-py's
        own buffer is empty here: every drain reads until can_read says nothing is left."""
        sock = getattr(connection, "_sock", None)
        if sock is None:
            return True  # not connected (or redis-py changed): let can_read decide
        if self._poller_socket is not sock:
            self._poller = select.poll()
            self._poller.register(sock, select.POLLIN | select.POLLPRI)
            self._poller_socket = sock
        return bool(self._poller.poll(0))

    def _forget_all(self) -> None:
        """Every copy goes, and none is used again until a new ping has been answered."""
        with self.lock:
            self.invalidate(None)
            self._confirmed_sent_at = float("-inf")
            self._next_ping_at = float("-inf")

    def _reset(self) -> None:
        subscription, self._subscription = self._subscription, None
        self._forget_all()
        if subscription is not None:
            with contextlib.suppress(RedisError):
                subscription.reset()


# The request each thread is serving (None outside one), set from Django's request signals.
_serving = threading.local()
_request_numbers = itertools.count()


@receiver(request_started)
def _request_started(**kwargs: Any) -> None:
    _serving.request = next(_request_numbers)


@receiver(request_finished)
def _request_finished(**kwargs: Any) -> None:
    _serving.request = None


# One subscription and one set of copies per Redis server per process. Django makes a cache
# backend per thread, so these live outside the backends, shared by every alias and thread.
_invalidations: dict[str, Invalidations] = {}
_invalidations_lock = threading.Lock()


def invalidations_for(server: str, *, connection_pool: Any) -> Invalidations:
    """This process's Invalidations for `server`, made with `connection_pool` the first time."""
    with _invalidations_lock:
        found = _invalidations.get(server)
        if found is None:
            found = _invalidations[server] = Invalidations(connection_pool=connection_pool)
        return found


class NearCacheClient(RedisCacheClient):
    """RedisCacheClient with copies in memory: reads through them, writes announce themselves."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invalidations = invalidations_for(
            self._servers[0], connection_pool=self._get_connection_pool(True)
        )

    # Reads.

    def _read(self, keys: list[str]) -> dict[str, bytes | None]:
        """The raw value of each key (None: missing), from memory where it may be."""
        invalidations = self.invalidations
        generation = invalidations.poll()
        found = {} if generation is None else invalidations.lookup(keys)
        missing = [key for key in keys if key not in found]
        if missing:
            # One MULTI/EXEC: each value and its time to live as of the same moment (a key that
            # expired between an MGET and a PTTL would come back with a value and "no such key").
            pipeline = self.get_client(None).pipeline(transaction=True)
            pipeline.mget(missing)
            for key in missing:
                pipeline.pttl(key)
            sent_at = time.monotonic()
            raws, *ttls = pipeline.execute()
            read = {key: (raw, ttl) for key, raw, ttl in zip(missing, raws, ttls, strict=True)}
            if generation is not None:
                invalidations.keep(read, generation=generation, read_at=sent_at)
            found.update((key, raw) for key, (raw, _) in read.items())
        return found

    def get(self, key: str, default: Any) -> Any:
        raw = self._read([key])[key]
        return default if raw is None else self._serializer.loads(raw)

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        found = self._read(list(keys))
        return {key: self._serializer.loads(raw) for key, raw in found.items() if raw is not None}

    def has_key(self, key: str) -> bool:
        return self._read([key])[key] is not None

    def get_or_load_local(self, key: str, load: Callable[[], Any]) -> Any:
        """See NearCache.get_or_load_local."""
        invalidations = self.invalidations
        generation = invalidations.poll()
        if generation is not None:
            raw = invalidations.lookup([key]).get(key)
            if raw is not None:
                return self._serializer.loads(raw)
        loaded_at = time.monotonic()
        value = load()
        if generation is not None and value is not None:
            invalidations.keep(
                {key: (self._serializer.dumps(value), -1)}, generation=generation, read_at=loaded_at
            )
        return value

    # Writes: each runs with its announcement in one MULTI/EXEC.

    def _announce(self, keys: list[str] | None, write: Callable[[Any], None]) -> list[Any]:
        self.invalidations.invalidate(keys)
        pipeline = self.get_client(None, write=True).pipeline(transaction=True)
        write(pipeline)
        pipeline.publish(CHANNEL, EVERYTHING if keys is None else json.dumps(keys))
        results = pipeline.execute()
        # Our own copies again, in case a read stored one while the write was on its way.
        self.invalidations.invalidate(keys)
        return results

    def add(self, key: str, value: Any, timeout: int | None) -> bool:
        raw = self._serializer.dumps(value)
        if timeout == 0:
            # Added and gone at once, as Django's backend does; announced, as a reader elsewhere
            # may have seen it in between.
            def add_and_delete(pipeline: Any) -> None:
                pipeline.set(key, raw, nx=True)
                pipeline.delete(key)

            return bool(self._announce([key], add_and_delete)[0])
        return bool(self._announce([key], lambda p: p.set(key, raw, ex=timeout, nx=True))[0])

    def set(self, key: str, value: Any, timeout: int | None) -> None:
        raw = self._serializer.dumps(value)
        if timeout == 0:
            self._announce([key], lambda p: p.delete(key))
        else:
            self._announce([key], lambda p: p.set(key, raw, ex=timeout))

    def touch(self, key: str, timeout: int | None) -> bool:
        if timeout is None:
            return bool(self._announce([key], lambda p: p.persist(key))[0])
        return bool(self._announce([key], lambda p: p.expire(key, timeout))[0])

    def delete(self, key: str) -> bool:
        return bool(self._announce([key], lambda p: p.delete(key))[0])

    def incr(self, key: str, delta: int) -> int:
        if not self.get_client(key).exists(key):
            raise ValueError(f"Key '{key}' not found.")
        return self._announce([key], lambda p: p.incr(key, delta))[0]

    def set_many(self, data: dict[str, Any], timeout: int | None) -> None:
        raws = {key: self._serializer.dumps(value) for key, value in data.items()}

        def write(pipeline: Any) -> None:
            pipeline.mset(raws)
            if timeout is not None:
                for key in raws:
                    pipeline.expire(key, timeout)

        self._announce(list(raws), write)

    def delete_many(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        self._announce(keys, lambda p: p.delete(*keys))

    def clear(self) -> bool:
        return bool(self._announce(None, lambda p: p.flushdb())[0])


class NearCache(RedisCache):
    """Django's Redis cache backend with exact in-process copies (see the module docstring)."""

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        if len(self._servers) != 1:
            # Reads from a replica could return what an announced write has not reached yet.
            raise ImproperlyConfigured("NearCache reads and writes one Redis server.")
        self._class = NearCacheClient

    def stamp(self) -> int | None:
        """A number that changes whenever any copy this process holds may have changed (an
        announced write anywhere, a reconnection): equal stamps mean nothing changed in between.
        None while copies cannot be trusted. It polls the subscription, as a read does."""
        return self._cache.invalidations.poll()

    def get_or_load_local(
        self, key: str, load: Callable[[], Any], version: int | None = None
    ) -> Any:
        """The value of `load()` (a picklable value; None is never kept), kept in this process's
        memory only, never in Redis, until `delete(key)` in any process or MAX_LOCAL_SECONDS.

        For copies of what lives elsewhere, such as a database row: whoever changes the original
        calls `delete(key)` once the change is committed. Each call returns a new object.
        """
        key = self.make_and_validate_key(key, version=version)
        return self._cache.get_or_load_local(key, load)
