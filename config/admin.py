"""The admin site: entered through the site's own sign-in, and only with a second factor."""

from functools import wraps
from urllib.parse import urlencode

from allauth.account.decorators import secure_admin_login
from allauth.mfa.models import Authenticator
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse

from accounts.selectors import second_factor_used


def has_second_factor(user) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class AdminSite(admin.AdminSite):
    """Django admin behind allauth's sign-in (its rate limits and MFA stage) and a TOTP rule.

    The stock admin login form would bypass allauth: no rate limit, no second factor. Staff
    without an authenticator are sent to set one up before any admin page opens; staff whose
    session was signed in without it (the password alone, before the authenticator existed)
    confirm it first.
    """

    site_header = "signin-lab administration"
    site_title = "signin-lab admin"

    def login(self, request, extra_context=None):
        return secure_admin_login(super().login)(request, extra_context)

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @wraps(view)
        def second_factor_required(request, *args, **kwargs):
            user = request.user
            if user.is_active and user.is_staff and not has_second_factor(user):
                messages.warning(
                    request,
                    "The admin opens only with a second factor: add an authenticator app here, "
                    "then go back to the admin.",
                )
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{reverse('mfa_activate_totp')}?{query}")
            if user.is_active and user.is_staff and not second_factor_used(request=request):
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{reverse('mfa_reauthenticate')}?{query}")
            return inner(request, *args, **kwargs)

        return second_factor_required
