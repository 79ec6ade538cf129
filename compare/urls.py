"""URLs of the comparison page, and the probe its measurements call."""

from django.urls import path

from compare import views
from compare.measurements import AUTH_PROBE_URL_NAME, AuthProbeApi

urlpatterns = [
    path("", views.compare_view, name="compare"),
    path("token/", views.compare_token_view, name="compare-token"),
    path("demo/<slug:demo>/", views.compare_demo_view, name="compare-demo"),
    path("probe/", AuthProbeApi.as_view(), name=AUTH_PROBE_URL_NAME),
]
