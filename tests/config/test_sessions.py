"""config.sessions: Django's cache sessions, strict about keys and honest about outages.

With the production cache aliases on real throwaway Redis servers:

- a cookie holding an ill-formed session key (too long or short, characters Django never uses,
  6 KB of junk) costs no Redis command, while a well-formed unknown key is looked up;
- with Redis down, a signed-in request (the API's /api/me/ and the site's /accounts/profile/)
  answers 503 and carries no Set-Cookie clearing the session cookie; when Redis comes back with
  its data (append-only file), the same browser is still signed in with the same session.
"""

import subprocess
from collections import Counter
from contextlib import contextmanager
from http import HTTPStatus
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings

from config.sessions import SessionStore
from tests.conftest import production_caches
from tests.servers import RedisCommands, free_port, redis_server_binary, wait_for_port

pytestmark = pytest.mark.django_db

ILL_FORMED_KEYS = {
    "too long": "a" * 33,
    "too short": "a" * 31,
    "upper case": "A" * 32,
    "wrong characters": "abcdefghijklmnop-rstuvwxyz012345",
    "six kilobytes": "0123456789abcdef" * 384,
}


@pytest.mark.parametrize("key", ILL_FORMED_KEYS.values(), ids=ILL_FORMED_KEYS.keys())
def test_an_ill_formed_session_key_is_never_looked_up(redis_caches, client, key):
    client.cookies[settings.SESSION_COOKIE_NAME] = key

    with RedisCommands(redis_caches) as commands:
        page = client.get("/accounts/profile/")
        api = client.get("/api/me/")
        store = SessionStore(session_key=key)
        loaded = store.load()

    assert page.status_code == HTTPStatus.FOUND  # to the sign-in page: nobody is signed in
    assert api.status_code == HTTPStatus.UNAUTHORIZED
    assert (loaded, store.session_key) == ({}, None)
    assert commands.run == Counter()


def test_a_well_formed_unknown_key_is_looked_up_and_its_cookie_cleared(redis_caches, client):
    key = "abcdefghijklmnopqrstuvwxyz012345"
    client.cookies[settings.SESSION_COOKIE_NAME] = key

    with RedisCommands(redis_caches) as commands:
        response = client.get("/api/me/")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    # Django's own load() forgets the key in one more lookup, once per such cookie.
    assert commands.run == Counter(get=2)
    assert session_cookie_set(response).startswith(f'{settings.SESSION_COOKIE_NAME}="";')


@contextmanager
def persistent_redis(port: int, folder: Path):
    """A Redis whose every write reaches its append-only file in `folder` before it answers, so
    another started on the same port and folder comes back with the data."""
    process = subprocess.Popen(  # noqa: S603 -- Debian's redis-server
        [
            *(redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1"),
            *("--dir", str(folder), "--save", "", "--appendonly", "yes"),
            *("--appendfsync", "always"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process, "redis-server")
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def session_cookie_set(response) -> str | None:
    """What the response's Set-Cookie does to the session cookie: None if it has none."""
    morsel = response.cookies.get(settings.SESSION_COOKIE_NAME)
    return None if morsel is None else morsel.OutputString()


def test_with_redis_down_a_session_answers_503_keeps_its_cookie_and_survives(tmp_path, user):
    if redis_server_binary() is None:
        pytest.skip("no redis-server here: apt-get install redis-server")
    port = free_port()
    browser = Client(raise_request_exception=False)

    with override_settings(
        CACHES=production_caches(f"redis://127.0.0.1:{port}/0"), SESSION_ENGINE="config.sessions"
    ):
        with persistent_redis(port, tmp_path):
            browser.force_login(user)
            before = browser.get("/api/me/")
        cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
        api = browser.get("/api/me/")
        page = browser.get("/accounts/profile/")
        cookie_during_outage = browser.cookies[settings.SESSION_COOKIE_NAME].value
        with persistent_redis(port, tmp_path):
            after = browser.get("/api/me/")
            profile_after = browser.get("/accounts/profile/")

    assert before.status_code == HTTPStatus.OK
    assert api.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert api.json()["error"]["code"] == "service_unavailable"
    assert page.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "The cache is unavailable" in page.content.decode()
    assert (session_cookie_set(api), session_cookie_set(page)) == (None, None)
    assert cookie_during_outage == cookie
    assert after.status_code == HTTPStatus.OK, after.content
    assert after.json()["username"] == user.username
    assert after.json()["authenticated_by"] == "session"
    assert profile_after.status_code == HTTPStatus.OK
    assert browser.cookies[settings.SESSION_COOKIE_NAME].value == cookie
