"""config.sessions: Django's cache sessions, strict about keys and honest about outages.

With the production cache aliases on real throwaway Redis servers:

- a cookie holding an ill-formed session key (too long or short, characters Django never uses,
  6 KB of junk) costs no cache lookup and leaves nothing in the cache's memory, while a
  well-formed unknown key is looked up (and its absence remembered, as config.memory does);
- with Redis down, a signed-in request (the API's /api/me/ and the site's /accounts/profile/)
  answers 503 and carries no Set-Cookie clearing the session cookie; when Redis comes back with
  its data (append-only file), the same browser is still signed in with the same session.
"""

import subprocess
from contextlib import contextmanager
from http import HTTPStatus
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import Client, override_settings

from config import memory
from config.sessions import SessionStore
from tests.conftest import production_caches
from tests.servers import free_port, redis_server_binary, wait_for_port

pytestmark = pytest.mark.django_db

ILL_FORMED_KEYS = {
    "too long": "a" * 33,
    "too short": "a" * 31,
    "upper case": "A" * 32,
    "wrong characters": "abcdefghijklmnop-rstuvwxyz012345",
    "six kilobytes": "0123456789abcdef" * 384,
}


@pytest.fixture
def session_lookups(near_caches, monkeypatch):
    """The keys the "sessions" alias is asked for (each read, from memory or from Redis)."""
    cache = caches["sessions"]
    asked = []
    real_read = cache._read

    def read(keys):
        asked.extend(keys)
        return real_read(keys)

    monkeypatch.setattr(cache, "_read", read)
    return asked


@pytest.mark.parametrize("key", ILL_FORMED_KEYS.values(), ids=ILL_FORMED_KEYS.keys())
def test_an_ill_formed_session_key_is_never_looked_up(client, session_lookups, key):
    client.cookies[settings.SESSION_COOKIE_NAME] = key

    page = client.get("/accounts/profile/")
    api = client.get("/api/me/")
    store = SessionStore(session_key=key)
    loaded = store.load()

    assert page.status_code == HTTPStatus.FOUND  # to the sign-in page: nobody is signed in
    assert api.status_code == HTTPStatus.UNAUTHORIZED
    assert (loaded, store.session_key) == ({}, None)
    assert session_lookups == []
    assert len(caches["sessions"]._memory) == 0


def test_a_well_formed_unknown_key_is_looked_up_once_and_its_absence_remembered(
    client, session_lookups
):
    key = "abcdefghijklmnopqrstuvwxyz012345"
    client.cookies[settings.SESSION_COOKIE_NAME] = key

    statuses = [client.get("/api/me/").status_code for _ in range(2)]

    assert statuses == [HTTPStatus.UNAUTHORIZED] * 2
    assert session_lookups == [f"sessions:1:django.contrib.sessions.cache{key}"]
    assert len(caches["sessions"]._memory) == 1


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


def test_with_redis_down_a_session_answers_503_keeps_its_cookie_and_survives(
    tmp_path, user, monkeypatch
):
    if redis_server_binary() is None:
        pytest.skip("no redis-server here: apt-get install redis-server")
    for registry in ("_clients", "_announcements", "_memories"):
        monkeypatch.setattr(memory, registry, {})
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
