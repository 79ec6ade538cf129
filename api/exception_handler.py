"""The one handler that answers every API error in one JSON shape (DRF's EXCEPTION_HANDLER):

    {"error": {"code": "<stable code>", "message": "<for people>", ...details}}

Details: `fields` (validation errors by field, each `{"code", "message"}`) and `retry_after`
(seconds, with 429). A 401 always carries a `WWW-Authenticate` challenge; a refused token's names
`error="invalid_token"` and the reason (RFC 6750 section 3.1).
"""

import math
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from api.exceptions import (
    API_CHALLENGE,
    DpopProofError,
    InvalidTokenError,
    RequestTooLargeError,
)
from api.token_errors import RejectedTokenError


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every error in the API's shape; None for a bug (a real 500)."""
    exc = api_exception(exc)
    if not isinstance(exc, exceptions.APIException):
        return None
    headers = {}
    if isinstance(exc, DpopProofError):
        headers.update(exc.headers)
    if isinstance(exc, InvalidTokenError | DpopProofError):
        if exc.status_code == status.HTTP_401_UNAUTHORIZED:
            headers["WWW-Authenticate"] = exc.challenge
    elif exc.status_code == status.HTTP_401_UNAUTHORIZED:
        headers["WWW-Authenticate"] = getattr(exc, "auth_header", None) or API_CHALLENGE
    body = error_body(exc)
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        headers["Retry-After"] = str(math.ceil(exc.wait))
        body["retry_after"] = math.ceil(exc.wait)
    return Response({"error": body}, status=exc.status_code, headers=headers)


def api_exception(exc: Exception) -> Exception:
    """Django's and the token layer's exceptions as the API exceptions they mean."""
    if isinstance(exc, Http404):
        # A fixed message: Django's names the model, and a missing object and somebody else's
        # must answer alike.
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLargeError()
    if isinstance(exc, RejectedTokenError):
        return InvalidTokenError(exc.rejection)
    return exc


def error_body(exc: exceptions.APIException) -> dict[str, Any]:
    if isinstance(exc, exceptions.ValidationError):
        details = exc.get_full_details()
        body: dict[str, Any] = {
            "code": "invalid_input",
            "message": "The request is not valid: see `fields`.",
        }
        body["fields"] = details if isinstance(details, dict) else {"non_field_errors": details}
        return body
    if isinstance(exc.detail, (list, dict)):
        return {"code": exc.default_code, "message": str(exc.default_detail)}
    return {"code": exc.detail.code or exc.default_code, "message": str(exc.detail)}
