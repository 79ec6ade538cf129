"""The tokens page: a signed-in person makes, lists and revokes their API tokens.

Made from the session, so it works for someone who signed in with GitHub or Google and has no
password. A new token pair is shown once, in the answer to the POST that made it, and never stored.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import second_factor_required_if_enabled
from api import clock, selectors, services
from api.forms import TokenCreateForm
from api.models import TokenFamily


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
