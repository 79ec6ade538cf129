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
Counters live in the default cache, so every process counts together; the failure counters are
accounts.login_failures', which the web sign-in counts with too (under scopes of its own). The
client address is config.client_address's (X-Forwarded-For only from
TRUSTED_PROXIES); an IPv6 client is counted by its /64, which one subscriber usually holds whole.
"""

from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from accounts.login_failures import FailureLimit, LoginFailures, login_typed, rate_parse
from api import clock
from config.client_address import client_network

# The longest username or email the token endpoint accepts (api.views).
MAX_LOGIN_LENGTH = 254

ADDRESS_SCOPE = "token_address"
LOGIN_ADDRESS_SCOPE = "token_account_address"
LOGIN_SCOPE = "token_account"
USER_SCOPE = "token_user"


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


def login_failures(request: Request, now: float) -> LoginFailures | None:
    """The failure counters of the login a token request names, from its client's network."""
    return LoginFailures.of(
        login=login_typed(request.data),
        address=client_network(request),
        here=FailureLimit(LOGIN_ADDRESS_SCOPE, scope_rate(LOGIN_ADDRESS_SCOPE)),
        everywhere=FailureLimit(LOGIN_SCOPE, scope_rate(LOGIN_SCOPE)),
        now=now,
    )


class TokenLoginThrottle(BaseThrottle):
    """Failed passwords for the login a request names: from its address, and from every address
    (OWASP Authentication Cheat Sheet, "Protect against automated attacks"; ASVS 5.0 V6.3.1).
    Asks no database: the login counts as typed, not as the account it names."""

    def allow_request(self, request: Request, view: Any) -> bool:
        self.now = clock.now().timestamp()
        failures = login_failures(request, self.now)
        self.until = failures.refused_until(self.now) if failures else None
        return self.until is None

    def wait(self) -> float | None:
        return None if self.until is None else max(1.0, self.until - self.now)


def login_failure_record(*, request: Request) -> None:
    """Count a wrong password (or unknown login) for the login `request` names, from its address
    and from every address; the obtain view calls this on InvalidCredentialsError."""
    now = clock.now().timestamp()
    failures = login_failures(request, now)
    if failures is not None:
        failures.record(now)
