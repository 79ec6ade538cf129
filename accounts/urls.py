"""URLs of the account pages; allauth's own are included after these in config/urls.py."""

from django.urls import path

from accounts import views

urlpatterns = [
    path("profile/", views.profile_view, name="profile"),
    path("profile/provider-api/", views.provider_api_call_view, name="provider-api-call"),
    path("profile/disconnect/", views.disconnect_view, name="provider-disconnect"),
    path("profile/flow-exercise/", views.flow_exercise_view, name="flow-exercise"),
    path("sessions/<int:pk>/end/", views.usersession_end_view, name="usersession-end"),
]
