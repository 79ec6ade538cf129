"""The API's own errors: each a status, a stable code and a message (api.exception_handler
answers them, and every other error, in the API's one JSON shape)."""

from rest_framework import exceptions, status

from api.dpop import DPOP_ALGORITHMS, DpopError, DpopErrorCode, nonce_issue
from api.token_errors import Rejection

REALM = "api"
BEARER_CHALLENGE = f'Bearer realm="{REALM}"'
# RFC 9449 section 7.1: the API takes DPoP-bound tokens too, with proofs signed with these.
DPOP_CHALLENGE = f'DPoP algs="{" ".join(DPOP_ALGORITHMS)}"'
# What a request without credentials is told: either scheme.
API_CHALLENGE = f"{BEARER_CHALLENGE}, {DPOP_CHALLENGE}"


class ApiError(exceptions.APIException):
    """Base of the API's own errors: each sets a status, a stable code and a message."""


class InvalidCredentialsError(ApiError):
    """Unknown account, wrong password or inactive account: one answer for all three."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "invalid_credentials"
    default_detail = "No active account matches these credentials."


class EmailNotVerifiedError(ApiError):
    """Right password, but the account's email address still awaits confirmation."""

    status_code = status.HTTP_403_FORBIDDEN
    default_code = "email_not_verified"
    default_detail = "Confirm your email address before asking for API tokens."


class SecondFactorRequiredError(ApiError):
    """Right password, but the account has a second factor, which a password grant would skip."""

    status_code = status.HTTP_403_FORBIDDEN
    default_code = "second_factor_required"
    default_detail = (
        "This account signs in with a second factor: sign in on the site and create API tokens "
        "at /accounts/tokens/."
    )


class RequestTooLargeError(ApiError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = "The request body is larger than this API accepts."


class CsrfFailedError(exceptions.PermissionDenied):
    """A session-authenticated unsafe request without a valid CSRF token."""

    default_code = "csrf_failed"
    default_detail = "CSRF check failed: send the X-CSRFToken header with the csrftoken cookie."


class InvalidTokenError(ApiError):
    """A refused token, with the reason as its code; the challenge of the scheme it came with
    names the error, beside the other scheme's."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "token_invalid"

    def __init__(self, rejection: Rejection, *, scheme: str = "Bearer") -> None:
        self.rejection = rejection
        self.scheme = scheme
        super().__init__(detail=rejection.message, code=rejection.value)

    @property
    def challenge(self) -> str:
        error = f'error="invalid_token", error_description="{self.rejection.message}"'
        if self.scheme == "DPoP":
            return f"{DPOP_CHALLENGE}, {error}, {BEARER_CHALLENGE}"
        return f"{BEARER_CHALLENGE}, {error}, {DPOP_CHALLENGE}"


class DpopProofError(ApiError):
    """A DPoP proof refused: `invalid_dpop_proof`, or `use_dpop_nonce` with the nonce to use in
    `DPoP-Nonce`; 401 with a challenge at the API (RFC 9449 section 7.1), 400 at a token endpoint
    (section 5)."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "invalid_dpop_proof"

    def __init__(
        self, error: DpopError, *, status_code: int = status.HTTP_401_UNAUTHORIZED
    ) -> None:
        self.error = error
        self.status_code = status_code
        super().__init__(detail=error.description, code=error.code.value)

    @property
    def challenge(self) -> str:
        return (
            f'{DPOP_CHALLENGE}, error="{self.error.code.value}", '
            f'error_description="{self.error.description}", {BEARER_CHALLENGE}'
        )

    @property
    def headers(self) -> dict[str, str]:
        if self.error.code == DpopErrorCode.USE_NONCE:
            return {"DPoP-Nonce": nonce_issue()}
        return {}
