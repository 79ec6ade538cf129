"""OpenAPI (drf-spectacular) for the API: its two authentication schemes, its error shape, and the
request fields and serializers whose checks the schema states exactly."""

import base64
import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.validators import ProhibitNullCharactersValidator, RegexValidator
from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerExtension,
    OpenApiViewExtension,
)
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework_simplejwt import settings as jwt_settings


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="HTTP_AUTHORIZATION",
            token_prefix=jwt_settings.api_settings.AUTH_HEADER_TYPES[0],
            bearer_format="JWT",
        )


class SessionCookieScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}


# What a StringField takes, as patterns the schema shows (drf-spectacular writes \A and \Z as ^ and
# $, \x00 as \u0000): no NUL character, which PostgreSQL cannot store; and where blank is refused,
# a character that is not whitespace. Whitespace is what str.strip() removes (DRF's blank check),
# spelt out: `\s` differs between regex engines. Each pattern wants one character or more: ""
# never reaches a validator, and with allow_blank the schema offers "" as an alternative of its
# own, which a pattern matching "" too would make ambiguous (oneOf).
WHITESPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_EMPTY = r"\A[^\x00]+\Z"
NOT_BLANK = rf"\A[^\x00]*[^\x00{WHITESPACE}][^\x00]*\Z"


class StringField(serializers.CharField):
    """DRF's CharField, checked as the schema describes it: a JSON string and no other type (the
    CharField takes a number as its digits), its lengths those of the string sent (the CharField
    counts them after trimming whitespace), its NUL characters and blankness refused by a pattern
    the schema shows (NOT_EMPTY, NOT_BLANK). Trimmed once valid, unless trim_whitespace=False."""

    default_error_messages = {"invalid": "Not a valid string."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        pattern = NOT_BLANK if self.trim_whitespace and not self.allow_blank else NOT_EMPTY
        self.validators = [
            *(v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)),
            RegexValidator(
                pattern,
                message=ProhibitNullCharactersValidator.message,
                code=ProhibitNullCharactersValidator.code,
            ),
        ]

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


# Base of the API's request serializers, with two checks that the schema states too
# (RequestSchemaExtension), so that neither a client nor a fuzzer takes for valid a body the view
# refuses. (A comment, not a docstring: drf-spectacular would describe every subclass with it.)
# - `closed`: a field it does not declare is refused (`unknown_field`) where DRF would drop it in
#   silence (a misspelt `titel` would change nothing); `additionalProperties: false`.
# - `one_of_fields`: exactly one of these fields (each declared optional), or `one_of_code`;
#   `oneOf` in the schema, which a body with none, or with several, fails.
class RequestSerializer(serializers.Serializer):
    closed = False
    one_of_fields: tuple[str, ...] = ()
    one_of_code = "invalid"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Defining the extension class is what registers it with drf-spectacular.
        type(f"{cls.__name__}Extension", (RequestSchemaExtension,), {"target_class": cls})

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if self.closed and isinstance(data, Mapping):
            unknown = [name for name in data if name not in self.fields]
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Not a field of this request."] for name in unknown},
                    code="unknown_field",
                )
        return super().to_internal_value(data)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if self.one_of_fields and sum(name in data for name in self.one_of_fields) != 1:
            names = " and ".join(f"`{name}`" for name in self.one_of_fields)
            raise serializers.ValidationError(
                f"Send exactly one of {names}.", code=self.one_of_code
            )
        return data


