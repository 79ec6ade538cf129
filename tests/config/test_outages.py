"""With the database or the cache down, pages and the API answer 503 clearly; then they recover.

Real failures on real servers: gunicorn on a database file that cannot be opened, or a Redis
address where nothing listens; then the dependency comes back and the same processes serve again.
"""

import json
import os
import re
import subprocess
import sys
from http import HTTPStatus

import pytest
import redis
import requests

from tests.servers import (
    HTTP_TIMEOUT,
    ROOT,
    free_port,
    http,
    redis_server_binary,
    running_gunicorn,
    running_redis,
)


def migrate(database_url: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url,
        },
        check=True,
        timeout=120,
    )


def sign_in_attempt(base_url: str) -> requests.Response:
    """Load the sign-in form, then post it with its CSRF token, as a browser does."""
    browser = requests.Session()
    form = browser.get(f"{base_url}/accounts/login/", timeout=HTTP_TIMEOUT).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    return browser.post(
        f"{base_url}/accounts/login/",
        data={"csrfmiddlewaretoken": token, "login": "a@b.example", "password": "not-this-one"},
        timeout=HTTP_TIMEOUT,
    )


def test_a_database_outage_answers_503_then_the_site_recovers_without_a_restart(tmp_path):
    folder = tmp_path / "database"
    database_url = f"sqlite:///{folder}/db.sqlite3"

    with running_gunicorn({"DATABASE_URL": database_url}) as server:
        page = http(f"{server.url}/accounts/login/")
        api = http(
            f"{server.url}/api/auth/token/",
            data=b'{"username": "a@b.example", "password": "not-this-one"}',
            headers={"Content-Type": "application/json"},
        )
        health = http(f"{server.url}/healthz")

        folder.mkdir()
        migrate(database_url)
        recovered = http(f"{server.url}/accounts/login/")
        recovered_health = http(f"{server.url}/healthz")

    assert page.status == HTTPStatus.SERVICE_UNAVAILABLE
    assert "The database is unavailable" in page.body
    assert page.headers["Retry-After"] == "30"
    assert api.status == HTTPStatus.SERVICE_UNAVAILABLE
    assert json.loads(api.body)["error"]["code"] == "service_unavailable"
    assert json.loads(health.body)["checks"]["database"] == "down"
    assert recovered.status == HTTPStatus.OK
    assert recovered_health.status == HTTPStatus.OK
    log = server.output[0]
    assert "Traceback" not in log
    assert "(database unavailable: OperationalError)" in log


@pytest.fixture
def redis_binary():
    if redis_server_binary() is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs redis-server (.ci/run installs it)")
        pytest.skip("no redis-server here: apt-get install redis-server")


@pytest.mark.usefixtures("redis_binary")
def test_a_cache_outage_answers_503_then_the_site_recovers_without_a_restart(tmp_path):
    database_url = f"sqlite:///{tmp_path}/db.sqlite3"
    migrate(database_url)
    redis_port = free_port()
    env = {"DATABASE_URL": database_url, "CACHE_URL": f"redis://127.0.0.1:{redis_port}/0"}

    with running_gunicorn(env) as server:
        # Signing in counts attempts in the cache (rate limits), so it needs the cache.
        sign_in = sign_in_attempt(server.url)
        health = http(f"{server.url}/healthz")
        with running_redis(redis_port):
            recovered_health = http(f"{server.url}/healthz")
            recovered_sign_in = sign_in_attempt(server.url)

    assert sign_in.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "The cache is unavailable" in sign_in.text
    assert json.loads(health.body)["checks"] == {"database": "ok", "cache": "down"}
    assert recovered_health.status == HTTPStatus.OK
    assert recovered_sign_in.status_code == HTTPStatus.OK
    assert "not correct" in recovered_sign_in.text
    assert "Traceback" not in server.output[0]


def test_a_redis_that_never_answers_fails_a_read_within_the_timeout():
    """A partition that drops packets leaves connections open and silent: django-redis gives up
    after REDIS_TIMEOUT_SECONDS, so the request answers 503 instead of holding its thread."""
    import socket
    import time

    from django_redis.cache import RedisCache

    from config.settings.caches import REDIS_TIMEOUT_SECONDS, redis_cache

    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        port = silent.getsockname()[1]
        alias = redis_cache(url=f"redis://127.0.0.1:{port}/0", key_prefix="silent")
        cache = RedisCache(alias["LOCATION"], alias)
        began = time.monotonic()
        with pytest.raises(redis.TimeoutError):
            cache.get("anything")
        took = time.monotonic() - began

    assert REDIS_TIMEOUT_SECONDS <= took < REDIS_TIMEOUT_SECONDS + 1
