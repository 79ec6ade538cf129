"""Test settings: pytest uses these (see [tool.pytest.ini_options] in pyproject.toml)."""

from config.settings.providers import social_providers

from .base import *
from .base import env

DEBUG = False
SECRET_KEY = env.str(
    "DJANGO_SECRET_KEY", default="test-only-secret-key-not-used-anywhere-else-0123456789"
)
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

# Hashing speed is irrelevant to what the tests check; Argon2 stays first in base.py.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Static files straight from the finders, as in development; no collectstatic before tests.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# The emulators run on a fixed loopback port during the test session (tests/emulator_process.py);
# the live server for browser tests has a fixed address too, so redirect URIs can match exactly.
EMULATOR_URL = env.str("EMULATOR_URL", default="http://localhost:18001")
SOCIALACCOUNT_PROVIDERS = social_providers(
    env,
    emulator_url=EMULATOR_URL,
    emulator_secret="test-emulator-client-secret",  # noqa: S106 -- shared with the test emulator
    from_environment=False,
)
SIGNIN_PROVIDERS_FROM_ENVIRONMENT: set[str] = set()
# Short, so the emulator's slow answer outlasts it without slowing the suite down.
SOCIALACCOUNT_REQUESTS_TIMEOUT = 1.0
