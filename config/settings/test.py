"""Test settings: pytest uses these (see [tool.pytest.ini_options] in pyproject.toml)."""

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

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Static files straight from the finders, as in development; no collectstatic before tests.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