class RequestSchemaExtension(OpenApiSerializerExtension):
    """The schema drf-spectacular makes of one request serializer, plus what `closed` and
    `one_of_fields` refuse. drf-spectacular's own schema (this base's `map_serializer`) is that of
    `target_class`, so each request serializer has an extension whose target is its own class
    (RequestSerializer.__init_subclass__) rather than one that matches every subclass."""

    def map_serializer(self, auto_schema, direction):
        schema = super().map_serializer(auto_schema, direction)
        if self.target.closed:
            schema["additionalProperties"] = False
        if self.target.one_of_fields:
            schema["oneOf"] = [{"required": [name]} for name in self.target.one_of_fields]
        return schema


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable: see the README's list.")
    message = serializers.CharField(help_text="For people; may change.")
    fields = serializers.DictField(
        required=False, help_text="With invalid_input: each field's errors (code, message)."
    )
    retry_after = serializers.IntegerField(required=False, help_text="With 429: seconds.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


# What any JSON endpoint can answer, whatever it does: an Accept header that JSON cannot satisfy.
NEGOTIATION_ERRORS = (406,)
# What an endpoint that reads a JSON body can answer too: a body that is not valid for it or not
# JSON (400), one above API_MAX_BODY_BYTES (api.parsers: 413), another media type (415).
BODY_ERRORS = (400, 413, 415)


def error_responses(*statuses: int, body: bool = False) -> dict[int, OpenApiResponse]:
    """The error answers an operation can give, all in the one error shape: `statuses`, the
    negotiation errors every operation can give, and with `body` those of reading a JSON body."""
    every = {*statuses, *NEGOTIATION_ERRORS, *(BODY_ERRORS if body else ())}
    return {status: OpenApiResponse(ErrorSerializer) for status in sorted(every)}


# Swagger UI's examples for a token pair, where it would show "string": tokens shaped as the API
# issues them (header and claims decode as ours do, from the settings in force), with a signature
# of zero bytes, plainly not one. For the account that `manage.py demo_api_user` makes.
EXAMPLE_ISSUED_AT = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
EXAMPLE_EMAIL = "api-demo@example.com"
EXAMPLE_TYPES = {"access": "at+jwt", "refresh": "refresh+jwt"}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def example_token(*, kind: str, lifetime: dt.timedelta) -> str:
    api_settings = jwt_settings.api_settings
    header = {"alg": api_settings.ALGORITHM, "kid": "example-key-id", "typ": EXAMPLE_TYPES[kind]}
    issued = int(EXAMPLE_ISSUED_AT.timestamp())
    claims = {
        "token_type": kind,
        "exp": issued + int(lifetime.total_seconds()),
        "iat": issued,
        "jti": "0" * 32,
        "sub": "1",
        "preferred_username": "api-demo",
        "email": EXAMPLE_EMAIL,
        "fid": "1" * 32,
        "iss": api_settings.ISSUER,
        "aud": api_settings.AUDIENCE,
    }
    parts = (json.dumps(part, separators=(",", ":")).encode() for part in (header, claims))
    return ".".join([*(_b64url(part) for part in parts), _b64url(bytes(256))])


def token_pair_examples() -> list[OpenApiExample]:
    api_settings = jwt_settings.api_settings
    access, refresh = api_settings.ACCESS_TOKEN_LIFETIME, api_settings.REFRESH_TOKEN_LIFETIME
    pair = {
        "token_type": api_settings.AUTH_HEADER_TYPES[0],
        "access": example_token(kind="access", lifetime=access),
        "refresh": example_token(kind="refresh", lifetime=refresh),
        "expires_in": int(access.total_seconds()),
        "access_expires_at": (EXAMPLE_ISSUED_AT + access).isoformat().replace("+00:00", "Z"),
        "refresh_expires_at": (EXAMPLE_ISSUED_AT + refresh).isoformat().replace("+00:00", "Z"),
    }
    return [OpenApiExample("A new pair", value=pair, response_only=True, status_codes=["200"])]


def _examples_added(view: type, examples: list[OpenApiExample]) -> type:
    """A subclass of `view` whose POST's schema has `examples` too (the view itself unchanged)."""
    subclass = type(view.__name__, (view,), {})
    return extend_schema_view(post=extend_schema(examples=examples))(subclass)


class TokenObtainExamples(OpenApiViewExtension):
    target_class = "api.views.TokenObtainApi"

    def view_replacement(self):
        request = {
            "email": EXAMPLE_EMAIL,
            "password": "the password manage.py demo_api_user printed",
            "name": "my script",
        }
        examples = [
            OpenApiExample("The demo API user", value=request, request_only=True),
            *token_pair_examples(),
        ]
        return _examples_added(self.target_class, examples)


class TokenRefreshExamples(OpenApiViewExtension):
    target_class = "api.views.TokenRefreshApi"

    def view_replacement(self):
        lifetime = jwt_settings.api_settings.REFRESH_TOKEN_LIFETIME
        request = {"refresh": example_token(kind="refresh", lifetime=lifetime)}
        examples = [
            OpenApiExample("A refresh token", value=request, request_only=True),
            *token_pair_examples(),
        ]
        return _examples_added(self.target_class, examples)
