"""View decorators of the accounts app."""

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from allauth.account.authentication import get_authentication_records
from allauth.mfa.utils import is_mfa_enabled
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse


def second_factor_used(request: HttpRequest) -> bool:
    """Whether this session's person passed their second factor in it (allauth records how each
    session authenticated), not merely whether they have one."""
    records = get_authentication_records(request, request.user)
    return any(record.get("method") == "mfa" for record in records)


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
        if user.is_authenticated and is_mfa_enabled(user) and not second_factor_used(request):
            return second_factor_confirm_redirect(request)
        return view(request, *args, **kwargs)

    return wrapper
