"""Why a token is refused: one exception carrying a stable reason code per cause.

The codes are part of the API's contract (README, "Error codes"): clients branch on them, and the
same code is the JSON error's `code`, the verify endpoint's answer and the `error_description`
source of the `WWW-Authenticate` challenge (RFC 6750 section 3.1).
"""

from enum import StrEnum

from rest_framework_simplejwt.exceptions import TokenBackendError, TokenError


class Rejection(StrEnum):
    """A reason for refusing a token; its `message` is plain ASCII with no quotes or backslashes."""

    HEADER_MALFORMED = "authorization_header_malformed"
    MALFORMED = "token_malformed"
    TOO_LONG = "token_too_long"
    ALGORITHM_NOT_ALLOWED = "token_algorithm_not_allowed"
    HEADER_NOT_ALLOWED = "token_header_not_allowed"
    KEY_UNKNOWN = "token_key_unknown"
    SIGNATURE_INVALID = "token_signature_invalid"
    DECRYPTION_FAILED = "token_decryption_failed"
    EXPIRED = "token_expired"
    NOT_YET_VALID = "token_not_yet_valid"
    ISSUER_INVALID = "token_issuer_invalid"
    AUDIENCE_INVALID = "token_audience_invalid"
    CLAIMS_INVALID = "token_claims_invalid"
    TYPE_INVALID = "token_type_invalid"
    REVOKED = "token_revoked"
    EVICTED = "token_evicted"
    REFRESH_REUSED = "refresh_token_reused"
    REFRESH_SPENT = "refresh_token_spent"
    USER_INACTIVE = "user_inactive"
    CLIENT_MISMATCH = "token_client_mismatch"
    DPOP_KEY_MISMATCH = "token_dpop_key_mismatch"
    DPOP_BOUND = "token_dpop_bound"
    DPOP_NOT_BOUND = "token_not_dpop_bound"

    @property
    def message(self) -> str:
        return MESSAGES[self]


MESSAGES = {
    Rejection.HEADER_MALFORMED: (
        "The Authorization header must be the Bearer or DPoP scheme followed by one token."
    ),
    Rejection.MALFORMED: "The token is not a well-formed JWT.",
    Rejection.TOO_LONG: "The token is longer than any token this API issues.",
    Rejection.ALGORITHM_NOT_ALLOWED: ("The token is not signed with the algorithm this API uses."),
    Rejection.HEADER_NOT_ALLOWED: (
        "The token header names a key source (jku, x5u, jwk, x5c) that this API never follows."
    ),
    Rejection.KEY_UNKNOWN: "The token was not signed by a key this API publishes.",
    Rejection.SIGNATURE_INVALID: "The token signature does not verify.",
    Rejection.DECRYPTION_FAILED: "The encrypted token cannot be decrypted.",
    Rejection.EXPIRED: "The token has expired.",
    Rejection.NOT_YET_VALID: "The token is not valid yet.",
    Rejection.ISSUER_INVALID: "The token was issued by someone else.",
    Rejection.AUDIENCE_INVALID: "The token is meant for another audience.",
    Rejection.CLAIMS_INVALID: ("The token lacks a required claim or has one of the wrong type."),
    Rejection.TYPE_INVALID: "This kind of token cannot be used here.",
    Rejection.REVOKED: "The token has been revoked.",
    Rejection.EVICTED: (
        "The token was revoked to make room for a newer sign-in: too many live tokens."
    ),
    Rejection.REFRESH_REUSED: (
        "This refresh token was already used, so every token of its family is now revoked."
    ),
    Rejection.REFRESH_SPENT: "This refresh token was already exchanged for a newer one.",
    Rejection.USER_INACTIVE: "The account is inactive.",
    Rejection.CLIENT_MISMATCH: "The token was issued to another client.",
    Rejection.DPOP_KEY_MISMATCH: (
        "The token is bound to a DPoP key: only a proof signed by that key may use it."
    ),
    Rejection.DPOP_BOUND: (
        "The token is bound to a DPoP key: send it with the DPoP scheme and a proof."
    ),
    Rejection.DPOP_NOT_BOUND: "The token is not bound to a key: send it with the Bearer scheme.",
}


class RejectedTokenError(TokenError, TokenBackendError):
    """A token the API will not accept, and why.

    It is both of simplejwt's error types, so simplejwt code that catches either still does, and
    ours can read `rejection` instead of parsing a translated message.
    """

    def __init__(self, rejection: Rejection) -> None:
        self.rejection = rejection
        super().__init__(rejection.message)
