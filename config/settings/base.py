"""Settings shared by every environment; each value is read from the environment through `env`."""

from datetime import timedelta
from pathlib import Path

import environ
from corsheaders.defaults import default_headers as corsheaders_default_headers

from config.settings.caches import cache_aliases, redis_cache
from config.settings.providers import providers_from_environment, social_providers

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Files the running site writes for itself (development keys, the SQLite database); never committed.
VAR_DIR = Path(environ.Env().str("SIGNIN_LAB_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=True) and (BASE_DIR / ".env").exists():
    env.read_env(str(BASE_DIR / ".env"))

# General
DEBUG = env.bool("DJANGO_DEBUG", default=False)
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
USE_I18N = True
USE_TZ = True
SITE_ID = 1

# Databases
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
# No transaction around each request: services open their own (transaction.atomic), and a
# request that reads nothing makes no database round trip.
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Caches (config/settings/caches.py): "default" is what every process of a deployment shares
# (Redis in production: sessions, revocation marks, user state, rate-limit counters; CACHE_URL
# elsewhere, local memory by default), "local" this process's memory (config.memory).
_cache_url = env.str("CACHE_URL", default="locmemcache://signin-lab")
CACHES = cache_aliases(
    default=(
        redis_cache(url=_cache_url, key_prefix="signin-lab")
        if _cache_url.startswith(("redis://", "rediss://"))
        else env.cache_url_config(_cache_url)
    )
)

# URLs
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

# Apps
DJANGO_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.sites",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "config.apps.SigninLabAdminConfig",
]
THIRD_PARTY_APPS = [
    "corsheaders",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.usersessions",
    "allauth.mfa",
    "allauth.headless",
    # Its Client model is the registry of OAuth clients (api.clients); its URLs are not routed.
    "allauth.idp.oidc",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]
LOCAL_APPS = [
    "config.apps.SigninLabConfig",
    "accounts",
    "api",
    "compare",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

# Authentication
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "accounts.backends.ModelBackend",
    "accounts.backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "profile"

# Passwords: Argon2id first; the others verify hashes made before a switch.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Middleware
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.csp.ContentSecurityPolicyMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before anything loads request.user; removed at start-up unless AUTH_INSPECTOR is True.
    "compare.inspector.AuthInspectorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.UserSessionActivityMiddleware",
    "accounts.flow_recording.OAuthFlowRecordingMiddleware",
]

# Static files
STATIC_URL = "/static/"
STATIC_ROOT = env.str("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Templates
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Security headers and cookies that hold in every environment.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy: no inline script or style anywhere, in every environment.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

# The load balancers and proxies in front (addresses or CIDR ranges, comma-separated): the only
# peers whose X-Forwarded-For (config.client_address) and X-Forwarded-Proto (gunicorn,
# config/gunicorn.py) are believed. Empty: every peer is the client, and says nothing of HTTPS.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

# Cross-origin API use (a single-page app elsewhere): only the listed origins, only the API,
# never with cookies: such clients send a bearer token, so session cookies stay same-site.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/(api/|\.well-known/|_allauth/app/).*$"
# allauth headless's app client keeps its session in this header, not in a cookie.
CORS_ALLOW_HEADERS = (*corsheaders_default_headers, "x-session-token")
CORS_ALLOW_CREDENTIALS = False

# Email
EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend"
)
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="signin-lab <noreply@localhost>")

# Admin
ADMIN_URL = env.str("DJANGO_ADMIN_URL", default="admin/")

# Logging: one line per event on stderr.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "line": {
            "()": "config.logging.OneLineFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
    },
    "filters": {"outages": {"()": "config.outages.OutageLogFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "line",
            "filters": ["outages"],
        }
    },
    "root": {"level": "INFO", "handlers": ["console"]},
}

# django-allauth
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = False
ACCOUNT_DEFAULT_HTTP_PROTOCOL = env.str("ACCOUNT_DEFAULT_HTTP_PROTOCOL", default="https")
# Failed passwords at the sign-in and reauthentication forms (accounts.adapters), counted as the
# token endpoint counts its own (accounts.login_failures): for one login from one address, the
# main brake; for one login from every address, past which only addresses that have not failed
# for it may try, so nobody can lock its owner out. They replace allauth's per-login limit.
SIGN_IN_RATE_PER_ACCOUNT_ADDRESS = env.str("SIGN_IN_RATE_PER_ACCOUNT_ADDRESS", default="10/15min")
SIGN_IN_RATE_PER_ACCOUNT = env.str("SIGN_IN_RATE_PER_ACCOUNT", default="100/hour")
# allauth's limit on every sign-in attempt from one address, right password or wrong.
ACCOUNT_RATE_LIMITS = {"login": env.str("SIGN_IN_RATE_PER_ADDRESS", default="30/m/ip")}

