"""The tokens page: a signed-in person makes, lists and revokes their API tokens; and the device
page, where they approve a command-line tool's request for tokens (api.device).

Made from the session, so it works for someone who signed in with GitHub or Google and has no
password. A new token pair is shown once, in the answer to the POST that made it, and never stored.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import second_factor_required_if_enabled
from accounts.login_failures import WindowCounter, digest, rate_parse
from api import clock, device, selectors, services
from api.forms import DeviceCodeForm, TokenCreateForm
from api.models import TokenFamily
from config.client_address import client_network


@never_cache
@login_required
@second_factor_required_if_enabled
@require_http_methods(["GET", "POST"])
def tokens_view(request: HttpRequest) -> HttpResponse:
    form = TokenCreateForm(request.POST or None)
    pair = None
    if request.method == "POST" and form.is_valid():
        pair = services.token_pair_issue(
            user=request.user, origin=TokenFamily.Origin.SESSION, name=form.cleaned_data["name"]
        )
        for family in pair.displaced:
            messages.warning(
                request,
                f"“{family.name or 'API token'}” was revoked to make room: at most "
                f"{settings.API_MAX_LIVE_TOKEN_FAMILIES} of your tokens stay live, the most "
                "recently used.",
            )
        form = TokenCreateForm()
    now = clock.now()
    families = [
        (family, family.state(now=now))
        for family in selectors.token_families_for_page(user_id=request.user.pk)
    ]
    return render(request, "api/tokens.html", {"form": form, "pair": pair, "families": families})


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, family_id) -> HttpResponse:
    family = selectors.token_family_get(user_id=request.user.pk, family_id=family_id)
    services.token_family_revoke(
        family=family, reason=TokenFamily.RevokeReason.REVOKED, actor=request.user
    )
    messages.success(request, f"“{family.name or 'API token'}” is revoked: it no longer works.")
    return redirect("api-tokens")


@login_required
@require_POST
def tokens_revoke_all_view(request: HttpRequest) -> HttpResponse:
    revoked = services.user_tokens_revoke_all(user=request.user, actor=request.user)
    messages.success(request, f"Every API token of yours is revoked ({revoked} were still active).")
    return redirect("api-tokens")


def _user_code_counters(request: HttpRequest) -> list[WindowCounter]:
    """Wrong user codes, per account and per client address (api.device)."""
    rate = rate_parse(settings.OAUTH_USER_CODE_RATE)
    now = time.time()
    return [
        WindowCounter.at(
            scope="user_code_account", ident=digest(str(request.user.pk)), rate=rate, now=now
        ),
        WindowCounter.at(
            scope="user_code_address", ident=digest(client_network(request)), rate=rate, now=now
        ),
    ]


@never_cache
@login_required
@second_factor_required_if_enabled
@require_http_methods(["GET", "POST"])
def device_view(request: HttpRequest) -> HttpResponse:
    """Where a person approves a device's request (RFC 8628 section 3.3): they type the user code
    the device shows (or follow its link, which fills it in), see which client asks, and approve
    or deny it. Each code typed counts against OAUTH_USER_CODE_RATE, per account and per address,
    until it proves right: guessing a live code (34.5 bits) would take longer than codes live."""
    user_code = (request.POST if request.method == "POST" else request.GET).get("user_code", "")
    form = DeviceCodeForm(initial={"user_code": user_code})
    if request.method == "GET" or "user_code" not in request.POST:
        return render(request, "api/device.html", {"form": form})
    counters = _user_code_counters(request)
    now = time.time()
    if any(counter.hit(now) > counter.limit for counter in counters):
        messages.error(request, "Too many codes tried: wait a few minutes, then try again.")
        return render(request, "api/device.html", {"form": form}, status=429)
    pending = device.device_request_find(user_code=user_code)
    if pending is None:
        form = DeviceCodeForm(request.POST)
        form.add_error(
            "user_code",
            "No request is waiting for this code: it is wrong, expired or already answered.",
        )
        return render(request, "api/device.html", {"form": form}, status=400)
    for counter in counters:
        counter.give_back()
    decision = request.POST.get("decision")
    if decision not in {"approve", "deny"}:
        return render(request, "api/device.html", {"form": form, "pending": pending})
    approve = decision == "approve"
    if not device.device_request_decide(user_code=user_code, user=request.user, approve=approve):
        messages.error(request, "That request was answered or expired meanwhile.")
        return redirect("device")
    return render(request, "api/device.html", {"decided": pending, "approved": approve})
