"""Authorization codes and access tokens: single-use, short-lived codes bound to their request."""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from emulators import pkce


@dataclass(frozen=True)
class Grant:
    """What a user approved at an authorization endpoint; a code and its tokens stand for it."""

    provider: str
    client_id: str
    redirect_uri: str
    identity: str
    scope: tuple[str, ...]
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    nonce: str | None = None


@dataclass
class AccessToken:
    value: str
    grant: Grant
    expires_at: float | None
    revoked: bool = False


class Rejection(StrEnum):
    """Why a code was not exchanged; each provider words these in its own error format."""

    UNKNOWN = "unknown"
    EXPIRED = "expired"
    REPLAYED = "replayed"
    OTHER_CLIENT = "other_client"
    REDIRECT_URI_MISMATCH = "redirect_uri_mismatch"
    MISSING_VERIFIER = "missing_verifier"
    WRONG_VERIFIER = "wrong_verifier"
    UNEXPECTED_VERIFIER = "unexpected_verifier"

    @property
    def description(self) -> str:
        return _REJECTION_DESCRIPTIONS[self]


# Google's own wording for the PKCE cases; plain statements of fact for the rest.
_REJECTION_DESCRIPTIONS = {
    Rejection.UNKNOWN: "The authorization code is not one this server issued.",
    Rejection.EXPIRED: "The authorization code has expired.",
    Rejection.REPLAYED: (
        "The authorization code was already used; the tokens issued for it are now revoked."
    ),
    Rejection.OTHER_CLIENT: "The authorization code was issued to another client.",
    Rejection.REDIRECT_URI_MISMATCH: (
        "redirect_uri differs from the one sent to the authorization endpoint."
    ),
    Rejection.MISSING_VERIFIER: "Missing code verifier.",
    Rejection.WRONG_VERIFIER: "Invalid code verifier.",
    Rejection.UNEXPECTED_VERIFIER: "code_verifier or verifier is not needed.",
}


class CodeRejectedError(Exception):
    def __init__(self, reason: Rejection) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass
class _Code:
    grant: Grant
    expires_at: float
    redeemed: bool = False
    tokens: list[AccessToken] = field(default_factory=list)


class Store:
    """Thread-safe storage for codes and tokens, reading time from `clock`."""

    def __init__(self, *, clock: Callable[[], float], code_lifetime_seconds: float) -> None:
        self._clock = clock
        self._code_lifetime = code_lifetime_seconds
        self._codes: dict[str, _Code] = {}
        self._tokens: dict[tuple[str, str], AccessToken] = {}
        self._lock = threading.Lock()

    def add_code(self, code: str, grant: Grant) -> None:
        """Remember `code` for `grant`, valid for the code lifetime from now."""
        with self._lock:
            now = self._clock()
            # Expired codes can only ever be rejected; forgetting them bounds memory.
            for stale in [value for value, entry in self._codes.items() if entry.expires_at <= now]:
                del self._codes[stale]
            self._codes[code] = _Code(grant, now + self._code_lifetime)

    def redeem_code(
        self,
        code: str,
        *,
        provider: str,
        client_id: str,
        redirect_uri: str | None,
        code_verifier: str | None,
    ) -> Grant:
        """Use `code` up and return its grant, or raise CodeRejectedError.

        The code must be unexpired, unused, issued to this client for this redirect URI, and
        come with the PKCE verifier for its challenge. Presenting a used code again revokes
        every token issued from it (RFC 6749 §4.1.2).
        """
        with self._lock:
            entry = self._codes.get(code)
            if entry is None or entry.grant.provider != provider:
                raise CodeRejectedError(Rejection.UNKNOWN)
            grant = entry.grant
            if self._clock() >= entry.expires_at:
                raise CodeRejectedError(Rejection.EXPIRED)
            if entry.redeemed:
                for token in entry.tokens:
                    token.revoked = True
                raise CodeRejectedError(Rejection.REPLAYED)
            if grant.client_id != client_id:
                raise CodeRejectedError(Rejection.OTHER_CLIENT)
            if grant.redirect_uri != redirect_uri:
                raise CodeRejectedError(Rejection.REDIRECT_URI_MISMATCH)
            _check_verifier(grant, code_verifier)
            entry.redeemed = True
            return grant

    def add_token(
        self, value: str, *, code: str, grant: Grant, lifetime_seconds: float | None
    ) -> AccessToken:
        """Remember an access token issued for `code`, so replaying the code revokes it."""
        with self._lock:
            expires_at = None if lifetime_seconds is None else self._clock() + lifetime_seconds
            token = AccessToken(value, grant, expires_at)
            self._tokens[(grant.provider, value)] = token
            if code in self._codes:
                self._codes[code].tokens.append(token)
            return token

    def find_token(self, provider: str, value: str) -> AccessToken | None:
        """The live token `value` of `provider`; None when unknown, revoked or expired."""
        with self._lock:
            token = self._tokens.get((provider, value))
            if token is None or token.revoked:
                return None
            if token.expires_at is not None and self._clock() >= token.expires_at:
                return None
            return token


def _check_verifier(grant: Grant, verifier: str | None) -> None:
    if grant.code_challenge is None:
        if verifier is not None:
            raise CodeRejectedError(Rejection.UNEXPECTED_VERIFIER)
        return
    if not verifier:
        raise CodeRejectedError(Rejection.MISSING_VERIFIER)
    if not pkce.verifier_matches(verifier, grant.code_challenge):
        raise CodeRejectedError(Rejection.WRONG_VERIFIER)
