"""Development settings: `make run` and `manage.py` use these by default."""

import secrets

from config.settings.providers import social_providers

from .base import *
from .base import SIMPLE_JWT, VAR_DIR, env


def _development_secret(name: str) -> str:
    """A random value made on first run, kept in the ignored var/ folder; never a known default."""
    path = VAR_DIR / name
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or _development_secret("secret_key")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http"

# Providers without credentials in the environment use the emulators that `make run` starts.
EMULATOR_URL = env.str("EMULATOR_URL", default="http://localhost:8001")
EMULATOR_CLIENTS_FILE = VAR_DIR / "emulator-clients.json"
SOCIALACCOUNT_PROVIDERS = social_providers(
    env, emulator_url=EMULATOR_URL, emulator_secret=_development_secret("emulator_client_secret")
)

# The issuer is the site's URL, as RFC 8414 clients expect (`make run` passes its host and port).
SIMPLE_JWT = {**SIMPLE_JWT, "ISSUER": env.str("JWT_ISSUER", default="http://127.0.0.1:8000")}

# The auth inspector (compare.inspector): every API response says which authenticator accepted it,
# its queries and its time.
AUTH_INSPECTOR = True
