"""URLs of the tokens page, under /accounts/tokens/ (before allauth's accounts/ URLs)."""

from django.urls import path

from api import pages

urlpatterns = [
    path("", pages.tokens_view, name="api-tokens"),
    path("<uuid:family_id>/revoke/", pages.token_revoke_view, name="api-token-page-revoke"),
    path("revoke-all/", pages.tokens_revoke_all_view, name="api-tokens-revoke-all"),
]
