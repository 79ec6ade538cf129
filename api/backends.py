"""The token backend of this API's simplejwt tokens: signs with the current key, verifies strictly.

simplejwt's Token classes reach their backend through their `token_backend` property
(api.tokens overrides it) and call three methods on it: `encode`, `decode` and `get_leeway`.
This class provides those three and nothing of simplejwt's TokenBackend, whose constructor fixes
one key and whose decode follows whatever key source it was given.

Signing puts the key's kid and an explicit type in the header (RFC 8725 section 3.11). Verifying
accepts exactly one algorithm, issuer and audience (RFC 8725 sections 3.1, 3.8, 3.9), finds the key
by kid among the keys it publishes and nowhere else (section 3.10), and refuses any token naming a
key source in its header. Every refusal is a RejectedTokenError with its reason.

A token this process has verified before is not verified again from scratch (the "local" cache,
this process's memory: config.memory): a client sends the same access token for its whole
lifetime, and its signature, issuer, audience, algorithm and type cannot have changed. What can
change is checked on every use: expiry, and whether its key still verifies.
"""

import datetime as dt
from typing import Any, NamedTuple

import jwt
from django.core.cache import caches
from django.core.signals import setting_changed
from django.dispatch import receiver
from rest_framework_simplejwt import settings as jwt_settings

from api.keys.store import is_jwt_setting, key_store
from api.token_errors import RejectedTokenError, Rejection

# A nested (encrypted) access token is about 1.4 KB; nothing this API issues comes near this.
MAX_TOKEN_LENGTH = 8 * 1024
# Header parameters that point at a key: this API never follows one, so a token carrying one is
# not one of ours.
KEY_SOURCE_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c"})
# The JOSE `typ` of each token type: RFC 9068's for access tokens, our own for refresh tokens.
TYPE_HEADERS = {"access": "at+jwt", "refresh": "refresh+jwt"}
FAMILY_CLAIM = "fid"
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "jti", "sub", "token_type", FAMILY_CLAIM]

# PyJWT's errors, most specific first, and the reason each one means.
PYJWT_REJECTIONS: list[tuple[type[Exception], Rejection]] = [
    (jwt.ExpiredSignatureError, Rejection.EXPIRED),
    (jwt.ImmatureSignatureError, Rejection.NOT_YET_VALID),
    (jwt.InvalidIssuerError, Rejection.ISSUER_INVALID),
    (jwt.InvalidAudienceError, Rejection.AUDIENCE_INVALID),
    (jwt.InvalidSignatureError, Rejection.SIGNATURE_INVALID),
    (jwt.InvalidAlgorithmError, Rejection.ALGORITHM_NOT_ALLOWED),
    (jwt.DecodeError, Rejection.MALFORMED),
    (jwt.InvalidTokenError, Rejection.CLAIMS_INVALID),
]


class Verified(NamedTuple):
    """What a token decoded to; `containers`: the names of its claims that are objects or
    arrays (a bound token's `cnf`), which each caller gets a copy of."""

    header: dict[str, Any]
    claims: dict[str, Any]
    containers: tuple[str, ...] = ()

    def claims_copy(self) -> dict[str, Any]:
        """The claims, copied so that no caller can change what the next one gets."""
        claims = dict(self.claims)
        for name in self.containers:
            claims[name] = claims[name].copy()
        return claims


def verified_key(token: str) -> str:
    return f"jwt:verified:{token}"


def verified_remember(token: str, verified: Verified, *, leeway: int = 0) -> None:
    """Remember `token` in this process (the "local" cache) until it expires (give or take
    `leeway`). Callers get the claims copied one level deep (Verified.claims_copy): a claim
    holding an object or array is remembered only if that holds plain values (`cnf`'s
    {"jkt": ...} does); a token with anything deeper is verified anew on every use."""
    containers = tuple(
        name for name, value in verified.claims.items() if isinstance(value, dict | list)
    )
    for name in containers:
        value = verified.claims[name]
        if any(isinstance(each, dict | list) for each in _members(value)):
            return
    verified = verified._replace(containers=containers)
    seconds = int(verified.claims["exp"] + leeway - dt.datetime.now(tz=dt.UTC).timestamp())
    if seconds > 0:
        caches["local"].set(verified_key(token), verified, timeout=seconds)