# Third-party sign-in (allauth socialaccount). Starting a flow is a POST (LOGIN_ON_GET stays off);
# provider emails count as verified only when the provider says so; provider tokens are never
# written to the database (the live API demo keeps the access token in the server-side session).
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_QUERY_EMAIL = True
SOCIALACCOUNT_AUTO_SIGNUP = True
# Signing into an existing account by a provider's verified email: only for the providers that
# enable it (config/settings/providers.py: GitHub and Google); auto-connect applies only there.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_REQUESTS_TIMEOUT = env.float("SOCIALACCOUNT_REQUESTS_TIMEOUT", default=5)
SOCIALACCOUNT_PROVIDERS = social_providers(env)
# Providers whose application comes from the environment: admin may not register a second one.
SIGNIN_PROVIDERS_FROM_ENVIRONMENT = providers_from_environment(env)
# The emulators' base URL when development or tests use them; empty in production.
EMULATOR_URL = ""

# allauth headless (api.headless), at /_allauth/: its browser client (this site's session cookie
# and CSRF token, for a single-page app on this site) and its app client (X-Session-Token, then
# this API's own token pair from the strategy). Sign-in with a provider token an app holds is
# limited per client address (each one may make this site call the provider).
HEADLESS_CLIENTS = ("browser", "app")
HEADLESS_TOKEN_STRATEGY = "api.headless.ProjectTokenStrategy"  # noqa: S105 -- a class path
APP_PROVIDER_TOKEN_RATE_PER_ADDRESS = env.str(
    "APP_PROVIDER_TOKEN_RATE_PER_ADDRESS", default="30/min"
)

# Second factor (allauth mfa): TOTP with recovery codes; required for staff (config.admin).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "signin-lab"

# Open sessions (allauth usersessions): the sessions page shows when each was last seen.
USERSESSIONS_TRACK_ACTIVITY = True

# The auth inspector (compare.inspector): Server-Timing and X-Auth-Inspector headers on every API
# response, saying which authenticator accepted it and what that cost. Development and tests only.
AUTH_INSPECTOR = False

