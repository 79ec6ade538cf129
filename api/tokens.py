"""The API's tokens: simplejwt's access and refresh tokens, signed by api.backends, in families.

Claims: `iss`, `aud`, `exp`, `iat`, `jti`, `token_type`, `sub` (the user id, as a string: the
registered claim every JOSE library understands, and PyJWT 2.10+ requires it to be a string) and
`fid`, the family id shared by every token issued from one sign-in, across refresh rotations,
and the holder's `preferred_username` and `email` as of issue (OpenID Connect's claim names), so
that /api/me/ answers from the token alone, without the database; `client_id` on tokens issued
to an OAuth client (api.oauth). Anyone holding a signed token
can read them; its encrypted form (api.encryption) hides them.
Lifetimes are read from simplejwt's settings when a token is made, not when this module loads.
"""

import re
from typing import Any

from rest_framework_simplejwt import settings as jwt_settings
from rest_framework_simplejwt import tokens as simplejwt_tokens
from rest_framework_simplejwt.exceptions import TokenError

from api.backends import FAMILY_CLAIM, KeyStoreTokenBackend, token_backend, token_text
from api.encryption import is_encrypted, token_decrypt
from api.token_errors import RejectedTokenError, Rejection

FAMILY_ID = re.compile(r"[0-9a-f]{32}")
USERNAME_CLAIM = "preferred_username"
EMAIL_CLAIM = "email"
# The OAuth client a token was issued to (RFC 9068 section 2.2), on tokens from api.oauth only.
CLIENT_CLAIM = "client_id"
# RFC 9449 section 6.1: a DPoP-bound token's key, as {"jkt": <RFC 7638 thumbprint>}.
CONFIRMATION_CLAIM = "cnf"


def bound_jkt(payload: dict[str, Any]) -> str:
    """The thumbprint of the key a token is bound to, or "" for a bearer token."""
    confirmation = payload.get(CONFIRMATION_CLAIM)
    jkt = confirmation.get("jkt") if isinstance(confirmation, dict) else None
    return jkt if isinstance(jkt, str) else ""


class ApiTokenMixin:
    """What every token class here shares: the backend, typed refusals, the family claim."""

    accepted_types: tuple[str, ...] = ()
    payload: dict[str, Any]
    # True when the token arrived encrypted (a nested JWT, see api.encryption).
    encrypted = False

    def __init__(self, token: Any = None, verify: bool = True) -> None:
        try:
            super().__init__(token, verify)  # type: ignore[call-arg]
        except RejectedTokenError:
            raise
        except TokenError as error:
            cause = error.__cause__
            if isinstance(cause, RejectedTokenError):
                raise cause from None
            raise RejectedTokenError(Rejection.CLAIMS_INVALID) from None

    @classmethod
    def for_user(cls, user: Any) -> Any:
        token = super().for_user(user)  # type: ignore[misc]
        token[USERNAME_CLAIM] = user.get_username()
        token[EMAIL_CLAIM] = user.email
        return token

    @property
    def token_backend(self) -> KeyStoreTokenBackend:
        return token_backend

    def verify(self) -> None:
        super().verify()  # type: ignore[misc]
        if not isinstance(self.payload.get(FAMILY_CLAIM), str) or not FAMILY_ID.fullmatch(
            self.payload[FAMILY_CLAIM]
        ):
            raise RejectedTokenError(Rejection.CLAIMS_INVALID)

    def verify_token_type(self) -> None:
        if self.payload.get(jwt_settings.api_settings.TOKEN_TYPE_CLAIM) not in self.accepted_types:
            raise RejectedTokenError(Rejection.TYPE_INVALID)

    @property
    def kind(self) -> str:
        """`access` or `refresh`: the verified token_type claim."""
        return self.payload[jwt_settings.api_settings.TOKEN_TYPE_CLAIM]

    @property
    def family_id(self) -> str:
        return self.payload[FAMILY_CLAIM]

    @property
    def jti(self) -> str:
        return self.payload[jwt_settings.api_settings.JTI_CLAIM]


class AccessToken(ApiTokenMixin, simplejwt_tokens.AccessToken):
    accepted_types = ("access",)

    def verify(self) -> None:
        super().verify()
        # What /api/me/ answers from; a token without them is refused, and the client refreshes.
        if not all(isinstance(self.payload.get(c), str) for c in (USERNAME_CLAIM, EMAIL_CLAIM)):
            raise RejectedTokenError(Rejection.CLAIMS_INVALID)

    @property
    def lifetime(self):
        return jwt_settings.api_settings.ACCESS_TOKEN_LIFETIME


class RefreshToken(ApiTokenMixin, simplejwt_tokens.RefreshToken):
    accepted_types = ("refresh",)
    access_token_class = AccessToken

    @property
    def lifetime(self):
        return jwt_settings.api_settings.REFRESH_TOKEN_LIFETIME

    @property
    def access_token(self) -> AccessToken:
        """The pair's access token, issued at this token's instant: simplejwt dates its `exp`
        from this token's clock reading but its `iat` from its own, a second later when the
        two straddle a second, so `exp - iat` was the lifetime minus one."""
        access = super().access_token
        access.set_iat(at_time=self.current_time)
        return access

    @classmethod
    def for_family(
        cls, *, user: Any, family_id: str, client_id: str = "", jkt: str = ""
    ) -> "RefreshToken":
        """A new refresh token of family `family_id` for `user`, issued to the OAuth client
        `client_id` if any, bound to the DPoP key whose thumbprint is `jkt` if any (its access
        tokens copy both claims)."""
        token = cls.for_user(user)
        token[FAMILY_CLAIM] = family_id
        if client_id:
            token[CLIENT_CLAIM] = client_id
        if jkt:
            token[CONFIRMATION_CLAIM] = {"jkt": jkt}
        return token


class AnyToken(ApiTokenMixin, simplejwt_tokens.UntypedToken):
    """Either kind, verified as strictly: what the verify and revoke endpoints accept."""

    accepted_types = ("access", "refresh")


def token_unwrap(raw: Any) -> tuple[str, bool]:
    """The signed token inside `raw` (decrypted if it is a JWE) and whether it was encrypted."""
    text = token_text(raw)
    if is_encrypted(text):
        return token_text(token_decrypt(token=text)), True
    return text, False


def access_token_open(raw: Any) -> AccessToken:
    """An access token, signed or encrypted, verified (signature, claims); no mark checked."""
    signed, encrypted = token_unwrap(raw)
    token = AccessToken(signed)
    token.encrypted = encrypted
    return token
