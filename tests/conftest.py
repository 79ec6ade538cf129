"""Fixtures every test package can use."""

import pytest

from tests.factories import DEFAULT_PASSWORD, UserFactory


@pytest.fixture(autouse=True)
def empty_caches():
    """Each test starts with empty caches: rate-limit counters and denylists never leak across
    tests, nor across runs when the cache is a Redis server (CI's second pass)."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()


@pytest.fixture
def password() -> str:
    return DEFAULT_PASSWORD


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def admin_user(db):
    """A superuser with a TOTP authenticator, as the admin requires (config.admin)."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    admin = UserFactory(is_staff=True, is_superuser=True)
    TOTP.activate(admin, generate_totp_secret())
    return admin


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client
