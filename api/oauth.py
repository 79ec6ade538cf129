"""The standard OAuth endpoints, for clients that speak RFC 6749 rather than this API's JSON:

- `GET /.well-known/oauth-authorization-server`: RFC 8414 metadata, naming everything below;
- `POST /oauth/device_authorization`: the device authorization request (RFC 8628 section 3.1);
- `POST /oauth/token`: the token endpoint, for the device code and refresh token grants;
- `POST /oauth/revoke`: revocation (RFC 7009);
- `POST /oauth/introspect`: introspection (RFC 7662), for registered resource servers.

Requests are form-encoded (`application/x-www-form-urlencoded`), each parameter at most once, and
an empty parameter counts as absent (RFC 6749 section 3.2). Errors are answered the RFC 6749 way,
`{"error": "...", "error_description": "..."}` (section 5.2): the one exception to the API's own
error shape. Clients are registered in api.clients. The tokens issued here are the API's own
(api.services): the same families, rotation, reuse detection, revocation and tokens page.
"""

import math
from typing import Any

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import settings as jwt_settings

from api import device, dpop, selectors, services
from api.backends import MAX_TOKEN_LENGTH
from api.clients import (
    DEVICE_CODE_GRANT,
    REFRESH_TOKEN_GRANT,
    OAuthError,
    client_authenticate,
    client_credentials,
    client_grant_check,
    client_may_introspect,
    invalid_client,
)
from api.exception_handler import api_exception
from api.services import TokenPair
from api.throttling import IntrospectionAddressThrottle, TokenAddressThrottle
from api.token_errors import RejectedTokenError, Rejection
from api.tokens import CLIENT_CLAIM, EMAIL_CLAIM, USERNAME_CLAIM
from config.client_address import client_network

# The longest value any parameter here may have (a token, a device code, a client id).
MAX_PARAMETER_LENGTH = MAX_TOKEN_LENGTH


def oauth_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every error of these endpoints as RFC 6749 section 5.2 has it; None for a bug (a 500)."""
    headers = {}
    if isinstance(exc, OAuthError):
        error, description, status = exc.error, exc.description, exc.status
        headers.update(exc.headers)
    else:
        exc = api_exception(exc)
        if not isinstance(exc, exceptions.APIException):
            return None
        status = exc.status_code
        if isinstance(exc, exceptions.Throttled):
            error, description = "rate_limited", "Too many requests from this address."
            if exc.wait is not None:
                headers["Retry-After"] = str(math.ceil(exc.wait))
        elif status >= 500:
            error, description = "temporarily_unavailable", "Try again in a moment."
        else:
            error, description, status = "invalid_request", "The request is malformed.", 400
    return Response({"error": error, "error_description": description}, status, headers=headers)


class OAuthApi(APIView):
    """Base of the OAuth endpoints: form-encoded, rate limited per address, never cached."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (TokenAddressThrottle,)
    parser_classes = (FormParser,)

    def get_exception_handler(self) -> Any:
        return oauth_exception_handler

    def finalize_response(self, request: Request, response: Response, *args, **kwargs) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        return response

    def form(self, request: Request) -> dict[str, str]:
        """The form's parameters, each once; empty ones left out (RFC 6749 section 3.2)."""
        data = request.data
        form = {}
        for name in data:
            values = data.getlist(name)
            # The client's own parameter names are never echoed (error_description allows
            # only some ASCII, and an error repeats nothing a request sent).
            if len(values) > 1:
                raise OAuthError("invalid_request", "A parameter is repeated.")
            if len(values[0]) > MAX_PARAMETER_LENGTH:
                raise OAuthError("invalid_request", "A parameter is too long.")
            if values[0]:
                form[name] = values[0]
        return form


def required(form: dict[str, str], name: str) -> str:
    if name not in form:
        raise OAuthError("invalid_request", f"The parameter {name} is missing.")
    return form[name]


def token_response(pair: TokenPair) -> dict[str, Any]:
    """RFC 6749 section 5.1; `token_type` "DPoP" for a key-bound access token (RFC 9449)."""
    return {
        "access_token": pair.access,
        "token_type": pair.token_type,
        "expires_in": pair.expires_in,
        "refresh_token": pair.refresh,
    }


class OAuthTokenApi(OAuthApi):
    """The token endpoint (RFC 6749 section 3.2) for the device code grant (RFC 8628 section
    3.4) and the refresh token grant (section 6). A refresh token issued to a client is refreshed
    by that client only; the others need none (their families belong to no client)."""

    @extend_schema(exclude=True)
    def post(self, request: Request) -> Response:
        form = self.form(request)
        grant_type = required(form, "grant_type")
        credentials = client_credentials(request, form)
        client = (
            client_authenticate(credentials, network=client_network(request))
            if credentials is not None
            else None
        )
        proof = dpop_proof(request)
        jkt = proof.jkt if proof is not None else ""
        if grant_type == DEVICE_CODE_GRANT:
            if client is None:
                raise OAuthError("invalid_request", "The parameter client_id is missing.")
            client_grant_check(client, grant_type)
            pair = device.device_code_exchange(
                client=client, device_code=required(form, "device_code"), jkt=jkt
            )
        elif grant_type == REFRESH_TOKEN_GRANT:
            if client is not None:
                client_grant_check(client, grant_type)
            try:
                pair = services.token_pair_refresh(
                    refresh=required(form, "refresh_token"),
                    client_id=client.pk if client is not None else "",
                    jkt=jkt,
                )
            except RejectedTokenError as error:
                raise OAuthError("invalid_grant", error.rejection.message) from None
        else:
            raise OAuthError(
                "unsupported_grant_type",
                "This server issues tokens for the device code and refresh token grants.",
            )
        headers = {"DPoP-Nonce": dpop.nonce_issue()} if proof is not None else None
        return Response(token_response(pair), headers=headers)


