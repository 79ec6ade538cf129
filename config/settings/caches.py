"""The cache aliases of every environment.

- `default`: what every process of a deployment shares. In production it is Redis through
  django-redis (one connection pool per server and process, hiredis parsing the replies): the
  sessions, the revocation marks, each signed-in person's user state, rate-limit counters.
  In development and tests it is whatever CACHE_URL says (local memory by default).
- `local`: this process only (config.memory), for what cannot change under its key.
"""

from typing import Any

REDIS_BACKEND = "django_redis.cache.RedisCache"
# How long a Redis connection waits to connect, or for an answer, before it gives up: a Redis
# that stops answering without closing the connection (a partition dropping packets, a hung
# proxy) then makes requests answer 503 after this long instead of holding their threads forever.
# Redis answers in well under a millisecond.
REDIS_TIMEOUT_SECONDS = 2


def redis_cache(*, url: str, key_prefix: str, sentinels: list[str] | None = None) -> dict[str, Any]:
    """A django-redis alias on `url`. With `sentinels` (host:port pairs), `url` names the
    Sentinel service instead (redis://<service name>/<db>) and every command, reads included,
    goes to the primary they name: a replica may not have a revocation yet."""
    options: dict[str, Any] = {
        "SOCKET_CONNECT_TIMEOUT": REDIS_TIMEOUT_SECONDS,
        "SOCKET_TIMEOUT": REDIS_TIMEOUT_SECONDS,
    }
    if sentinels:
        options["CONNECTION_FACTORY"] = "django_redis.pool.SentinelConnectionFactory"
        options["SENTINELS"] = [
            (host, int(port)) for host, port in (entry.rsplit(":", 1) for entry in sentinels)
        ]
    return {"BACKEND": REDIS_BACKEND, "LOCATION": url, "KEY_PREFIX": key_prefix, "OPTIONS": options}


def cache_aliases(*, default: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """CACHES: `default` as given, and `local`, this process's memory."""
    return {
        "default": default,
        "local": {"BACKEND": "config.memory.LocalCache", "LOCATION": "local"},
    }
