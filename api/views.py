"""The API's endpoints: each view parses its input, calls one service or selector, answers.

Every error, whichever view or layer raised it, is answered by api.exceptions.api_exception_handler.
"""

from typing import Any

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import dpop, selectors, services
from api.backends import MAX_TOKEN_LENGTH
from api.exceptions import DpopProofError
from api.keys.jwks import jwks_document
from api.pagination import ApiPagination
from api.schema import RequestSerializer, StringField, error_responses
from api.throttling import (
    MAX_LOGIN_LENGTH,
    TokenAddressThrottle,
    TokenUserThrottle,
    password_attempt,
)


class TokenApi(APIView):
    """Base of the token endpoints: rate limited, and never stored by any cache (RFC 6749
    section 5.1). The subclasses that take a token in the body need no other credentials."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (TokenAddressThrottle,)

    def finalize_response(self, request: Request, response: Response, *args, **kwargs) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        return response


def token_request_jkt(request: Request) -> str:
    """The thumbprint of the key the request's DPoP proof proves (api.dpop), or "" without a
    proof; a bad proof is a 400 (RFC 9449 section 5), `use_dpop_nonce` with the nonce to use."""
    try:
        proof = dpop.token_request_proof(request)
    except dpop.DpopError as error:
        raise DpopProofError(error, status_code=status.HTTP_400_BAD_REQUEST) from None
    return proof.jkt if proof is not None else ""


def token_pair_response(pair: services.TokenPair, jkt: str) -> Response:
    """The pair; with a proof, a fresh server nonce for the client's next one."""
    headers = {"DPoP-Nonce": dpop.nonce_issue()} if jkt else None
    return Response(TokenPairOutputSerializer(pair).data, headers=headers)


class TokenPairOutputSerializer(serializers.Serializer):
    token_type = serializers.CharField(
        help_text="`Bearer`, or `DPoP` when the request carried a DPoP proof (RFC 9449)."
    )
    access = serializers.CharField(help_text="Send as `Authorization: <token_type> <access>`.")
    refresh = serializers.CharField(help_text="Exchange at /api/auth/token/refresh/; single use.")
    expires_in = serializers.IntegerField(help_text="Seconds until the access token expires.")
    access_expires_at = serializers.DateTimeField()
    refresh_expires_at = serializers.DateTimeField()


class TokenObtainApi(TokenApi):
    """Exchange a username or email and its password for a new token pair (a new family)."""

    throttle_classes = (TokenAddressThrottle,)

    class TokenObtainInputSerializer(RequestSerializer):
        one_of_fields = ("username", "email")
        one_of_code = "login_required"

        username = StringField(
            required=False,
            max_length=MAX_LOGIN_LENGTH,
            help_text="Username or email; or send `email`.",
        )
        email = StringField(required=False, max_length=MAX_LOGIN_LENGTH)
        password = StringField(max_length=4096, trim_whitespace=False)
        name = StringField(
            required=False,
            allow_blank=True,
            max_length=100,
            default="",
            help_text="Shown on the tokens page.",
        )

    @extend_schema(
        request=TokenObtainInputSerializer,
        responses={200: TokenPairOutputSerializer, **error_responses(401, 403, 429, body=True)},
    )
    def post(self, request: Request) -> Response:
        serializer = self.TokenObtainInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        jkt = token_request_jkt(request)
        with password_attempt(request):
            pair = services.token_pair_obtain(
                request=request,
                login=data.get("username") or data["email"],
                password=data["password"],
                name=data["name"],
                jkt=jkt,
            )
        return token_pair_response(pair, jkt)


class TokenRefreshApi(TokenApi):
    """Exchange a refresh token for a new pair; the old refresh token is spent. Presenting a
    spent one again revokes its whole family and answers `refresh_token_reused`."""

    class TokenRefreshInputSerializer(RequestSerializer):
        refresh = StringField(max_length=MAX_TOKEN_LENGTH, trim_whitespace=False)

    @extend_schema(
        request=TokenRefreshInputSerializer,
        responses={200: TokenPairOutputSerializer, **error_responses(401, 429, body=True)},
    )
    def post(self, request: Request) -> Response:
        serializer = self.TokenRefreshInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        jkt = token_request_jkt(request)
        pair = services.token_pair_refresh(refresh=serializer.validated_data["refresh"], jkt=jkt)
        return token_pair_response(pair, jkt)