def _members(value: dict | list) -> Any:
    return value.values() if isinstance(value, dict) else value


@receiver(setting_changed)
def verified_tokens_forget(*, setting: str, **kwargs: Any) -> None:
    """Issuer, audience, algorithm and leeway are settings: a change may refuse what passed."""
    if is_jwt_setting(setting):
        caches["local"].clear()


class KeyStoreTokenBackend:
    """Reads the algorithm, issuer, audience and leeway from simplejwt's settings at call time."""

    @property
    def algorithm(self) -> str:
        return jwt_settings.api_settings.ALGORITHM

    @property
    def issuer(self) -> str:
        return jwt_settings.api_settings.ISSUER

    @property
    def audience(self) -> str:
        return jwt_settings.api_settings.AUDIENCE

    @property
    def leeway(self) -> int:
        return jwt_settings.api_settings.LEEWAY

    def get_leeway(self) -> dt.timedelta:
        return dt.timedelta(seconds=int(self.leeway or 0))

    def encode(self, payload: dict[str, Any]) -> str:
        """Sign `payload`, with our issuer and audience, under the current signing key."""
        key = key_store().signing_key()
        headers = {"kid": key.kid, "typ": TYPE_HEADERS[payload["token_type"]]}
        claims = {**payload, "iss": self.issuer, "aud": self.audience}
        return jwt.encode(claims, key.private_key, algorithm=self.algorithm, headers=headers)

    def decode(self, token: Any, verify: bool = True) -> dict[str, Any]:
        """The verified claims of `token`. This backend always verifies, whatever `verify` says."""
        raw = token_text(token)
        verified = caches["local"].get(verified_key(raw))
        if verified is not None and self._still_valid(verified):
            return verified.claims_copy()
        try:
            header = jwt.get_unverified_header(raw)
        except jwt.PyJWTError:
            raise RejectedTokenError(Rejection.MALFORMED) from None
        if header.get("alg") != self.algorithm:
            raise RejectedTokenError(Rejection.ALGORITHM_NOT_ALLOWED)
        if KEY_SOURCE_HEADERS & header.keys():
            raise RejectedTokenError(Rejection.HEADER_NOT_ALLOWED)
        kid = header.get("kid")
        key = key_store().verifying_key(kid) if isinstance(kid, str) else None
        if key is None:
            raise RejectedTokenError(Rejection.KEY_UNKNOWN)
        try:
            claims = jwt.decode(
                raw,
                key.public_key,
                algorithms=[self.algorithm],
                issuer=self.issuer,
                audience=self.audience,
                leeway=self.leeway,
                options={"require": REQUIRED_CLAIMS, "strict_aud": True},
            )
        except jwt.PyJWTError as error:
            raise RejectedTokenError(pyjwt_rejection(error)) from None
        except (ValueError, TypeError, OverflowError):
            raise RejectedTokenError(Rejection.CLAIMS_INVALID) from None
        if header.get("typ") != TYPE_HEADERS.get(claims["token_type"]):
            raise RejectedTokenError(Rejection.TYPE_INVALID)
        verified_remember(raw, Verified(header, claims), leeway=int(self.leeway or 0))
        return dict(claims)

    def _still_valid(self, verified: Verified) -> bool:
        """Whether a token verified earlier still passes what can change: its expiry (checked as
        PyJWT does) and its key's verification window. If not, it is verified again in full, so
        the refusal says why."""
        now = dt.datetime.now(tz=dt.UTC).timestamp()
        return (
            verified.claims["exp"] > now - self.leeway
            and key_store().verifying_key(verified.header["kid"]) is not None
        )


def token_text(token: Any) -> str:
    """The token as text, refused early if it cannot be one of ours."""
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise RejectedTokenError(Rejection.MALFORMED) from None
    if not isinstance(token, str) or not token.isascii():
        raise RejectedTokenError(Rejection.MALFORMED)
    if len(token) > MAX_TOKEN_LENGTH:
        raise RejectedTokenError(Rejection.TOO_LONG)
    return token


def pyjwt_rejection(error: Exception) -> Rejection:
    for error_class, rejection in PYJWT_REJECTIONS:
        if isinstance(error, error_class):
            return rejection
    return Rejection.MALFORMED


token_backend = KeyStoreTokenBackend()
