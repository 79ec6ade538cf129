"""URLs of the API, under /api/ (config/urls.py also maps /.well-known/jwks.json to JwksApi)."""

from django.urls import path, re_path, reverse_lazy
from django.utils.text import format_lazy
from drf_spectacular.views import SpectacularAPIView

from api import views

urlpatterns = [
    path("auth/token/", views.TokenObtainApi.as_view(), name="api-token-obtain"),
    path("auth/token/refresh/", views.TokenRefreshApi.as_view(), name="api-token-refresh"),
    path("auth/token/verify/", views.TokenVerifyApi.as_view(), name="api-token-verify"),
    path("auth/token/revoke/", views.TokenRevokeApi.as_view(), name="api-token-revoke"),
    path("auth/token/revoke-all/", views.TokenRevokeAllApi.as_view(), name="api-token-revoke-all"),
    path("me/", views.MeApi.as_view(), name="api-me"),
    path("notes/", views.NoteListApi.as_view(), name="api-notes"),
    path("notes/<int:note_id>/", views.NoteDetailApi.as_view(), name="api-note"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI reads, and links to, the schema as JSON: a browser shows that, where it saves
    # the YAML that /api/schema/ answers by default.
    path(
        "docs/",
        views.ApiDocsView.as_view(url=format_lazy("{}?format=json", reverse_lazy("api-schema"))),
        name="api-docs",
    ),
    re_path(r"", views.NotFoundApi.as_view()),
]
