"""Rate limits of the token endpoints, after OWASP's Authentication Cheat Sheet ("Protect
against automated attacks") and ASVS 5.0 V6.3 (V6.3.1: controls against credential stuffing
and password brute force, without letting an attacker lock the owner out):

- per client address (TokenAddressThrottle, `token_address`): every token request from one
  address;
- per login and address (TokenLoginThrottle, `token_account_address`): failed passwords for one
  login from one address, the main brake;
- per login (TokenLoginThrottle, `token_account`): failed passwords for one login from every
  address. Past it the login is under attack, and an address that has already failed for it in
  its current window waits for the window's end; an address that has not may still try, so the
  owner on a new address always gets in, whatever an attacker did elsewhere.

A login is counted as typed (stripped, NFKC, casefolded), never as the account it names: the
throttle asks no database, an account's username and email are counted apart, and a 429 for
one says nothing about which other login shares its account. Only failures count
(login_failure_record, which the obtain view calls on InvalidCredentialsError): the owner's
correct passwords never spend the allowance. Every refusal is the same Throttled error, whichever
limit was reached.

Rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], read when a request is checked (so a
settings override reaches them), as "<count>/<period>" with an optional multiplier ("10/15min").
Counters live in the default cache, so every process counts together; failure counters are
atomic increments in fixed windows (each key's window offset by its hash, so they do not all
reset at once). The client address is config.client_address's (X-Forwarded-For only from
TRUSTED_PROXIES); an IPv6 client is counted by its /64, which one subscriber usually holds whole.
"""

import hashlib
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from api import clock
from config.client_address import client_network

# The longest username or email the token endpoint accepts (api.views).
MAX_LOGIN_LENGTH = 254

ADDRESS_SCOPE = "token_address"
LOGIN_ADDRESS_SCOPE = "token_account_address"
LOGIN_SCOPE = "token_account"
USER_SCOPE = "token_user"

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RATE = re.compile(r"\s*(\d+)\s*/\s*(\d*)\s*([smhd])[a-z]*\s*", re.IGNORECASE)


def rate_parse(rate: str | None) -> tuple[int, int] | None:
    """A rate as (count, seconds): DRF's "<count>/<period>", the period optionally multiplied
    ("10/15min" is 10 in 900 seconds)."""
    if rate is None:
        return None
    match = RATE.fullmatch(rate)
    if match is None:
        raise ImproperlyConfigured(f"Not a throttle rate: {rate!r} (e.g. '10/15min').")
    count, multiplier, unit = match.groups()
    return int(count), int(multiplier or 1) * PERIODS[unit.lower()]


def scope_rate(scope: str) -> tuple[int, int] | None:
    """The rate of `scope` now, or None when it is not limited."""
    return rate_parse(api_settings.DEFAULT_THROTTLE_RATES.get(scope))


class ApiRateThrottle(SimpleRateThrottle):
    """DRF's sliding-window throttle, its rate read at request time ("10/15min" allowed)."""

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def parse_rate(self, rate: str | None) -> tuple[int | None, int | None]:
        return rate_parse(rate) or (None, None)

    def get_ident(self, request: Request) -> str:
        return client_network(request)


class TokenAddressThrottle(ApiRateThrottle):
    """Every token request from one client address (OWASP ASVS 5.0 V6.3.1)."""

    scope = ADDRESS_SCOPE

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TokenUserThrottle(ApiRateThrottle):
    """Every request of one signed-in user (revoking all of one's tokens)."""

    scope = USER_SCOPE

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


def login_typed(data: Any) -> str | None:
    """The login a token request names (its `username`, else its `email`), stripped,
    NFKC-normalised and casefolded, so that spellings one account answers to count together;
    None when there is none (the request is then refused before any password is checked)."""
    if not isinstance(data, Mapping):
        return None
    raw = data["username"] if "username" in data else data.get("email")
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        return None
    login = str(raw).strip()
    return unicodedata.normalize("NFKC", login).casefold() or None


def digest(*parts: str) -> str:
    """Short and cache-safe, whatever a login holds."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class FailureCounter:
    """Failures of one key in the fixed window that holds `now`."""

    key: str
    limit: int
    ends_at: float

    @classmethod
    def at(cls, *, scope: str, ident: str, rate: tuple[int, int], now: float) -> "FailureCounter":
        limit, duration = rate
        offset = int(ident[:8], 16) % duration
        window = int((now + offset) // duration)
        return cls(
            key=f"throttle_{scope}_{ident}_{window}",
            limit=limit,
            ends_at=(window + 1) * duration - offset,
        )

    def increment(self, now: float) -> None:
        timeout = math.ceil(self.ends_at - now) + 1
        if cache.add(self.key, 1, timeout=timeout):
            return
        try:
            cache.incr(self.key)
        except ValueError:  # expired between the two calls
            cache.add(self.key, 1, timeout=timeout)


@dataclass(frozen=True)
class LoginFailures:
    """The failure counters of one login: from this address (`here`), from every address
    (`everywhere`, when that brake is on)."""

    here: FailureCounter
    here_limited: bool
    everywhere: FailureCounter | None

    @classmethod
    def of(cls, request: Request, now: float) -> "LoginFailures | None":
        login = login_typed(request.data)
        here_rate, everywhere_rate = scope_rate(LOGIN_ADDRESS_SCOPE), scope_rate(LOGIN_SCOPE)
        if login is None or (here_rate is None and everywhere_rate is None):
            return None
        login_ident = digest(login)
        here = FailureCounter.at(
            scope=LOGIN_ADDRESS_SCOPE,
            ident=digest(login_ident, client_network(request)),
            # With no per-address limit, its window still tells who failed lately.
            rate=here_rate or everywhere_rate,
            now=now,
        )
        everywhere = None
        if everywhere_rate is not None:
            everywhere = FailureCounter.at(
                scope=LOGIN_SCOPE, ident=login_ident, rate=everywhere_rate, now=now
            )
        return cls(here=here, here_limited=here_rate is not None, everywhere=everywhere)

    def counters(self) -> list[FailureCounter]:
        return [self.here, *([self.everywhere] if self.everywhere else [])]

    def refused_until(self, now: float) -> float | None:
        """When this address may try this login again, or None if it may now."""
        counts = cache.get_many([counter.key for counter in self.counters()])
        failed_here = counts.get(self.here.key, 0)
        if self.here_limited and failed_here >= self.here.limit:
            return self.here.ends_at
        everywhere = self.everywhere
        if everywhere and failed_here and counts.get(everywhere.key, 0) >= everywhere.limit:
            # Under attack: an address that failed lately waits; a new one may still try.
            return min(self.here.ends_at, everywhere.ends_at)
        return None


class TokenLoginThrottle(BaseThrottle):
    """Failed passwords for the login a request names: from its address, and from every address
    (OWASP Authentication Cheat Sheet, "Protect against automated attacks"; ASVS 5.0 V6.3.1).
    Asks no database: the login counts as typed, not as the account it names."""

    def allow_request(self, request: Request, view: Any) -> bool:
        self.now = clock.now().timestamp()
        failures = LoginFailures.of(request, self.now)
        self.until = failures.refused_until(self.now) if failures else None
        return self.until is None

    def wait(self) -> float | None:
        return None if self.until is None else max(1.0, self.until - self.now)


def login_failure_record(*, request: Request) -> None:
    """Count a wrong password (or unknown login) for the login `request` names, from its address
    and from every address; the obtain view calls this on InvalidCredentialsError."""
    now = clock.now().timestamp()
    failures = LoginFailures.of(request, now)
    if failures is not None:
        for counter in failures.counters():
            counter.increment(now)
