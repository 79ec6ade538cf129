"""Test settings: pytest uses these (see [tool.pytest.ini_options] in pyproject.toml)."""

import os
import socket

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


def _free_loopback_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


# Each test run picks free loopback ports for the emulators (tests/emulator_process.py) and the
# browser tests' live server, so runs side by side never meet. Both are known before the
# emulators start, so the emulators hold exact redirect URIs for the live server too.
EMULATOR_URL = env.str("EMULATOR_URL", default=f"http://localhost:{_free_loopback_port()}")
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", f"127.0.0.1:{_free_loopback_port()}")
LIVE_SERVER_URL = "http://" + os.environ["DJANGO_LIVE_TEST_SERVER_ADDRESS"]
SOCIALACCOUNT_PROVIDERS = social_providers(
    env,
    emulator_url=EMULATOR_URL,
    emulator_secret="test-emulator-client-secret",  # noqa: S106 -- shared with the test emulator
    from_environment=False,
)
SIGNIN_PROVIDERS_FROM_ENVIRONMENT: set[str] = set()
# Short enough that the emulator's slow answer (tests/conftest.py) outlasts it quickly, long
# enough for a normal answer on a busy machine.
SOCIALACCOUNT_REQUESTS_TIMEOUT = 3.0

# The bearer-token API: keys made on first use in their own folder, apart from development's.
JWT_SIGNING_KEYS_DIR = env.str("JWT_SIGNING_KEYS_DIR", default=str(VAR_DIR / "test-jwt-keys"))

# The auth inspector (compare.inspector): every API response says which authenticator accepted it,
# its queries and its time.
AUTH_INSPECTOR = True
