"""The site's URL map: pages, allauth's accounts, admin and the health check."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from config.health import healthz_view

urlpatterns = [
    path("", TemplateView.as_view(template_name="pages/home.html"), name="home"),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
    path("healthz", healthz_view, name="healthz"),
]

handler500 = "config.outages.server_error_view"
