"""The site's URL map: pages, allauth's accounts, admin and the health check."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from api.headless import app_paths
from api.oauth import AuthorizationServerMetadataApi
from api.pages import device_view
from api.views import JwksApi
from compare.views import learn_view
from config.health import healthz_view

# The API first: Django tries the patterns in order, and API calls are most of the traffic.
urlpatterns = [
    path("api/", include("api.urls")),
    path(".well-known/jwks.json", JwksApi.as_view(), name="jwks"),
    path(
        ".well-known/oauth-authorization-server",
        AuthorizationServerMetadataApi.as_view(),
        name="oauth-metadata",
    ),
    path("oauth/", include("api.oauth_urls")),
    path("device/", device_view, name="device"),
    path("compare/", include("compare.urls")),
    path("learn/", learn_view, name="learn"),
    path("healthz", healthz_view, name="healthz"),
    path("", TemplateView.as_view(template_name="pages/home.html"), name="home"),
    path("accounts/tokens/", include("api.page_urls")),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    # allauth headless; the endpoints api.headless takes over (limits, DPoP) come first.
    *app_paths(),
    path("_allauth/", include("allauth.headless.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
]

handler500 = "config.outages.server_error_view"
