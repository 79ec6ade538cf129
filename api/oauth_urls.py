"""URLs of the standard OAuth endpoints, under /oauth/ (api.oauth; the metadata that names them
is at /.well-known/oauth-authorization-server, in config/urls.py)."""

from django.urls import path

from api import oauth

urlpatterns = [
    path("token", oauth.OAuthTokenApi.as_view(), name="oauth-token"),
    path(
        "device_authorization",
        oauth.DeviceAuthorizationApi.as_view(),
        name="oauth-device-authorization",
    ),
    path("revoke", oauth.OAuthRevocationApi.as_view(), name="oauth-revoke"),
    path("introspect", oauth.IntrospectionApi.as_view(), name="oauth-introspect"),
]
