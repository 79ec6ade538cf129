"""config.cache: Django's Redis backend with one client per pool, against a real Redis."""

import pytest
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient

from config.cache import RedisCache
from tests.servers import free_port, redis_server_binary, running_redis


@pytest.fixture
def redis_url():
    if redis_server_binary() is None:
        pytest.skip("no redis-server here: apt-get install redis-server")
    with running_redis(free_port()) as url:
        yield url


def test_one_client_serves_every_call_and_the_cache_works(redis_url):
    cache = RedisCache(redis_url, {})

    cache.set("k", {"value": 1})

    assert cache.get("k") == {"value": 1}
    assert cache.get_many(["k", "missing"]) == {"k": {"value": 1}}
    assert cache._cache.get_client() is cache._cache.get_client(write=True)
    assert isinstance(cache._cache, DjangoRedisCacheClient)
