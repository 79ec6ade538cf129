"""Rate limits of the token endpoints, per client address and per account (OWASP ASVS V6).

Rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], read when a request is checked (so a
settings override reaches them); counters live in the shared cache, so every process counts
together. The client address honours TRUSTED_PROXY_COUNT through DRF's NUM_PROXIES.
"""

import hashlib
from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from api import selectors

# The longest username or email the token endpoint accepts (api.views).
MAX_LOGIN_LENGTH = 254


class ApiRateThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class TokenAddressThrottle(ApiRateThrottle):
    """Every token request from one client address."""

    scope = "token_address"

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TokenAccountThrottle(ApiRateThrottle):
    """Every token request for one account: the one a login names (its username and its email
    count together, and an unknown login is limited alike), or else the authenticated user."""

    scope = "token_account"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        ident = self.account_ident(request)
        if ident is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def account_ident(self, request: Request) -> str | None:
        if request.user and request.user.is_authenticated:
            return f"user:{request.user.pk}"
        data = request.data
        login = data.get("username") or data.get("email") if isinstance(data, dict) else None
        if not isinstance(login, str) or not login.strip():
            return None
        # A login no account can have (the serializer refuses it next) asks no database.
        well_formed = "\x00" not in login and len(login) <= MAX_LOGIN_LENGTH
        user_id = selectors.user_id_for_login(login=login) if well_formed else None
        if user_id is not None:
            return f"user:{user_id}"
        # Hashed: the key stays short and cache-safe whatever the login holds.
        return "login:" + hashlib.sha256(login.strip().casefold().encode()).hexdigest()
