"""Fixtures every test package can use."""

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


# Every test that uses the database commits for real, as production does: the shared cache is
# written once a transaction commits (transaction.on_commit), and a test wrapped in a transaction
# of its own would never see those writes. Requesting `db` or marking `django_db` both get this.
@pytest.fixture
def db(transactional_db):
    return transactional_db


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is not None and not marker.kwargs.get("transaction"):
            item.add_marker(pytest.mark.django_db(*marker.args, **marker.kwargs, transaction=True))


@pytest.fixture(autouse=True)
def empty_caches():
    """Each test starts with empty caches: rate-limit counters and denylists never leak across
    tests, nor across runs when the cache is a Redis server (CI's second pass)."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()


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
    """The cache aliases as production has them (config/settings/caches.py), on `redis_url`."""
    from config.settings.caches import cache_aliases, redis_cache

    return cache_aliases(default=redis_cache(url=redis_url, key_prefix="signin-lab"))


@pytest.fixture
def redis_caches():
    """The cache aliases as in production, on a Redis of the test's own, sessions kept in it.
    Yields the Redis URL."""
    from django.test import override_settings

    if redis_server_binary() is None:
        pytest.skip("no redis-server here: apt-get install redis-server")
    with (
        running_redis(free_port()) as url,
        override_settings(CACHES=production_caches(url), SESSION_ENGINE="config.sessions"),
    ):
        yield url


@pytest.fixture
def cli_client(db):
    """The built-in public client, as migration api 0007 makes it (tests flush the tables)."""
    from allauth.idp.oidc.models import Client

    client, _ = Client.objects.update_or_create(
        pk="signin-lab-cli",
        defaults={
            "name": "signin-lab command-line client",
            "type": Client.Type.PUBLIC,
            "secret": "!",
            "grant_types": "urn:ietf:params:oauth:grant-type:device_code\nrefresh_token",
            "scopes": "api",
        },
    )
    return client
