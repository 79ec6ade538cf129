"""URLs of the account pages; allauth's own are included after these in config/urls.py."""

from allauth.mfa.recovery_codes import views as recovery_codes_views
from allauth.mfa.totp import views as totp_views
from django.urls import path

from accounts import views
from accounts.decorators import second_factor_used_lately_required

urlpatterns = [
    path("profile/", views.profile_view, name="profile"),
    path("profile/provider-api/", views.provider_api_call_view, name="provider-api-call"),
    path("profile/disconnect/", views.disconnect_view, name="provider-disconnect"),
    path("profile/flow-exercise/", views.flow_exercise_view, name="flow-exercise"),
    path("sessions/<int:pk>/end/", views.usersession_end_view, name="usersession-end"),
]

# allauth's pages that remove, replace or reveal a second factor, at allauth's own paths (matched
# before allauth's patterns), each behind a recent use of the second factor it protects.
urlpatterns += [
    path(f"2fa/{route}", second_factor_used_lately_required(view))
    for route, view in [
        ("totp/activate/", totp_views.activate_totp),
        ("totp/deactivate/", totp_views.deactivate_totp),
        ("recovery-codes/", recovery_codes_views.view_recovery_codes),
        ("recovery-codes/generate/", recovery_codes_views.generate_recovery_codes),
        ("recovery-codes/download/", recovery_codes_views.download_recovery_codes),
    ]
]
