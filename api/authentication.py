"""How API requests prove who they are: a bearer access token, or the site's session cookie.

The bearer check is simplejwt's `JWTStatelessUserAuthentication` with its hooks filled in:
`get_header` and `get_raw_token` read the header strictly (RFC 6750), `get_validated_token`
verifies the token (signature against a key already in memory, once per process and token:
api.backends) and checks the revocation marks (api.revocation: one MGET in the shared cache,
Redis in production). The user is
built from the token's claims: no database query. The only write, a family's last-used time,
happens at most once a minute per family (JWT_LAST_USED_RESOLUTION_SECONDS), and a database
outage skips it rather than refuse the request: the check itself needs no database.

A token bound to a key (DPoP, RFC 9449: `cnf.jkt`) is refused as a bearer token: it comes with
`Authorization: DPoP <token>` and a `DPoP` proof (api.dpop) of that key for this very request,
whose jti is remembered in the same round trip as the marks are read (api.revocation), so a
captured proof is refused the second time on every process and server. Unless DPOP_API_NONCE is
on, the API demands no server nonce (the token endpoint always does).
"""

import re
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.functional import cached_property
from rest_framework import authentication, exceptions
from rest_framework.request import Request
from rest_framework_simplejwt import settings as jwt_settings
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication
from rest_framework_simplejwt.models import TokenUser

from api import dpop, revocation, services
from api.exceptions import API_CHALLENGE, CsrfFailedError, DpopProofError, InvalidTokenError
from api.token_errors import RejectedTokenError, Rejection
from api.tokens import EMAIL_CLAIM, USERNAME_CLAIM, AccessToken, access_token_open, bound_jkt

# RFC 6750 section 2.1: credentials = "Bearer" 1*SP b64token. The scheme is case-insensitive
# (RFC 9110 section 11.1); anything else in the header is malformed. Only the scheme is matched
# ignoring case: a case-insensitive character class costs ~8 µs more over a 700-character token.
BEARER_CREDENTIALS = re.compile(rb"(?i:Bearer) +([A-Za-z0-9\-._~+/]+=*)")
# RFC 9449 section 7.1: the same, with the DPoP scheme.
DPOP_CREDENTIALS = re.compile(rb"(?i:DPoP) +([A-Za-z0-9\-._~+/]+=*)")


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
    """`Authorization: Bearer <access token>` (or `DPoP <access token>` with its proof), signed
    or encrypted. Without the header the request is simply not token-authenticated; with any
    other value of it, it is refused with a 401."""

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

    def authenticate(self, request: Request) -> tuple[BearerUser, AccessToken] | None:
        header = self.get_header(request)
        if header is None:
            return None
        if header[:5].lower() == b"dpop ":
            bound = DPOP_CREDENTIALS.fullmatch(header)
            if bound is None:
                raise InvalidTokenError(Rejection.HEADER_MALFORMED)
            token = self.dpop_validated_token(request, bound.group(1))
        else:
            token = self.get_validated_token(self.get_raw_token(header))
        return self.get_user(token), token

    def get_raw_token(self, header: bytes) -> bytes:
        try:
            return bearer_token(header)
        except RejectedTokenError as error:
            raise InvalidTokenError(error.rejection) from None

    def get_validated_token(self, raw_token: bytes) -> AccessToken:
        """A bearer token: verified, not bound to a key, not revoked."""
        try:
            token = access_token_open(raw_token)
            if bound_jkt(token.payload):
                raise RejectedTokenError(Rejection.DPOP_BOUND)
            self._marks_check(token)
        except RejectedTokenError as error:
            raise InvalidTokenError(error.rejection) from None
        return token

    def dpop_validated_token(self, request: Request, raw_token: bytes) -> AccessToken:
        """A DPoP-bound token: verified, sent with a fresh proof of its key for this request
        (RFC 9449 section 7), neither the token revoked nor the proof seen before."""
        try:
            token = access_token_open(raw_token)
            jkt = bound_jkt(token.payload)
            if not jkt:
                raise RejectedTokenError(Rejection.DPOP_NOT_BOUND)
            proof = dpop.proof_verify(
                dpop.proof_of(request),
                method=request.method,
                url=dpop.request_url(request),
                access_token=raw_token.decode("ascii"),
                nonce_required=settings.DPOP_API_NONCE,
            )
            if proof.jkt != jkt:
                raise dpop.DpopError(
                    dpop.DpopErrorCode.INVALID_PROOF,
                    "The DPoP proof is signed by another key than the token is bound to.",
                )
            self._marks_check(token, proof=proof)
        except RejectedTokenError as error:
            raise InvalidTokenError(error.rejection, scheme="DPoP") from None
        except dpop.DpopError as error:
            raise DpopProofError(error) from None
        # DRF makes the authenticators for each request: this one says how this request proved.
        self.authenticated_by = "dpop"
        return token

    def _marks_check(self, token: AccessToken, proof: dpop.Proof | None = None) -> None:
        """The revocation marks (and a proof's first use), one round trip; the family's
        last-used time written when due."""
        if not self.check_revocation:
            return
        check = revocation.access_token_check(
            claims=token.payload,
            proof_id=dpop.proof_id(proof) if proof is not None else None,
            proof_seconds=dpop.proof_memory_seconds() if proof is not None else 0,
        )
        if check.rejection is not None:
            raise RejectedTokenError(check.rejection)
        if not check.proof_first_use:
            raise dpop.DpopError(
                dpop.DpopErrorCode.INVALID_PROOF, "The DPoP proof was used before."
            )
        if check.record_use:
            services.token_family_use_record(family_id=token.family_id)

    def authenticate_header(self, request: Request) -> str:
        return API_CHALLENGE


class SessionAuthentication(authentication.SessionAuthentication):
    """The site's session cookie, with CSRF enforced on unsafe methods as DRF does, reported
    with its own error code so a client can tell a CSRF failure from a missing permission."""

    authenticated_by = "session"

    def enforce_csrf(self, request: Request) -> None:
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied:
            raise CsrfFailedError() from None