class TokenVerifyApi(TokenApi):
    """Would this token (access or refresh, signed or encrypted) be accepted now? Always 200
    for a well-formed request, with `valid` and, when false, the reason's code."""

    class TokenVerifyInputSerializer(RequestSerializer):
        token = StringField(max_length=MAX_TOKEN_LENGTH, trim_whitespace=False)

    class TokenVerifyOutputSerializer(serializers.Serializer):
        valid = serializers.BooleanField()
        code = serializers.CharField(allow_null=True, help_text="Why not, when not valid.")
        message = serializers.CharField(allow_null=True)
        token_type = serializers.CharField(allow_null=True)
        expires_at = serializers.DateTimeField(allow_null=True)

    @extend_schema(
        request=TokenVerifyInputSerializer,
        responses={200: TokenVerifyOutputSerializer, **error_responses(429, body=True)},
    )
    def post(self, request: Request) -> Response:
        serializer = self.TokenVerifyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        verdict = selectors.token_verdict(token=serializer.validated_data["token"])
        rejection = verdict.rejection
        return Response(
            self.TokenVerifyOutputSerializer(
                {
                    "valid": verdict.valid,
                    "code": rejection.value if rejection else None,
                    "message": rejection.message if rejection else None,
                    "token_type": verdict.token_type,
                    "expires_at": verdict.expires_at,
                }
            ).data
        )


