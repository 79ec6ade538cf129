"""View decorators of the accounts app."""

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from allauth.account import app_settings as account_settings
from allauth.mfa.utils import is_mfa_enabled
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from accounts.selectors import second_factor_used


def second_factor_confirm_redirect(request: HttpRequest) -> HttpResponse:
    """To allauth's second-factor reauthentication, and back to this page afterwards."""
    query = urlencode({"next": request.get_full_path()})
    return redirect(f"{reverse('mfa_reauthenticate')}?{query}")


def second_factor_required_if_enabled(view: Callable) -> Callable:
    """For pages that mint credentials: a person who has a second factor must have used it in
    this session (OWASP ASVS V6); a session signed in with the password alone confirms it first."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and is_mfa_enabled(user)
            and not second_factor_used(request=request)
        ):
            return second_factor_confirm_redirect(request)
        return view(request, *args, **kwargs)

    return wrapper


def second_factor_used_lately_required(view: Callable) -> Callable:
    """For allauth's pages that remove, replace or reveal a second factor: a person who has one
    must have used it within allauth's reauthentication window (ACCOUNT_REAUTHENTICATION_TIMEOUT).

    allauth asks these pages only for a recent reauthentication, and a password counts there: a
    session signed in with the password alone (a stolen cookie, the password known) could remove
    the factor, enrol its own, confirm it and so pass the admin's second-factor check, or read a
    recovery code and confirm that. A first enrolment, with no factor yet, needs only allauth's.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        window = account_settings.REAUTHENTICATION_TIMEOUT
        if (
            user.is_authenticated
            and is_mfa_enabled(user)
            and not second_factor_used(request=request, within_seconds=window)
        ):
            return second_factor_confirm_redirect(request)
        return view(request, *args, **kwargs)

    return wrapper
