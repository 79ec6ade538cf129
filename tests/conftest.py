"""Fixtures every test package can use."""

import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from config.settings.providers import emulator_clients
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.servers import free_port, redis_server_binary, running_redis

# An OpenID Connect provider that admin adds with no code: the Google emulator's discovery document.
OIDC_PROVIDER_ID = "in-house"
OIDC_CLIENT_ID = "in-house-oidc-client"
OIDC_CLIENT_SECRET = "in-house-oidc-secret"
# Longer than SOCIALACCOUNT_REQUESTS_TIMEOUT in the test settings: the slow identity times out.
EMULATOR_SLOW_SECONDS = 5.0


@pytest.fixture(scope="session")
def emulator(django_test_environment) -> str:
    """The GitHub and Google emulators in their own process, for the whole session: base URL."""
    from django.conf import settings

    from tests.emulator_process import running_emulator

    # The test client's host and the browser tests' live server: exact redirect URIs for both.
    sites = ["http://testserver", settings.LIVE_SERVER_URL]
    oidc_client = {
        "provider": "google",
        "client_id": OIDC_CLIENT_ID,
        "client_secret": OIDC_CLIENT_SECRET,
        "redirect_uris": [
            f"{site}/accounts/oidc/{OIDC_PROVIDER_ID}/login/callback/" for site in sites
        ],
    }
    address = urlsplit(settings.EMULATOR_URL)
    with running_emulator(
        host=address.hostname,
        port=address.port,
        clients=[*emulator_clients(settings.SOCIALACCOUNT_PROVIDERS, site_urls=sites), oidc_client],
        slow_seconds=EMULATOR_SLOW_SECONDS,
    ) as base_url:
        yield base_url


@pytest.fixture(autouse=True)
def empty_caches():
    """Each test starts with empty caches: rate-limit counters and denylists never leak across
    tests, nor across runs when the cache is a Redis server (CI's second pass)."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()
    _revocation_marks_restored()


def _revocation_marks_restored() -> None:
    """A test database starts with no revocation mark, so its empty cache already holds every
    one: say so, as api.revocation does once it has copied them. Tests of what happens when the
    cache loses its marks delete the key on purpose."""
    from django.core.cache import caches

    from api.revocation import RESTORED_KEY

    caches["revocation"].set(RESTORED_KEY, True, timeout=None)


@pytest.fixture(scope="session")
def session_keys_dir(tmp_path_factory) -> Path:
    """One JWT key folder for the test session, apart from development's: an RSA key takes a
    while to make, and tests that rotate keys must not touch any other folder."""
    return tmp_path_factory.mktemp("jwt-keys")


@pytest.fixture(autouse=True)
def jwt_keys_dir(settings, session_keys_dir) -> Path:
    settings.JWT_SIGNING_KEYS_DIR = str(session_keys_dir)
    return session_keys_dir


@pytest.fixture
def password() -> str:
    return DEFAULT_PASSWORD


@pytest.fixture
def user(db):
    return UserFactory()


def totp_code(secret: str) -> str:
    """The current code of a TOTP authenticator app holding `secret`."""
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


@pytest.fixture
def admin_user(db):
    """A superuser with a TOTP authenticator, as the admin requires (config.admin); its secret
    in `totp_secret`."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    admin = UserFactory(is_staff=True, is_superuser=True)
    admin.totp_secret = generate_totp_secret()
    TOTP.activate(admin, admin.totp_secret)
    return admin


def sign_in_with_second_factor(client, user, password: str) -> None:
    """The site's sign-in as a person with TOTP goes through it: the password, then the code."""
    from http import HTTPStatus

    client.post("/accounts/login/", {"login": user.email, "password": password})
    response = client.post("/accounts/2fa/authenticate/", {"code": totp_code(user.totp_secret)})
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:300]


@pytest.fixture
def admin_client(client, admin_user, password, settings):
    """Signed in as staff, password then second factor: the admin opens only for such a session.
    A code is computed a moment before it is checked, so a 30 s window may turn in between."""
    settings.MFA_TOTP_TOLERANCE = 1
    sign_in_with_second_factor(client, admin_user, password)
    return client


def production_caches(redis_url: str) -> dict:
    """The cache aliases as production has them (config/settings/caches.py), on `redis_url`,
    except "default", kept in memory."""
    from config.settings.caches import cache_aliases

    return cache_aliases(
        default={"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}, redis_url=redis_url
    )


def subscription_trusted(location: str) -> None:
    """Wait until this process's subscription for the caches at `location` (a cache LOCATION,
    exactly) holds a lease, its first ping answered: from then on, copies are used and kept."""
    from config import memory

    announcements = memory._announcements_for(location)
    deadline = time.monotonic() + 10
    while announcements.trusted() is None:
        assert time.monotonic() < deadline, "the subscription never answered a ping"
        time.sleep(0.01)


@pytest.fixture
def fresh_memory(monkeypatch):
    """config.memory starting with no clients, subscriptions nor memories; the subscriptions
    made meanwhile stop listening afterwards."""
    from config import memory

    registries = {name: {} for name in ("_clients", "_announcements", "_memories")}
    for name, registry in registries.items():
        monkeypatch.setattr(memory, name, registry)
    yield
    for announcements in registries["_announcements"].values():
        announcements.close()


@pytest.fixture
def near_caches(fresh_memory):
    """The cache aliases as in production: config.memory's, on a Redis of the test's own,
    sessions kept in it; "default" in memory. Yields the Redis URL once the subscription
    delivers, so copies are kept from the first read on."""
    from django.test import override_settings

    from config.settings.caches import redis_url_with_timeouts

    if redis_server_binary() is None:
        pytest.skip("no redis-server here: apt-get install redis-server")
    with (
        running_redis(free_port()) as url,
        override_settings(CACHES=production_caches(url), SESSION_ENGINE="config.sessions"),
    ):
        _revocation_marks_restored()
        subscription_trusted(redis_url_with_timeouts(url))
        yield url
