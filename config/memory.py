"""What a process keeps in its own memory between requests: only what cannot change under its key.

Everything that can change (sessions, revocation marks, user state, rate-limit counters) lives
once, in the shared `default` cache (Redis in production), and every process reads it there.
This process's memory holds, each bounded:

- the `local` cache alias (`LocalCache` below: cachetools' LRUCache, at most MAX_BYTES, every
  entry with a hard deadline that nothing extends):
  - claims of access tokens this process verified (api.backends), keyed by the token's exact
    bytes (a DPoP-bound token's `cnf` copied for each caller); expiry and the key's
    verification window are checked again on every use;
  - the parsed signing and verifying keys (api.keys), reloaded every JWT_KEYS_RELOAD_SECONDS,
    or sooner (at most once per JWT_UNKNOWN_KID_RELOAD_SECONDS) for a token naming an unknown
    kid;
  - "last seen" and "last used" not yet due (accounts.middleware, api.revocation): those times
    are written at most once a minute per session or token family, by design;
- `functools.cache` on functions of the code alone: accounts.backends' user-state fields
  (one entry per user model);
- `functools.cache` on functions of settings alone: api.encryption's key (one entry per
  JWT_ENCRYPTION_KEY and key folder);
- `functools.lru_cache` on a pure function: api.dpop's imported DPoP client keys and their
  thumbprints, keyed by the key's own members (at most KEYS_REMEMBERED, 4,096, clients);
- one WSGIHandler (compare.api_request.wsgi_handler, `functools.cache`), its middleware chain
  built once, which sends the comparison page's demonstrations to the API in process.

Values in `LocalCache` are shared by every thread of the process, never copied: store immutable
values only (tuples, frozen dataclasses). An entry costs its key's length plus its value's
(pickled) length plus ENTRY_OVERHEAD bytes, so MAX_BYTES bounds the bytes and, at most
MAX_BYTES / ENTRY_OVERHEAD, the entries; the least recently used make room.
"""

import pickle
import sys
import threading
import time
from typing import Any, NamedTuple

from cachetools import LRUCache
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

ENTRY_OVERHEAD = 256
DEFAULT_MAX_BYTES = 8 * 1024 * 1024


class Entry(NamedTuple):
    value: Any
    deadline: float  # time.monotonic()
    size: int


def value_size(value: Any) -> int:
    """The bytes a value takes, as its pickle; an object that cannot be pickled (a parsed key)
    counts its shallow size."""
    if isinstance(value, bytes):
        return len(value)
    try:
        return len(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
    except (pickle.PicklingError, TypeError, AttributeError):
        return sys.getsizeof(value)


# Django makes a cache backend per thread; the memory behind an alias is made once a process.
_memories_lock = threading.Lock()
_memories: dict[str, "LocalCache.Memory"] = {}


class LocalCache(BaseCache):
    """This process's memory, as a Django cache backend (see the module docstring)."""

    class Memory:
        """A thread-safe map bounded in bytes whose entries end at their deadline: one past it
        is never returned, and goes when read or when room is needed."""

        def __init__(self, *, max_bytes: int) -> None:
            self.lock = threading.Lock()
            self.entries: LRUCache = LRUCache(maxsize=max_bytes, getsizeof=lambda e: e.size)

        def live(self, key: str) -> Entry | None:
            """Call holding `lock`."""
            entry = self.entries.get(key)
            if entry is not None and entry.deadline <= time.monotonic():
                del self.entries[key]
                return None
            return entry

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        max_bytes = params.get("OPTIONS", {}).get("MAX_BYTES", DEFAULT_MAX_BYTES)
        with _memories_lock:
            if location not in _memories:
                _memories[location] = self.Memory(max_bytes=max_bytes)
            self._memory = _memories[location]

    def validate_key(self, key: str) -> None:
        """Nothing to check: any string is a key here. (Django's base backend warns about keys
        memcached would refuse, scanning each key on every call.)"""

    def _put(self, key: str, value: Any, timeout: Any, *, only_if_absent: bool) -> bool:
        seconds = self.get_backend_timeout(timeout)
        seconds = float("inf") if seconds is None else seconds - time.time()
        size = len(key) + value_size(value) + ENTRY_OVERHEAD if seconds > 0 else 0
        memory = self._memory
        with memory.lock:
            if seconds <= 0 or size > memory.entries.maxsize:
                memory.entries.pop(key, None)
                return False
            if only_if_absent and memory.live(key) is not None:
                return False
            memory.entries[key] = Entry(value, time.monotonic() + seconds, size)
            return True

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        memory = self._memory
        with memory.lock:
            entry = memory.live(self.make_key(key, version))
        return default if entry is None else entry.value

    def set(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version=None) -> None:
        self._put(self.make_key(key, version), value, timeout, only_if_absent=False)

    def add(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version=None) -> bool:
        full_key = self.make_key(key, version)
        memory = self._memory
        with memory.lock:  # the common answer, without sizing a value
            if memory.live(full_key) is not None:
                return False
        return self._put(full_key, value, timeout, only_if_absent=True)

    def touch(self, key: str, timeout: Any = DEFAULT_TIMEOUT, version=None) -> bool:
        full_key = self.make_key(key, version)
        with self._memory.lock:
            entry = self._memory.live(full_key)
        return entry is not None and self._put(full_key, entry.value, timeout, only_if_absent=False)

    def delete(self, key: str, version: int | None = None) -> bool:
        with self._memory.lock:
            return self._memory.entries.pop(self.make_key(key, version), None) is not None

    def clear(self) -> None:
        with self._memory.lock:
            self._memory.entries.clear()

    def __len__(self) -> int:
        return len(self._memory.entries)

    @property
    def bytes(self) -> int:
        """Bytes held, entries past their deadline not yet dropped included."""
        return int(self._memory.entries.currsize)
