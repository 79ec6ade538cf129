"""The cache aliases of every environment: config/memory.py says what each holds and how stale
each may be; `default` (rate-limit counters) is whatever the environment gives."""

from typing import Any

REDIS_BACKEND = "django.core.cache.backends.redis.RedisCache"


def cache_aliases(
    *, default: dict[str, Any], redis_url: str | None, key_prefixes: dict[str, str] | None = None
) -> dict[str, dict[str, Any]]:
    """CACHES: `default`, `local` (this process only), `users` (copies of user rows, dropped in
    every process on a change: announced through `redis_url`), and `sessions` and `revocation`:
    on Redis read through exact copies in memory, otherwise `default`'s backend. Each alias's key
    prefix is its name unless `key_prefixes` says otherwise."""
    prefixes = {"sessions": "sessions", "revocation": "revocation", **(key_prefixes or {})}
    shared = {"BACKEND": "config.memory.NearCache", "LOCATION": redis_url} if redis_url else default
    return {
        "default": default,
        "local": {"BACKEND": "config.memory.LocalCache", "LOCATION": "local"},
        "users": {
            "BACKEND": "config.memory.LocalCache",
            "LOCATION": "users",
            "TIMEOUT": 1,
            "OPTIONS": {"ANNOUNCE": redis_url},
        },
        **{
            alias: {**shared, "KEY_PREFIX": prefixes[alias], "TIMEOUT": None}
            for alias in ("sessions", "revocation")
        },
    }
