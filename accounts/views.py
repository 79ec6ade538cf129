"""The account pages: profile (with the recorded OAuth flow), the flow exercise, sessions."""

import secrets
from dataclasses import asdict

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.forms import DisconnectForm
from allauth.usersessions.adapter import get_adapter as get_usersessions_adapter
from allauth.usersessions.models import UserSession
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import selectors
from accounts.flow_steps import step_order_checked
from accounts.forms import FlowOrderForm
from accounts.provider_api import provider_api_call

FLOW_EXERCISE_SEED_SESSION_KEY = "accounts.flow_exercise_seed"
# The live API call's request and answer, from its POST to the profile page it redirects to.
PROVIDER_CALL_SESSION_KEY = "accounts.provider_api_call"
# The profile's section with the API call button, where that answer is shown.
PROVIDER_CALL_ANCHOR = "provider-api"


@login_required
def profile_view(request: HttpRequest) -> HttpResponse:
    flow = selectors.oauth_flow_latest(user=request.user)
    device_flow = selectors.device_flow_latest(user=request.user)
    app_flow = selectors.app_flow_latest(user=request.user)
    context = {
        "app_flow": app_flow,
        "app_flow_steps": selectors.app_flow_steps(flow=app_flow) if app_flow else [],
        "device_flow": device_flow,
        "device_flow_steps": selectors.device_flow_steps(flow=device_flow) if device_flow else [],
        "sign_in_method": selectors.sign_in_method_current(request=request),
        "connected": selectors.connected_accounts(request=request, user=request.user),
        "providers": get_adapter().list_providers(request),
        "flow": flow,
        "flow_steps": selectors.oauth_flow_steps(flow=flow) if flow else [],
        "provider_token": selectors.provider_token_in_session(request=request),
        "call": request.session.pop(PROVIDER_CALL_SESSION_KEY, None),
    }
    return render(request, "accounts/profile.html", context)


@login_required
@require_POST
def provider_api_call_view(request: HttpRequest) -> HttpResponse:
    """Use the provider access token held in this session to call the provider's API, live.

    The answer is shown once, by the profile page this redirects to, at the button's own section:
    reloading that page never calls the provider again, and the person is not sent back to the
    top of a long page to look for it.
    """
    held = selectors.provider_token_in_session(request=request)
    if held is None:
        messages.error(request, "This session holds no provider access token: sign in again.")
    else:
        call = provider_api_call(provider_id=held["provider_id"], access_token=held["token"])
        request.session[PROVIDER_CALL_SESSION_KEY] = asdict(call)
    return redirect(f"{reverse('profile')}#{PROVIDER_CALL_ANCHOR}")


@login_required
@require_POST
def disconnect_view(request: HttpRequest) -> HttpResponse:
    """Disconnect a provider through allauth's form, which refuses to remove the last way in."""
    form = DisconnectForm(data=request.POST, request=request)
    if form.is_valid():
        form.save()
        messages.success(request, "The account was disconnected.")
    else:
        for error in form.non_field_errors() or ["Choose an account to disconnect."]:
            messages.error(request, error)
    return redirect("profile")


@login_required
def flow_exercise_view(request: HttpRequest) -> HttpResponse:
    """Put the seven OAuth steps in order; checked against this person's own recorded flow. A
    position given twice is a form error on the page; each wrong row says why, in words."""
    seed = request.session.setdefault(FLOW_EXERCISE_SEED_SESSION_KEY, secrets.randbelow(10**6))
    form = FlowOrderForm(request.POST or None, seed=seed)
    rows = None
    if request.method == "POST" and form.is_valid():
        expected = selectors.flow_step_order(user=request.user)
        rows = step_order_checked(answer=form.answer(), expected=expected)
    context = {
        "form": form,
        "result": None if rows is None else {"correct": all(row.ok for row in rows), "rows": rows},
        "flow": selectors.oauth_flow_latest(user=request.user),
    }
    return render(request, "accounts/flow_exercise.html", context)


@login_required
@require_POST
def usersession_end_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Sign out one session of the signed-in person (the current one signs this browser out)."""
    session = get_object_or_404(UserSession, pk=pk, user=request.user)
    is_current = session.is_current()
    get_usersessions_adapter().end_sessions([session])
    if is_current:
        get_account_adapter().logout(request)
        return redirect("home")
    messages.success(request, "That session was signed out.")
    return redirect("usersessions_list")
