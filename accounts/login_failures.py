"""Failed passwords per login, from one address and from every address: the brake the web
sign-in (accounts.adapters) and the token endpoint (api.throttling) share, after OWASP's
Authentication Cheat Sheet ("Protect against automated attacks") and ASVS 5.0 V6.3.1 (controls
against credential stuffing and password brute force, without letting an attacker lock the owner
out):

- from one address (`here`): the main brake;
- from every address (`everywhere`): past it the login is under attack, and an address that has
  already failed for it in its current window waits for the window's end; an address that has
  not may still try, so the owner on a new address always gets in, whatever an attacker did
  elsewhere.

A login is counted as typed (stripped, NFKC, casefolded), never as the account it names: no
database is asked, an account's username and email are counted apart, and a refusal for one says
nothing about which other login shares its account. Only failures count: the owner's correct
passwords never spend the allowance.

Exact under concurrency (200 attempts at once stay within the limit, give or take one): an
attempt reserves its place before the password is checked (`LoginFailures.reserve`: an atomic
increment, refused and given back past the limit), and gives it back once the password is found
right (`release`), so only failures stay counted. Checking first and counting the failure after
would let every attempt in flight pass the same check.

Rates are "<count>/<period>" with an optional multiplier ("10/15min"). Counters live in the
default cache, so every process counts together: atomic increments (Redis INCR) in fixed windows
(`WindowCounter`, each key's window offset by its hash, so they do not all reset at once), which
the API's request throttles count with too. Each caller names its own scopes, so the two doors
count apart.
"""

import contextlib
import hashlib
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

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


def login_typed(data: Any) -> str | None:
    """The login a request or its credentials name (its `username`, else its `email`), stripped,
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
class WindowCounter:
    """The count of one key in the fixed window that holds `now`: incremented and decremented
    atomically in the default cache (Redis INCR, or a lock in local memory)."""

    key: str
    limit: int
    ends_at: float

    @classmethod
    def at(cls, *, scope: str, ident: str, rate: tuple[int, int], now: float) -> "WindowCounter":
        """`ident` must be hex (a digest): it also offsets the window."""
        limit, duration = rate
        offset = int(ident[:8], 16) % duration
        window = int((now + offset) // duration)
        return cls(
            key=f"throttle_{scope}_{ident}_{window}",
            limit=limit,
            ends_at=(window + 1) * duration - offset,
        )

    def hit(self, now: float) -> int:
        """Count one more; the count it makes."""
        timeout = math.ceil(self.ends_at - now) + 1
        if cache.add(self.key, 1, timeout=timeout):
            return 1
        try:
            return cache.incr(self.key)
        except ValueError:  # expired between the two calls
            cache.add(self.key, 1, timeout=timeout)
            return 1

    def give_back(self) -> None:
        """Count one less (nothing once the window is gone)."""
        with contextlib.suppress(ValueError):
            cache.decr(self.key)


@dataclass(frozen=True)
class FailureLimit:
    """Where one brake counts (its scope in the cache keys) and its rate (None: no limit)."""

    scope: str
    rate: tuple[int, int] | None


@dataclass(frozen=True)
class LoginFailures:
    """The failure counters of one login: from this address (`here`), from every address
    (`everywhere`, when that brake is on)."""

    here: WindowCounter
    here_limited: bool
    everywhere: WindowCounter | None

    @classmethod
    def of(
        cls,
        *,
        login: str | None,
        address: str,
        here: FailureLimit,
        everywhere: FailureLimit,
        now: float,
    ) -> "LoginFailures | None":
        """The counters of `login` (as login_typed gives it) from `address` (the client's
        network, config.client_address.client_network); None when nothing is counted."""
        if login is None or (here.rate is None and everywhere.rate is None):
            return None
        login_ident = digest(login)
        here_counter = WindowCounter.at(
            scope=here.scope,
            ident=digest(login_ident, address),
            # With no per-address limit, its window still tells who failed lately.
            rate=here.rate or everywhere.rate,
            now=now,
        )
        everywhere_counter = None
        if everywhere.rate is not None:
            everywhere_counter = WindowCounter.at(
                scope=everywhere.scope, ident=login_ident, rate=everywhere.rate, now=now
            )
        return cls(
            here=here_counter, here_limited=here.rate is not None, everywhere=everywhere_counter
        )

    def counters(self) -> list[WindowCounter]:
        return [self.here, *([self.everywhere] if self.everywhere else [])]

    def reserve(self, now: float) -> float | None:
        """Reserve this attempt's place before its password is checked: None when it may go on
        (then `release` it if the password is right; a wrong one stays counted), or when this
        address may try this login again (nothing stays reserved)."""
        here = self.here.hit(now)
        if self.here_limited and here > self.here.limit:
            self.here.give_back()
            return self.here.ends_at
        everywhere = self.everywhere
        # Under attack from everywhere: an address with failures (or attempts) of its own in the
        # window waits; a new one may still try.
        if everywhere is not None and everywhere.hit(now) > everywhere.limit and here > 1:
            self.release()
            return min(self.here.ends_at, everywhere.ends_at)
        return None

    def release(self) -> None:
        """Give a reserved attempt's place back: its password was right, or never checked."""
        for counter in self.counters():
            counter.give_back()
