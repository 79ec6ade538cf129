"""How API requests prove who they are: a bearer access token, or the site's session cookie.

The bearer check is simplejwt's `JWTStatelessUserAuthentication` with its hooks filled in:
`get_header` and `get_raw_token` read the header strictly (RFC 6750), `get_validated_token`
verifies the token
(signature against a key already in memory, once per process and token: api.backends) and checks
the revocation marks (api.revocation: in production, copies in memory kept exact). The user is
built from the token's claims: no database query. The only write, a family's last-used time,
happens at most once a minute per family (JWT_LAST_USED_RESOLUTION_SECONDS), and a database
outage skips it rather than refuse the request: the check itself needs no database.

Sender-constrained tokens (DPoP) would extend `authenticate`: the same check, then the proof.
"""

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.functional import cached_property
from rest_framework import authentication, exceptions
from rest_framework.request import Request
from rest_framework_simplejwt import settings as jwt_settings
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication
from rest_framework_simplejwt.models import TokenUser

from api import services
from api.exceptions import BEARER_CHALLENGE, CsrfFailedError, InvalidTokenError
from api.token_errors import RejectedTokenError, Rejection
from api.tokens import EMAIL_CLAIM, USERNAME_CLAIM, AccessToken, access_token_verify

# RFC 6750 section 2.1: credentials = "Bearer" 1*SP b64token. The scheme is case-insensitive
# (RFC 9110 section 11.1); anything else in the header is malformed. Only the scheme is matched
# ignoring case: a case-insensitive character class costs ~8 µs more over a 700-character token.
BEARER_CREDENTIALS = re.compile(rb"(?i:Bearer) +([A-Za-z0-9\-._~+/]+=*)")


class BearerUser(TokenUser):
    """The user a verified access token names, built from its claims alone."""

    @cached_property
    def id(self) -> Any:
        return get_user_model()._meta.pk.to_python(
            self.token[jwt_settings.api_settings.USER_ID_CLAIM]
        )

    @cached_property
    def pk(self) -> Any:
        return self.id

    @cached_property
    def username(self) -> str:
        return self.token.get(USERNAME_CLAIM, "")

    @cached_property
    def email(self) -> str:
        return self.token.get(EMAIL_CLAIM, "")


def bearer_token(header: bytes) -> bytes:
    """The token of an `Authorization: Bearer <token>` header; anything else is refused."""
    match = BEARER_CREDENTIALS.fullmatch(header)
    if match is None:
        raise RejectedTokenError(Rejection.HEADER_MALFORMED)
    return match.group(1)


class BearerTokenAuthentication(JWTStatelessUserAuthentication):
    """`Authorization: Bearer <access token>`, signed or encrypted. Without the header the request
    is simply not bearer-authenticated; with any other value of it, it is refused with a 401."""

    authenticated_by = "bearer"
    # Whether a token's revocation marks are checked; off only for measuring what they cost.
    check_revocation = True

    def get_header(self, request: Request) -> bytes | None:
        """The Authorization header as bytes. WSGI decodes headers as Latin-1, so a header that
        cannot be encoded back (only ever built in process) was not sent by any client."""
        header = request.META.get("HTTP_AUTHORIZATION")
        if header is None or isinstance(header, bytes):
            return header
        try:
            return header.encode("latin-1")
        except UnicodeEncodeError:
            raise InvalidTokenError(Rejection.HEADER_MALFORMED) from None

    def get_raw_token(self, header: bytes) -> bytes:
        try:
            return bearer_token(header)
        except RejectedTokenError as error:
            raise InvalidTokenError(error.rejection) from None

    def get_validated_token(self, raw_token: bytes) -> AccessToken:
        try:
            token, record_use = access_token_verify(
                raw_token, check_revocation=self.check_revocation
            )
        except RejectedTokenError as error:
            raise InvalidTokenError(error.rejection) from None
        if record_use:
            services.token_family_use_record(family_id=token.family_id)
        return token

    def authenticate_header(self, request: Request) -> str:
        return BEARER_CHALLENGE


class SessionAuthentication(authentication.SessionAuthentication):
    """The site's session cookie, with CSRF enforced on unsafe methods as DRF does, reported
    with its own error code so a client can tell a CSRF failure from a missing permission."""

    authenticated_by = "session"

    def enforce_csrf(self, request: Request) -> None:
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied:
            raise CsrfFailedError() from None