class TokenRevokeApi(TokenApi):
    """RFC 7009 revocation: a refresh token revokes its whole family, an access token itself.
    The answer is 200 whether or not the token was valid, so it tells nothing about it."""

    class TokenRevokeInputSerializer(RequestSerializer):
        token = StringField(max_length=MAX_TOKEN_LENGTH, trim_whitespace=False)
        token_type_hint = serializers.ChoiceField(
            choices=["access_token", "refresh_token"], required=False
        )

    @extend_schema(
        request=TokenRevokeInputSerializer,
        responses={
            200: OpenApiResponse(
                {"type": "object", "maxProperties": 0},
                description="An empty object, whether or not the token was valid.",
            ),
            **error_responses(429, body=True),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = self.TokenRevokeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.token_revoke(token=serializer.validated_data["token"])
        return Response({})


class TokenRevokeAllApi(TokenApi):
    """Revoke every refresh and access token of the caller, this request's own included."""

    authentication_classes = APIView.authentication_classes
    permission_classes = APIView.permission_classes
    throttle_classes = (TokenAddressThrottle, TokenUserThrottle)

    class TokenRevokeAllOutputSerializer(serializers.Serializer):
        revoked_families = serializers.IntegerField(help_text="Token families that were live.")

    @extend_schema(
        request=None,
        responses={200: TokenRevokeAllOutputSerializer, **error_responses(401, 403, 429)},
    )
    def post(self, request: Request) -> Response:
        revoked = services.user_tokens_revoke_all(user=request.user, actor=request.user)
        return Response(self.TokenRevokeAllOutputSerializer({"revoked_families": revoked}).data)


class MeApi(APIView):
    """Who is calling, and how they proved it: a session cookie or a bearer token.

    With a bearer token the answer comes from the token alone (its `sub`, `preferred_username`
    and `email`, as of issue), so it needs no database and keeps answering while the database is
    down; with a session, the user's row is read (a copy at most a second old, accounts.backends).

    The serializers below document the answer; it is built as a plain dict, because instantiating
    a DRF serializer (a deep copy of its fields) costs more than everything else this endpoint,
    which every client calls, does.
    """

    class MeTokenOutputSerializer(serializers.Serializer):
        jti = serializers.CharField()
        family_id = serializers.CharField()
        token_type = serializers.CharField()
        encrypted = serializers.BooleanField()
        issued_at = serializers.IntegerField()
        expires_at = serializers.IntegerField()

    class MeOutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        username = serializers.CharField()
        email = serializers.EmailField()
        authenticated_by = serializers.ChoiceField(
            choices=["session", "bearer", "dpop"],
            help_text="`dpop`: a DPoP-bound token with its proof (RFC 9449).",
        )
        token = serializers.DictField(
            allow_null=True, help_text="The access token's claims, when bearer-authenticated."
        )

    @extend_schema(responses={200: MeOutputSerializer, **error_responses(401, 403)})
    def get(self, request: Request) -> Response:
        token = request.auth
        # With a bearer token, a BearerUser: the token's claims, no database.
        user = request.user
        token_data = None
        if token is not None:
            token_data = {
                "jti": token.jti,
                "family_id": token.family_id,
                "token_type": token.kind,
                "encrypted": token.encrypted,
                "issued_at": token["iat"],
                "expires_at": token["exp"],
            }
        return Response(
            {
                "id": user.pk,
                "username": user.get_username(),
                "email": user.email,
                "authenticated_by": request.successful_authenticator.authenticated_by,
                "token": token_data,
            }
        )


class NoteOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class NoteListApi(APIView):
    """The caller's notes, newest first, a page at a time; and a new note."""

    pagination_class = ApiPagination

    class NoteCreateInputSerializer(RequestSerializer):
        closed = True

        title = StringField(max_length=200)
        body = StringField(max_length=10_000, allow_blank=True, default="")

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "page",
                {"type": "integer", "minimum": 1},
                description="Page number, from 1; past the last page: 404.",
            ),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1},
                description=(
                    f"Notes a page, {ApiPagination.page_size} unless given; "
                    f"at most {ApiPagination.max_page_size} (a larger number asks for that)."
                ),
            ),
        ],
        responses={200: NoteOutputSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        notes = selectors.notes_for_owner(owner_id=request.user.pk)
        page = paginator.paginate_queryset(notes, request, view=self)
        return paginator.get_paginated_response(NoteOutputSerializer(page, many=True).data)

    @extend_schema(
        request=NoteCreateInputSerializer,
        responses={201: NoteOutputSerializer, **error_responses(401, 403, body=True)},
    )
    def post(self, request: Request) -> Response:
        serializer = self.NoteCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = services.note_create(owner_id=request.user.pk, **serializer.validated_data)
        return Response(
            NoteOutputSerializer(note).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": reverse("api-note", kwargs={"note_id": note.pk})},
        )


class NoteDetailApi(APIView):
    """One of the caller's notes. Another person's note answers exactly as a missing one: 404."""

    class NoteUpdateInputSerializer(RequestSerializer):
        closed = True

        title = StringField(max_length=200, required=False)
        body = StringField(max_length=10_000, allow_blank=True, required=False)

    @extend_schema(responses={200: NoteOutputSerializer, **error_responses(401, 404)})
    def get(self, request: Request, note_id: int) -> Response:
        note = selectors.note_get(owner_id=request.user.pk, note_id=note_id)
        return Response(NoteOutputSerializer(note).data)

    @extend_schema(
        request=NoteUpdateInputSerializer,
        responses={200: NoteOutputSerializer, **error_responses(401, 403, 404, body=True)},
    )
    def patch(self, request: Request, note_id: int) -> Response:
        note = selectors.note_get(owner_id=request.user.pk, note_id=note_id)
        serializer = self.NoteUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = services.note_update(note=note, **serializer.validated_data)
        return Response(NoteOutputSerializer(note).data)

    @extend_schema(responses={204: None, **error_responses(401, 403, 404)})
    def delete(self, request: Request, note_id: int) -> Response:
        note = selectors.note_get(owner_id=request.user.pk, note_id=note_id)
        services.note_delete(note=note)
        return Response(status=status.HTTP_204_NO_CONTENT)


class JwksApi(APIView):
    """The public signing keys (RFC 7517 JWK Set): what any service needs to verify our tokens.
    Cacheable for JWKS_MAX_AGE; a key is published before it signs and after it retires."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(responses={200: dict, **error_responses()})
    def get(self, request: Request) -> Response:
        return Response(
            jwks_document(),
            headers={"Cache-Control": f"public, max-age={settings.JWKS_MAX_AGE}"},
        )


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI from drf_spectacular_sidecar's static files. The split view serves the page's
    start-up script at a URL of its own (`?script`), so the page runs under `script-src 'self'`;
    our template drops the inline style the stock one carries."""

    template_name = "api/swagger_ui.html"
    url_name = "api-schema"

    def finalize_response(self, request: Request, response: Response, *args, **kwargs) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        # The script embeds a CSRF token: no other site may load it.
        response["Cross-Origin-Resource-Policy"] = "same-origin"
        return response


class NotFoundApi(APIView):
    """Any other path under /api/: a 404 in the API's error shape, whatever the method."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    schema = None

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        raise NotFound()
