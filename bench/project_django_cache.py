"""Benchmark settings (`bench.load --project-cache django`): the production settings with every
cache alias on django-redis moved to Django's own RedisCache, as the baseline django-redis is
measured against. The apps use only Django's public cache API, so nothing else changes.

django-redis's OPTIONS are upper case and Django's backend hands every option it is given to
redis-py's connection pool, so they are translated: its pool keywords and socket timeouts become
the same redis-py keywords, and the rest (client, parser, serializer and compressor classes,
exception handling) are dropped. Django's backend then uses redis-py's defaults: the hiredis
parser whenever hiredis is installed, and pickle, as django-redis does by default.
"""

from typing import Any

from config.settings.production import *  # noqa: F403 -- these are the production settings
from config.settings.production import CACHES as PRODUCTION_CACHES

DJANGO_REDIS_BACKEND = "django_redis.cache.RedisCache"
DJANGO_BACKEND = "django.core.cache.backends.redis.RedisCache"
# django-redis's options that are redis-py connection keywords under another name.
REDIS_PY_KEYWORDS = {
    "SOCKET_TIMEOUT": "socket_timeout",
    "SOCKET_CONNECT_TIMEOUT": "socket_connect_timeout",
}


def django_options(options: dict[str, Any]) -> dict[str, Any]:
    """django-redis's OPTIONS as Django's RedisCache takes them (redis-py's keywords)."""
    translated = dict(options.get("CONNECTION_POOL_KWARGS", {}))
    translated |= {REDIS_PY_KEYWORDS[k]: v for k, v in options.items() if k in REDIS_PY_KEYWORDS}
    # Lower-case keys are redis-py's already, which both backends hand to it as they are.
    return translated | {k: v for k, v in options.items() if k.islower()}


def on_django_backend(alias: dict[str, Any]) -> dict[str, Any]:
    if alias["BACKEND"] != DJANGO_REDIS_BACKEND:
        return alias
    swapped = {k: v for k, v in alias.items() if k != "OPTIONS"} | {"BACKEND": DJANGO_BACKEND}
    if options := django_options(alias.get("OPTIONS", {})):
        swapped["OPTIONS"] = options
    return swapped


CACHES = {name: on_django_backend(alias) for name, alias in PRODUCTION_CACHES.items()}
