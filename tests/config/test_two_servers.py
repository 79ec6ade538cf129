"""Two production app servers behind one PostgreSQL and one Redis, as behind a load balancer.

A session made on one server works on the other; a token issued by one is accepted by the other;
revoking on one is refused at once on the other; a signing key rotated while both run keeps
every token verifying on both. Real servers (gunicorn, config.settings.production), a real
PostgreSQL database made for the test, a real Redis database emptied for it.
"""

import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from http import HTTPStatus
from urllib.parse import urlsplit, urlunsplit

import jwt
import psycopg
import pytest
import redis

from accounts.login_failures import WindowCounter, digest, rate_parse
from tests.servers import (
    HOST,
    Browser,
    bearer,
    manage,
    person_create,
    production_env_prepared,
    running_gunicorn,
    sign_in,
)

POSTGRES_URL = os.environ.get("SIGNIN_LAB_TEST_POSTGRES_URL", "")
REDIS_URL = os.environ.get("SIGNIN_LAB_TEST_REDIS_URL", "")
# Where the tests' requests come from, as the servers' rate limits count them.
CLIENT = "127.0.0.1"


@pytest.fixture(scope="module")
def shared_services() -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL database and an empty Redis database, for this module only."""
    if not (POSTGRES_URL and REDIS_URL):
        if os.environ.get("CI"):
            pytest.fail("CI must set SIGNIN_LAB_TEST_POSTGRES_URL and _REDIS_URL (.ci/services)")
        pytest.skip('needs PostgreSQL and Redis: eval "$(bash .ci/services)" first')
    name = f"signin_two_servers_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    database_url = urlunsplit(urlsplit(POSTGRES_URL)._replace(path=f"/{name}"))
    cache = redis.Redis.from_url(REDIS_URL)
    cache.flushdb()
    try:
        yield {"DATABASE_URL": database_url, "REDIS_URL": REDIS_URL}
    finally:
        cache.flushdb()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def production_env(shared_services, tmp_path_factory) -> dict[str, str]:
    env = production_env_prepared(
        tmp_path_factory,
        database_url=shared_services["DATABASE_URL"],
        redis_url=shared_services["REDIS_URL"],
        JWT_KEYS_RELOAD_SECONDS="1",
        DJANGO_SUPERUSER_PASSWORD="a-long-operator-password",
    )
    manage(env, "demo_setup", "--host", HOST, "--port", "443")
    return env


@pytest.fixture(scope="module")
def two_servers(production_env):
    with ExitStack() as stack:
        servers = [stack.enter_context(running_gunicorn(production_env)) for _ in range(2)]
        yield [server.url for server in servers]


@pytest.fixture(scope="module")
def person(production_env):
    """A person with a verified email and a password, made the way operators would (shell)."""
    person_create(production_env, "two")
    return {"login": "two@example.com", "password": "correct horse battery staple"}


def test_a_session_made_on_one_server_works_on_the_other(two_servers, person):
    first, second = two_servers
    browser = Browser()

    sign_in(browser, first, **person)
    me = browser.request("GET", f"{second}/api/me/")

    assert "__Host-sessionid" in browser.cookies
    assert me.status_code == HTTPStatus.OK
    assert me.json()["authenticated_by"] == "session"


def test_a_token_from_one_server_works_on_the_other_and_revocation_is_shared(two_servers, person):
    first, second = two_servers
    client = Browser()
    pair = client.request(
        "POST",
        f"{first}/api/auth/token/",
        json={"username": person["login"], "password": person["password"]},
    ).json()
    assert "access" in pair, pair

    on_second = client.request("GET", f"{second}/api/me/", headers=bearer(pair["access"]))
    client.request("POST", f"{second}/api/auth/token/revoke/", json={"token": pair["refresh"]})
    on_first = client.request("GET", f"{first}/api/me/", headers=bearer(pair["access"]))

    assert on_second.status_code == HTTPStatus.OK
    assert on_first.status_code == HTTPStatus.UNAUTHORIZED
    assert on_first.json()["error"]["code"] == "token_revoked"


def wait_for_jwks(server: str, *, keys: int) -> list[dict]:
    """The JWKS once `server` has reloaded the key folder (JWT_KEYS_RELOAD_SECONDS=1)."""
    deadline = time.monotonic() + 15
    while True:
        jwks = Browser().request("GET", f"{server}/.well-known/jwks.json").json()["keys"]
        if len(jwks) == keys or time.monotonic() > deadline:
            return jwks
        time.sleep(0.2)


def test_a_key_rotated_while_both_run_keeps_every_token_verifying(
    two_servers, person, production_env
):
    first, second = two_servers
    client = Browser()
    credentials = {"username": person["login"], "password": person["password"]}
    before = client.request("POST", f"{first}/api/auth/token/", json=credentials).json()

    manage(production_env, "jwt_rotate_key")
    jwks = [wait_for_jwks(server, keys=2) for server in two_servers]
    after = client.request("POST", f"{second}/api/auth/token/", json=credentials).json()

    assert [len(keys) for keys in jwks] == [2, 2]
    kids = {jwt.get_unverified_header(pair["access"])["kid"] for pair in (before, after)}
    assert len(kids) == 2
    for token in (before["access"], after["access"]):
        for server in two_servers:
            answer = client.request("GET", f"{server}/api/me/", headers=bearer(token))
            assert answer.status_code == HTTPStatus.OK, answer.text


def test_no_grant_racing_a_password_change_survives_it(two_servers, production_env):
    """OWASP ASVS V7 (end every session on a password change), under real concurrency: grants
    with the old password stream into one server from 8 threads while a third process changes
    the password. Every pair any of them obtained is refused afterwards, on both servers, as an
    access token and as a refresh token: 0 survivors."""
    first, second = two_servers
    person_create(production_env, "racer")
    old = {"username": "racer", "password": "correct horse battery staple"}
    stop = threading.Event()
    pairs: list[dict] = []

    def grant_until_stopped() -> None:
        client = Browser()
        while not stop.is_set():
            answer = client.request("POST", f"{first}/api/auth/token/", json=old)
            if answer.status_code == HTTPStatus.OK:
                pairs.append(answer.json())

    threads = [threading.Thread(target=grant_until_stopped) for _ in range(8)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        manage(
            production_env,
            "shell",
            "--no-imports",
            "-c",
            "from accounts.models import User; from accounts.services import user_password_set; "
            "user_password_set(user=User.objects.get(username='racer'), password='n3w-p4ss')",
        )
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    client = Browser()
    survivors = [
        pair
        for pair in pairs
        for server in two_servers
        if client.request("GET", f"{server}/api/me/", headers=bearer(pair["access"])).status_code
        != HTTPStatus.UNAUTHORIZED
    ]
    refreshed = [
        pair
        for pair in pairs
        if client.request(
            "POST", f"{second}/api/auth/token/refresh/", json={"refresh": pair["refresh"]}
        ).status_code
        != HTTPStatus.UNAUTHORIZED
    ]
    assert len(pairs) >= 8, "the grants never overlapped the change"
    assert survivors == []
    assert refreshed == []


def test_the_daily_prune_runs_against_the_shared_database(two_servers, production_env):
    """`manage.py tokens_prune`, as a scheduler would run it on any app server."""
    output = manage(production_env, "tokens_prune")

    assert re.fullmatch(
        r"Deleted \d+ expired token famil(y|ies) and \d+ spent revocation marks?\.\n", output
    )


def concurrently(count: int, send) -> list[int]:
    """`send(client)` from `count` threads at once (each with a client of its own), after they
    all have connected: the status codes."""
    start = threading.Barrier(count, timeout=60)
    statuses: list[int] = []

    def one() -> None:
        client = Browser()
        start.wait()
        statuses.append(send(client).status_code)

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


def window_with_room(*, scope: str, ident: str, rate: str, seconds: float = 60) -> None:
    """Start in a window with `seconds` left. Limits count in fixed windows, so a burst that
    straddles a window's end is counted in two and may get up to twice the limit through; these
    tests measure one window."""
    now = time.time()
    window = WindowCounter.at(scope=scope, ident=ident, rate=rate_parse(rate), now=now)
    if window.ends_at - now < seconds:
        time.sleep(window.ends_at - now + 0.5)


def test_a_rate_limit_holds_under_200_concurrent_requests(production_env):
    """The review saw 118, then 180, of 180 concurrent verify requests answered against 60/min:
    DRF's throttle reads its history and writes it back. Counted atomically, at most the limit
    (give or take one) gets through, on two servers of 4 threads each."""
    # Counters of its own: the module's other tests count from this address in the same window.
    # 60 in 15 minutes rather than per minute: the burst then rarely has a window's end to wait out.
    limited = {
        **production_env,
        "API_TOKEN_RATE_PER_ADDRESS": "60/15min",
        "REDIS_KEY_PREFIX": f"limits-{secrets.token_hex(4)}",
    }
    with running_gunicorn(limited, workers=2) as server:
        window_with_room(scope="token_address", ident=digest(CLIENT), rate="60/15min")
        statuses = concurrently(
            200,
            lambda client: client.request(
                "POST", f"{server.url}/api/auth/token/verify/", json={"token": "x.y.z"}
            ),
        )

    answered = [status for status in statuses if status != HTTPStatus.TOO_MANY_REQUESTS]
    assert len(statuses) == 200
    assert 55 <= len(answered) <= 61, f"{len(answered)} answered against a limit of 60"


def test_a_login_limit_holds_under_200_concurrent_wrong_passwords(production_env):
    """The review saw 15 password checks for 48 concurrent wrong passwords against 10 per 15
    minutes: the limit was checked before the failure was counted. Each attempt now reserves its
    place first, so at most the limit (give or take one) reaches the password check."""
    person_create(production_env, "concurrent")
    limited = {
        **production_env,
        "API_TOKEN_RATE_PER_ACCOUNT_ADDRESS": "10/15min",
        "REDIS_KEY_PREFIX": f"limits-{secrets.token_hex(4)}",
    }
    wrong = {"username": "concurrent", "password": "not the password"}
    with running_gunicorn(limited, workers=2) as server:
        window_with_room(
            scope="token_account_address",
            ident=digest(digest("concurrent"), CLIENT),
            rate="10/15min",
        )
        statuses = concurrently(
            200,
            lambda client: client.request("POST", f"{server.url}/api/auth/token/", json=wrong),
        )

    checked = [status for status in statuses if status == HTTPStatus.UNAUTHORIZED]
    assert sorted(set(statuses)) == [HTTPStatus.UNAUTHORIZED, HTTPStatus.TOO_MANY_REQUESTS]
    assert 9 <= len(checked) <= 11, f"{len(checked)} password checks against a limit of 10"
