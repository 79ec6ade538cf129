"""The cache aliases of every environment: config/memory.py says what each holds and how stale
each may be; `default` (rate-limit counters) is whatever the environment gives."""

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

REDIS_BACKEND = "django.core.cache.backends.redis.RedisCache"
# How long any Redis connection waits to connect, or for an answer, before it gives up: a Redis
# that stops answering without closing the connection (a partition dropping packets, a hung
# proxy) then makes requests answer 503 after this long instead of holding their threads forever.
# Redis answers in well under a millisecond; a URL that sets its own values keeps them.
REDIS_TIMEOUT_SECONDS = 2


def redis_url_with_timeouts(url: str) -> str:
    """`url` with redis-py's socket_timeout and socket_connect_timeout, unless it sets them."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    for option in ("socket_timeout", "socket_connect_timeout"):
        query.setdefault(option, str(REDIS_TIMEOUT_SECONDS))
    return parts._replace(query=urlencode(query)).geturl()


def cache_aliases(
    *, default: dict[str, Any], redis_url: str | None, key_prefixes: dict[str, str] | None = None
) -> dict[str, dict[str, Any]]:
    """CACHES: `default`, `local` (this process only), `users` (copies of user rows, dropped in
    every process on a change: announced through `redis_url`), and `sessions` and `revocation`:
    on Redis read through exact copies in memory, otherwise `default`'s backend. Each alias's key
    prefix is its name unless `key_prefixes` says otherwise."""
    prefixes = {"sessions": "sessions", "revocation": "revocation", **(key_prefixes or {})}
    redis_url = redis_url_with_timeouts(redis_url) if redis_url else None
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
