"""OpenAPI (drf-spectacular) for the API: its two authentication schemes and its error shape."""

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import OpenApiResponse
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


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable: see the README's list.")
    message = serializers.CharField(help_text="For people; may change.")
    fields = serializers.DictField(
        required=False, help_text="With invalid_input: each field's errors (code, message)."
    )
    retry_after = serializers.IntegerField(required=False, help_text="With 429: seconds.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """The error answers an operation can give, all in the one error shape."""
    return {status: OpenApiResponse(ErrorSerializer) for status in statuses}
