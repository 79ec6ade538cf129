"""Key material: keys of the supported algorithms, made or read from PEM, and their schedule."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, OKPKey, RSAKey
from rest_framework_simplejwt import settings as jwt_settings

# How each supported algorithm's keys are made and read: the joserfc key class and its size/curve.
KEY_TYPES: dict[str, tuple[type[Key], Any]] = {
    "RS256": (RSAKey, 2048),
    "ES256": (ECKey, "P-256"),
    "EdDSA": (OKPKey, "Ed25519"),
}


@dataclass(frozen=True)
class SigningKey:
    """One key pair (or, for a previous key given as PEM, its public half) and its schedule."""

    kid: str
    algorithm: str
    jwk: Key
    activated_at: dt.datetime
    retired_at: dt.datetime | None = None

    @property
    def can_sign(self) -> bool:
        return self.jwk.private_key is not None

    @property
    def private_key(self) -> Any:
        return self.jwk.private_key

    @property
    def public_key(self) -> Any:
        return self.jwk.public_key

    def signs_at(self, now: dt.datetime) -> bool:
        return (
            self.can_sign
            and self.activated_at <= now
            and (self.retired_at is None or now < self.retired_at)
        )

    def verifies_at(self, now: dt.datetime, *, grace: dt.timedelta) -> bool:
        return self.retired_at is None or now < self.retired_at + grace

    def public_jwk(self) -> dict[str, Any]:
        """The RFC 7517 public JWK, with the kid, algorithm and use that verifiers check."""
        return {
            **self.jwk.as_dict(private=False),
            "kid": self.kid,
            "alg": self.algorithm,
            "use": "sig",
        }


def retirement_grace() -> dt.timedelta:
    """How long a retired key keeps verifying: the longest life of a token it signed, plus the
    time other processes may keep signing with it before they re-read the folder."""
    api = jwt_settings.api_settings
    return (
        api.REFRESH_TOKEN_LIFETIME
        + dt.timedelta(seconds=api.LEEWAY or 0)
        + dt.timedelta(seconds=settings.JWT_KEYS_RELOAD_SECONDS)
    )


@dataclass(frozen=True)
class KeySet:
    """The keys one load found, for the configured algorithm only (RFC 8725 section 3.1)."""

    keys: tuple[SigningKey, ...]

    def signing_key(self, *, now: dt.datetime) -> SigningKey:
        """The most recently activated key that signs at `now`."""
        signing = [key for key in self.keys if key.signs_at(now)]
        if not signing:
            raise ImproperlyConfigured(
                "No JWT signing key is active: run `manage.py jwt_rotate_key` to make one."
            )
        return max(signing, key=lambda key: key.activated_at)

    def verifying_key(self, kid: str, *, now: dt.datetime) -> SigningKey | None:
        grace = retirement_grace()
        for key in self.keys:
            if key.kid == kid and key.verifies_at(now, grace=grace):
                return key
        return None

    def published(self, *, now: dt.datetime) -> list[SigningKey]:
        """Every key that verifies at `now`, including one scheduled to start signing later."""
        grace = retirement_grace()
        return [key for key in self.keys if key.verifies_at(now, grace=grace)]


def key_generate(*, algorithm: str) -> Key:
    """A new private key for `algorithm`."""
    key_class, size = key_type(algorithm)
    return key_class.generate_key(size, private=True)


def key_type(algorithm: str) -> tuple[type[Key], Any]:
    try:
        return KEY_TYPES[algorithm]
    except KeyError:
        raise ImproperlyConfigured(
            f"SIMPLE_JWT['ALGORITHM'] must be one of {', '.join(KEY_TYPES)}, not {algorithm!r}."
        ) from None


def key_from_pem(pem: bytes, *, algorithm: str) -> Key:
    key_class, size = key_type(algorithm)
    try:
        key = key_class.import_key(pem)
    except (JoseError, ValueError, TypeError) as error:
        raise ImproperlyConfigured(f"A JWT key is not a usable {algorithm} key: {error}") from None
    if key_class is RSAKey and key.public_key.key_size < size:
        raise ImproperlyConfigured(f"RSA signing keys must have at least {size} bits.")
    if key_class is not RSAKey and key.dict_value.get("crv") != size:
        raise ImproperlyConfigured(f"{algorithm} signing keys must use the {size} curve.")
    return key
