"""config.memory: this process's memory (the `local` cache alias), bounded in bytes, every entry
ending at its deadline."""

import time

import pytest

from config import memory
from config.memory import ENTRY_OVERHEAD, LocalCache, value_size


class Clock:
    """time.monotonic, moved forward at will."""

    def __init__(self) -> None:
        self.real, self.offset = time.monotonic, 0.0

    def __call__(self) -> float:
        return self.real() + self.offset


@pytest.fixture
def fresh(monkeypatch):
    """Memories made by this test only."""
    monkeypatch.setattr(memory, "_memories", {})


def test_it_answers_djangos_cache_api_from_its_locations_memory(monkeypatch, fresh):
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


def test_it_holds_its_bytes_at_most_and_evicts_the_least_recently_used(fresh):
    value = "v" * 100
    entry = len(":1:a") + value_size(value) + ENTRY_OVERHEAD
    cache = LocalCache("bounded", {"OPTIONS": {"MAX_BYTES": 3 * entry}})
    for key in "abc":
        cache.set(key, value)
    cache.get("a")  # now b is the least recently used

    cache.set("d", value)
    cache.set("huge", "v" * (3 * entry))

    assert [key for key in "abcd" if cache.get(key) is not None] == ["a", "c", "d"]
    assert cache.get("huge") is None
    assert (cache.bytes, len(cache)) == (3 * entry, 3)


def test_it_never_returns_an_entry_past_its_deadline(monkeypatch, fresh):
    monkeypatch.setattr(time, "monotonic", clock := Clock())
    cache = LocalCache("deadlines", {})
    cache.set("short", "short", timeout=1)
    cache.set("long", "long", timeout=60)

    clock.offset = 1

    assert (cache.get("short"), cache.get("long")) == (None, "long")
    assert cache.add("short", "again", timeout=60) is True
    assert cache.get("short") == "again"
