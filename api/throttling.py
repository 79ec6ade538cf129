"""Rate limits of the token endpoints, after OWASP's Authentication Cheat Sheet ("Protect
against automated attacks") and ASVS 5.0 V6.3 (V6.3.1: controls against credential stuffing
and password brute force, without letting an attacker lock the owner out):

- per client address (TokenAddressThrottle, `token_address`): every token request from one
  address;
- per login and address (password_attempt, `token_account_address`): failed passwords for one
  login from one address, the main brake;
- per login (password_attempt, `token_account`): failed passwords for one login from every
  address. Past it the login is under attack, and an address that has already failed for it in
  its current window waits for the window's end; an address that has not may still try, so the
  owner on a new address always gets in, whatever an attacker did elsewhere.

A login is counted as typed (stripped, NFKC, casefolded), never as the account it names: the
throttle asks no database, an account's username and email are counted apart, and a 429 for
one says nothing about which other login shares its account. Only failures count
(password_attempt reserves each attempt's place and gives it back unless the password was
wrong): the owner's correct passwords never spend the allowance. Every refusal is the same
Throttled error, whichever limit was reached.

Rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], read when a request is checked (so a
settings override reaches them), as "<count>/<period>" with an optional multiplier ("10/15min").
Counters live in the default cache, so every process counts together; the failure counters are
accounts.login_failures', which the web sign-in counts with too (under scopes of its own). The
client address is config.client_address's (X-Forwarded-For only from
TRUSTED_PROXIES); an IPv6 client is counted by its /64, which one subscriber usually holds whole.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from accounts.login_failures import (
    FailureLimit,
    LoginFailures,
    WindowCounter,
    digest,
    login_typed,
    rate_parse,
)
from api import clock
from api.exceptions import InvalidCredentialsError
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


class WindowThrottle(BaseThrottle):
    """A limit per `scope` and identity, counted atomically in fixed windows
    (accounts.login_failures.WindowCounter): 200 concurrent requests stay within the limit, give
    or take one. (DRF's SimpleRateThrottle reads its history, then writes it back, so concurrent
    requests overwrite each other's counts.)"""

    scope: str

    def ident(self, request: Request) -> str | None:
        """Who is counted; None: nobody (the request is not limited)."""
        raise NotImplementedError

    def allow_request(self, request: Request, view: Any) -> bool:
        rate, ident = scope_rate(self.scope), self.ident(request)
        if rate is None or ident is None:
            self.counter = None
            return True
        self.now = clock.now().timestamp()
        self.counter = WindowCounter.at(
            scope=self.scope, ident=digest(ident), rate=rate, now=self.now
        )
        return self.counter.hit(self.now) <= self.counter.limit

    def wait(self) -> float | None:
        return None if self.counter is None else max(1.0, self.counter.ends_at - self.now)


class TokenAddressThrottle(WindowThrottle):
    """Every token request from one client address (OWASP ASVS 5.0 V6.3.1)."""

    scope = ADDRESS_SCOPE

    def ident(self, request: Request) -> str | None:
        return client_network(request)


class IntrospectionAddressThrottle(WindowThrottle):
    """Introspection from one client address: a resource server may ask about every request it
    serves, so its limit is its own (`oauth_introspect`), far above the token endpoints'."""

    scope = "oauth_introspect"

    def ident(self, request: Request) -> str | None:
        return client_network(request)


class TokenUserThrottle(WindowThrottle):
    """Every request of one signed-in user (revoking all of one's tokens)."""

    scope = USER_SCOPE

    def ident(self, request: Request) -> str | None:
        user = request.user
        return str(user.pk) if user and user.is_authenticated else None


def login_failures(request: Request, now: float) -> LoginFailures | None:
    """The failure counters of the login a token request names, from its client's network."""
    return LoginFailures.of(
        login=login_typed(request.data),
        address=client_network(request),
        here=FailureLimit(LOGIN_ADDRESS_SCOPE, scope_rate(LOGIN_ADDRESS_SCOPE)),
        everywhere=FailureLimit(LOGIN_SCOPE, scope_rate(LOGIN_SCOPE)),
        now=now,
    )


@contextmanager
def password_attempt(request: Request) -> Iterator[None]:
    """Around checking the password of the login `request` names (OWASP Authentication Cheat
    Sheet, "Protect against automated attacks"; ASVS 5.0 V6.3.1): its place among the login's
    failures is reserved first, or the request refused (Throttled, from this address or, while
    the login is under attack, from an address that failed for it lately); a wrong password
    (InvalidCredentialsError) keeps it counted, anything else gives it back."""
    now = clock.now().timestamp()
    failures = login_failures(request, now)
    until = failures.reserve(now) if failures is not None else None
    if until is not None:
        raise Throttled(wait=max(1.0, until - now))
    try:
        yield
    except InvalidCredentialsError:
        raise
    except BaseException:
        if failures is not None:
            failures.release()
        raise
    if failures is not None:
        failures.release()