# The bearer-token API (api/): Django REST framework, simplejwt and the JWT keys.
# Tokens are signed with an asymmetric key from api.keys (RS256, chosen by bench/jwt_algorithms.py),
# never with SECRET_KEY; their public halves are published at /.well-known/jwks.json.
REST_FRAMEWORK = {
    # Bearer first: its challenge is the one a 401 carries (RFC 6750 section 3).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.BearerTokenAuthentication",
        "api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "api.negotiation.SingleRendererNegotiation",
    "DEFAULT_PARSER_CLASSES": ["api.parsers.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.exception_handler.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        # api.throttling. Every token request from one client address.
        "token_address": env.str("API_TOKEN_RATE_PER_ADDRESS", default="60/min"),
        # Failed passwords for one login (as typed) from one address: the main brake.
        "token_account_address": env.str("API_TOKEN_RATE_PER_ACCOUNT_ADDRESS", default="10/15min"),
        # Failed passwords for one login from every address; past it, only addresses that have
        # not failed for that login lately may try (the owner on a new address gets in).
        "token_account": env.str("API_TOKEN_RATE_PER_ACCOUNT", default="100/hour"),
        # Revoking all of one's tokens, per signed-in user.
        "token_user": env.str("API_TOKEN_RATE_PER_USER", default="20/hour"),
        # Introspection (api.oauth), per client address: a resource server asks per request.
        "oauth_introspect": env.str("OAUTH_INTROSPECT_RATE_PER_ADDRESS", default="6000/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SIMPLE_JWT = {
    "ALGORITHM": "RS256",
    # api.keys holds the keys; simplejwt's own backend, which would sign with this, is never used.
    "SIGNING_KEY": None,
    # The site's own URL in production: RFC 8414 metadata names it as the issuer, and clients
    # that discover this server from its URL check that the two are the same.
    "ISSUER": env.str("JWT_ISSUER", default="signin-lab"),
    "AUDIENCE": env.str("JWT_AUDIENCE", default="signin-lab-api"),
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_ACCESS_TOKEN_SECONDS", default=300)),
    "REFRESH_TOKEN_LIFETIME": timedelta(
        seconds=env.int("JWT_REFRESH_TOKEN_SECONDS", default=24 * 60 * 60)
    ),
    "LEEWAY": env.int("JWT_LEEWAY_SECONDS", default=0),
    "ROTATE_REFRESH_TOKENS": True,
    "UPDATE_LAST_LOGIN": False,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "sub",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "AUTH_TOKEN_CLASSES": ("api.tokens.AccessToken",),
    "TOKEN_USER_CLASS": "api.authentication.BearerUser",
}
# Signing keys: a folder of PEM files and their keys.json (rotated by `manage.py jwt_rotate_key`),
# or one PEM in JWT_SIGNING_KEY_PEM. Development and tests make the folder on first use.
JWT_SIGNING_KEYS_DIR = env.str("JWT_SIGNING_KEYS_DIR", default=str(VAR_DIR / "jwt-keys"))
JWT_SIGNING_KEY_PEM = env.str("JWT_SIGNING_KEY_PEM", default="")
JWT_PREVIOUS_PUBLIC_KEYS_PEM = env.str("JWT_PREVIOUS_PUBLIC_KEYS_PEM", default="")
JWT_GENERATE_MISSING_KEYS = True
# Each process re-reads the key folder this often, and at most this often on meeting an unknown kid.
JWT_KEYS_RELOAD_SECONDS = env.int("JWT_KEYS_RELOAD_SECONDS", default=60)
JWT_UNKNOWN_KID_RELOAD_SECONDS = env.int("JWT_UNKNOWN_KID_RELOAD_SECONDS", default=5)
JWKS_MAX_AGE = env.int("JWKS_MAX_AGE", default=300)
# Access tokens as nested JWTs (signed, then encrypted: JWE dir + A256GCM) under their own key.
JWT_ENCRYPT_ACCESS_TOKENS = env.bool("JWT_ENCRYPT_ACCESS_TOKENS", default=False)
JWT_ENCRYPTION_KEY = env.str("JWT_ENCRYPTION_KEY", default="")
# A refresh token presented again this soon after it was spent (two tabs refreshing at once) gets
# the same successor pair instead of revoking its family (RFC 9700 section 4.14.2); 0: strict.
JWT_REFRESH_REUSE_GRACE_SECONDS = env.int("JWT_REFRESH_REUSE_GRACE_SECONDS", default=5)
# The device authorization grant (api.device): how long a device code and its user code live, and
# the least time between two polls of the token endpoint (RFC 8628 section 3.2).
OAUTH_DEVICE_CODE_SECONDS = env.int("OAUTH_DEVICE_CODE_SECONDS", default=600)
OAUTH_DEVICE_POLL_SECONDS = env.int("OAUTH_DEVICE_POLL_SECONDS", default=5)
# Wrong client secrets (api.clients), per client address.
OAUTH_CLIENT_SECRET_FAILURE_RATE = env.str("OAUTH_CLIENT_SECRET_FAILURE_RATE", default="10/min")
# Wrong user codes typed on the device page, per account and per client address.
OAUTH_USER_CODE_RATE = env.str("OAUTH_USER_CODE_RATE", default="10/10min")
# A token family's "last used" time is written at most this often.
JWT_LAST_USED_RESOLUTION_SECONDS = 60

# DPoP (RFC 9449, api.dpop): a proof is good for DPOP_PROOF_MAX_AGE_SECONDS after its iat (and
# at most DPOP_PROOF_CLOCK_SKEW_SECONDS before it), and its jti is remembered that long; a server
# nonce for DPOP_NONCE_SECONDS.
DPOP_PROOF_MAX_AGE_SECONDS = env.int("DPOP_PROOF_MAX_AGE_SECONDS", default=60)
DPOP_PROOF_CLOCK_SKEW_SECONDS = env.int("DPOP_PROOF_CLOCK_SKEW_SECONDS", default=5)
DPOP_NONCE_SECONDS = env.int("DPOP_NONCE_SECONDS", default=300)
# The token endpoints always demand a server nonce in a proof; the API only with this on.
DPOP_API_NONCE = env.bool("DPOP_API_NONCE", default=False)
# The largest JSON body the API reads; its documents are small.
API_MAX_BODY_BYTES = 64 * 1024
# Live token families a person may hold; a new one past this revokes their oldest.
API_MAX_LIVE_TOKEN_FAMILIES = env.int("API_MAX_LIVE_TOKEN_FAMILIES", default=20)
# `manage.py tokens_prune` deletes families this long after they expired.
API_EXPIRED_FAMILIES_KEPT_DAYS = env.int("API_EXPIRED_FAMILIES_KEPT_DAYS", default=7)

SPECTACULAR_SETTINGS = {
    "TITLE": "signin-lab API",
    "DESCRIPTION": (
        "Bearer-token (JWT) API next to server-session sign-in. Obtain a token pair at "
        "/api/auth/token/, then send the access token as `Authorization: Bearer <token>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from drf_spectacular_sidecar's static files: no CDN, and 'self' under the CSP.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Swagger UI's options as JavaScript (drf-spectacular passes a string through unchanged), to
    # name the plugins of static/api/swagger-ui-accessible.js. Tokens typed into the page stay in
    # memory, never in localStorage. Deep links are off: they nest a link inside each operation's
    # button, which keyboards and screen readers cannot use apart from it
    # (swagger-api/swagger-ui#9570). The "idea" highlighting theme's colours all read at WCAG AA
    # contrast; the default theme's do not.
    "SWAGGER_UI_SETTINGS": """{
        persistAuthorization: false,
        deepLinking: false,
        syntaxHighlight: {activated: true, theme: "idea"},
        presets: [SwaggerUIBundle.presets.apis, ...accessibleSwaggerUi],
    }""",
}
