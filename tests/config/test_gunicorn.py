"""The production server: its access log never holds a query string (OAuth codes travel in
them), its default shape, and only the load balancer (TRUSTED_PROXIES) may say a request came
over HTTPS or from another address."""

import importlib
import json
import multiprocessing
import os
from http import HTTPStatus
from http.client import HTTPConnection
from urllib.parse import urlsplit

import pytest

from config import gunicorn as gunicorn_config
from tests.servers import (
    HOST,
    Answer,
    free_port,
    http,
    production_env_prepared,
    redis_server_binary,
    running_gunicorn,
    running_redis,
)

# production_env_prepared's load balancer is 127.0.0.1; a client on another loopback address
# reaches the app server directly, as one would an app server bound to 0.0.0.0.
BALANCER = "127.0.0.1"
DIRECT = "127.0.0.9"


def test_the_access_log_leaves_out_query_strings(tmp_path):
    with running_gunicorn({"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}) as server:
        answer = http(f"{server.url}/healthz?code=SECRET-CODE&state=abc")

    assert answer.status == HTTPStatus.OK
    assert '"GET /healthz HTTP/1.1" 200' in server.output[0]
    assert "SECRET-CODE" not in server.output[0]


def test_the_default_shape_is_one_worker_per_core_with_four_threads(monkeypatch):
    """The shape bench/shapes.py measured best on 2 cores (README, "Sizing the workers"); the
    environment overrides it."""
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("GUNICORN_THREADS", raising=False)
    default = importlib.reload(gunicorn_config)
    default_shape = (default.workers, default.threads, default.worker_class)
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("GUNICORN_THREADS", "8")
    overridden = importlib.reload(gunicorn_config)
    overridden_shape = (overridden.workers, overridden.threads)
    monkeypatch.undo()
    importlib.reload(gunicorn_config)

    assert default_shape == (multiprocessing.cpu_count(), 4, "gthread")
    assert overridden_shape == (3, 8)


def request_from(
    source: str, server: str, method: str, path: str, *, headers: dict, body: bytes | None = None
) -> Answer:
    """One request to `server` from the local address `source`."""
    address = urlsplit(server)
    connection = HTTPConnection(
        address.hostname, address.port, timeout=30, source_address=(source, 0)
    )
    try:
        connection.request(method, path, body=body, headers={"Host": HOST, **headers})
        response = connection.getresponse()
        return Answer(response.status, dict(response.getheaders()), response.read().decode())
    finally:
        connection.close()


@pytest.fixture(scope="module")
def production_env(tmp_path_factory):
    """Production settings on SQLite and a Redis of their own; 3 token requests a minute from
    one client address."""
    if redis_server_binary() is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs redis-server (.ci/run installs it)")
        pytest.skip("no redis-server here: apt-get install redis-server")
    database = tmp_path_factory.mktemp("db") / "db.sqlite3"
    with running_redis(free_port()) as redis_url:
        yield production_env_prepared(
            tmp_path_factory,
            database_url=f"sqlite:///{database}",
            redis_url=redis_url,
            API_TOKEN_RATE_PER_ADDRESS="3/min",
        )


def test_only_the_load_balancer_may_say_a_request_came_over_https(production_env):
    https = {"X-Forwarded-Proto": "https"}
    with running_gunicorn(production_env) as server:
        direct = request_from(DIRECT, server.url, "GET", "/accounts/login/", headers=https)
        balanced = request_from(BALANCER, server.url, "GET", "/accounts/login/", headers=https)
        # The health check is never redirected: HSTS is sent only on what Django took for HTTPS.
        direct_health = request_from(DIRECT, server.url, "GET", "/healthz", headers=https)
        balanced_health = request_from(BALANCER, server.url, "GET", "/healthz", headers=https)

    assert direct.status == HTTPStatus.MOVED_PERMANENTLY
    assert direct.headers["Location"] == f"https://{HOST}/accounts/login/"
    assert balanced.status == HTTPStatus.OK
    assert "Strict-Transport-Security" not in direct_health.headers
    assert "Strict-Transport-Security" in balanced_health.headers


def test_a_client_reaching_the_server_directly_cannot_claim_another_address(production_env):
    """Its X-Forwarded-For is ignored (its own 3 a minute, whatever it writes), while the
    balancer's names each client (a limit of its own). HTTPS is not asked for here, since this
    direct client can no longer claim it (the test above)."""
    env = {**production_env, "DJANGO_SECURE_SSL_REDIRECT": "False"}
    body = json.dumps({"username": "nobody", "password": "wrong-password"}).encode()

    def attempt(source: str, n: int) -> int:
        headers = {"Content-Type": "application/json", "X-Forwarded-For": f"198.51.100.{n}"}
        answer = request_from(
            source, server.url, "POST", "/api/auth/token/", headers=headers, body=body
        )
        return answer.status

    with running_gunicorn(env) as server:
        direct = [attempt(DIRECT, n) for n in range(4)]
        behind_the_balancer = [attempt(BALANCER, n) for n in range(4)]

    assert direct == [401, 401, 401, 429]
    assert behind_the_balancer == [401, 401, 401, 401]
