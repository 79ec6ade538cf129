"""Development settings: `make run` and `manage.py` use these by default."""

import secrets

from .base import *
from .base import VAR_DIR, env


def _development_secret_key() -> str:
    """A random key made on first run and kept in the ignored var/ folder, never a known default."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or _development_secret_key()
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
