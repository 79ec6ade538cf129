"""How API requests prove who they are: a bearer access token, or the site's session cookie.

The bearer check is the hot path: the signature is verified against a key already in memory (once
per process and token, api.backends.VerifiedTokens), the user is built from the token's claims (no
database query), and the revocation marks come from the "revocation" cache in one `get_many` (in
production, exact copies in memory: config.nearcache). The only write, a family's last-used time,
happens at most once a minute per family (JWT_LAST_USED_RESOLUTION_SECONDS).
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
from api.exceptions import BEARER_CHALLENGE, CsrfFailedError
from api.token_errors import RejectedTokenError, Rejection
from api.tokens import AccessToken, access_token_verify

# RFC 6750 section 2.1: credentials = "Bearer" 1*SP b64token. The scheme is case-insensitive
# (RFC 9110 section 11.1); anything else in the header is malformed. Only the scheme is matched
# ignoring case: a case-insensitive character class costs ~8 µs more over a 700-character token.
BEARER_CREDENTIALS = re.compile(r"(?i:Bearer) +([A-Za-z0-9\-._~+/]+=*)", re.ASCII)


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


def bearer_token(header: str) -> str:
    """The token of an `Authorization: Bearer <token>` header; anything else is refused."""
    match = BEARER_CREDENTIALS.fullmatch(header)
    if match is None:
        raise RejectedTokenError(Rejection.HEADER_MALFORMED)
    return match.group(1)


class BearerTokenAuthentication(JWTStatelessUserAuthentication):
    """`Authorization: Bearer <access token>`, signed or encrypted. Without the header the request
    is simply not bearer-authenticated; with any other value of it, it is refused with a 401."""

    authenticated_by = "bearer"

    def authenticate(self, request: Request) -> tuple[BearerUser, AccessToken] | None:
        header = request.META.get("HTTP_AUTHORIZATION")
        if header is None:
            return None
        token, record_use = access_token_verify(bearer_token(header))
        if record_use:
            services.token_family_use_record(family_id=token.family_id)
        return self.get_user(token), token

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