def dpop_proof(request: Request) -> dpop.Proof | None:
    """The token request's DPoP proof (api.dpop), or None; a bad one is an RFC 9449 error, and
    `use_dpop_nonce` comes with the nonce to use."""
    try:
        return dpop.token_request_proof(request)
    except dpop.DpopError as error:
        headers = {}
        if error.code == dpop.DpopErrorCode.USE_NONCE:
            headers["DPoP-Nonce"] = dpop.nonce_issue()
        raise OAuthError(error.code.value, error.description, headers=headers) from None


class DeviceAuthorizationApi(OAuthApi):
    """RFC 8628 section 3.1: a public or confidential client registered for the device grant
    gets a device code, a user code and the page where a person approves it."""

    @extend_schema(exclude=True)
    def post(self, request: Request) -> Response:
        form = self.form(request)
        credentials = client_credentials(request, form)
        if credentials is None:
            raise OAuthError("invalid_request", "The parameter client_id is missing.")
        client = client_authenticate(credentials, network=client_network(request))
        client_grant_check(client, DEVICE_CODE_GRANT)
        requested = form.get("scope", "").split()
        if not set(requested) <= set(client.get_scopes()):
            raise OAuthError("invalid_scope", "This client may not ask for that scope.")
        started = device.device_authorization_start(
            client=client, verification_uri=request.build_absolute_uri(reverse("device"))
        )
        return Response(
            {
                "device_code": started.device_code,
                "user_code": started.user_code,
                "verification_uri": started.verification_uri,
                "verification_uri_complete": started.verification_uri_complete,
                "expires_in": started.expires_in,
                "interval": started.interval,
            }
        )


class OAuthRevocationApi(OAuthApi):
    """RFC 7009: the client names itself (and authenticates, if confidential). A token issued to
    another client is refused; any other token is revoked (a refresh token with its whole
    family), and the answer is 200 whether or not the token was valid."""

    @extend_schema(exclude=True)
    def post(self, request: Request) -> Response:
        form = self.form(request)
        credentials = client_credentials(request, form)
        if credentials is None:
            raise invalid_client("Name the client: send client_id.")
        client = client_authenticate(credentials, network=client_network(request))
        try:
            services.token_revoke(token=required(form, "token"), client_id=client.pk)
        except RejectedTokenError:
            raise OAuthError("unauthorized_client", Rejection.CLIENT_MISMATCH.message) from None
        return Response({})


class IntrospectionApi(OAuthApi):
    """RFC 7662: is this token active now? Revocation shows at once: the same checks as the API
    makes. Only a registered resource server may ask (api.clients)."""

    throttle_classes = (IntrospectionAddressThrottle,)

    @extend_schema(exclude=True)
    def post(self, request: Request) -> Response:
        form = self.form(request)
        credentials = client_credentials(request, form)
        if credentials is None or credentials.secret is None:
            raise invalid_client("Introspection needs a confidential client's credentials.")
        client = client_authenticate(credentials, network=client_network(request))
        if not client_may_introspect(client):
            raise OAuthError("unauthorized_client", "This client may not introspect tokens.")
        verdict = selectors.token_verdict(token=required(form, "token"))
        if not verdict.valid or verdict.claims is None:
            return Response({"active": False})
        claims = verdict.claims
        # RFC 7662's token_type is the scheme an access token is sent with; a refresh token is
        # sent with none, so it is named by its hint's value instead.
        kind = "Bearer" if verdict.token_type == "access" else "refresh_token"  # noqa: S105
        answer = {
            "active": True,
            "token_type": kind,
            "sub": claims["sub"],
            "username": claims.get(USERNAME_CLAIM),
            "email": claims.get(EMAIL_CLAIM),
            "exp": claims["exp"],
            "iat": claims["iat"],
            "iss": claims["iss"],
            "aud": claims["aud"],
            "jti": claims["jti"],
        }
        if CLIENT_CLAIM in claims:
            answer["client_id"] = claims[CLIENT_CLAIM]
        return Response({k: v for k, v in answer.items() if v is not None})


class AuthorizationServerMetadataApi(APIView):
    """RFC 8414: where a client pointed at this site's URL finds every endpoint it needs."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        def url(name: str) -> str:
            return request.build_absolute_uri(reverse(name))

        auth_methods = ["none", "client_secret_basic", "client_secret_post"]
        response = Response(
            {
                "issuer": jwt_settings.api_settings.ISSUER,
                "token_endpoint": url("oauth-token"),
                "device_authorization_endpoint": url("oauth-device-authorization"),
                "revocation_endpoint": url("oauth-revoke"),
                "introspection_endpoint": url("oauth-introspect"),
                "jwks_uri": url("jwks"),
                "grant_types_supported": [DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT],
                "dpop_signing_alg_values_supported": list(dpop.DPOP_ALGORITHMS),
                "response_types_supported": [],
                "token_endpoint_auth_methods_supported": auth_methods,
                "revocation_endpoint_auth_methods_supported": auth_methods,
                "introspection_endpoint_auth_methods_supported": auth_methods[1:],
                "service_documentation": url("api-docs"),
            }
        )
        response["Cache-Control"] = f"public, max-age={settings.JWKS_MAX_AGE}"
        return response
