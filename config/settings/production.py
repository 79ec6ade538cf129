"""Production settings: secrets come from the environment; a missing one stops start-up."""

import sys

from .base import *
from .base import env
from .caches import cache_aliases, redis_cache

_REQUIRED = ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL")
_missing = [name for name in _REQUIRED if not env.str(name, default="")]
if _missing:
    # One clear line instead of a traceback: this is an operator's mistake, not a bug.
    sys.exit(
        "config.settings.production: missing required environment variable(s): "
        + ", ".join(_missing)
        + " (see .env.example)"
    )

DEBUG = False
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# Redis holds what every app server shares: the sessions, the revocation marks, each signed-in
# person's user state and the rate-limit counters. Every process reads it there (one round trip
# per bearer request; see the README's "Scaling out"). With REDIS_SENTINELS (host:port,...),
# REDIS_URL names the Sentinel service instead: redis://<service name>/<db>.
CACHES = cache_aliases(
    default=redis_cache(
        url=env.str("REDIS_URL"),
        key_prefix=env.str("REDIS_KEY_PREFIX", default="signin-lab"),
        sentinels=env.list("REDIS_SENTINELS", default=[]),
    )
)
SESSION_ENGINE = "config.sessions"

# HTTPS everywhere; the load balancer terminates TLS and says so in X-Forwarded-Proto, which
# gunicorn believes from TRUSTED_PROXIES only (config/gunicorn.py). No SECURE_PROXY_SSL_HEADER:
# Django would believe the header from any client that reaches the app server directly.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)

# __Host- cookies: Secure, Path=/, no Domain, so no sibling subdomain can set or shadow them.
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_NAME = "__Host-csrftoken"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Never in production: the inspector's headers would tell anyone how each request authenticated.
AUTH_INSPECTOR = False

EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend"
)

# The bearer-token API: signing keys come from a provisioned folder (JWT_SIGNING_KEYS_DIR, made and
# rotated by `manage.py jwt_rotate_key`) or one PEM (JWT_SIGNING_KEY_PEM); never generated here.
JWT_SIGNING_KEYS_DIR = env.str("JWT_SIGNING_KEYS_DIR", default="")
JWT_GENERATE_MISSING_KEYS = False
_missing_jwt = []
if not (JWT_SIGNING_KEYS_DIR or env.str("JWT_SIGNING_KEY_PEM", default="")):
    _missing_jwt.append("JWT_SIGNING_KEYS_DIR")
if env.bool("JWT_ENCRYPT_ACCESS_TOKENS", default=False) and not env.str(
    "JWT_ENCRYPTION_KEY", default=""
):
    _missing_jwt.append("JWT_ENCRYPTION_KEY")
if _missing_jwt:
    sys.exit(
        "config.settings.production: missing required environment variable(s): "
        + ", ".join(_missing_jwt)
        + " (see .env.example)"
    )
