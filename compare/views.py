"""The comparison page: the visitor's session and a JWT of theirs, side by side, with live demos;
and the learner's page, /learn/, answered from the visitor's own recorded sign-in.

Showing the page (GET) mints, evicts and revokes nothing: the JWT column shows the demo token the
visitor made with the "Make my demo token" form (a POST), and each demonstration is a POST.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.decorators import second_factor_required_if_enabled
from compare import demos
from compare.chart import bar_chart
from compare.learn import learn_facts
from compare.measurements import auth_styles_measure, revocation_cost

# Enough requests per style for a stable median on a page request, in about a second.
PAGE_MEASUREMENT_REQUESTS = 60
# A measurement sends some 360 requests: one per person in this many seconds.
MEASUREMENT_INTERVAL_SECONDS = 10


def _context(request: HttpRequest, **extra) -> dict:
    held = demos.demo_token_held(request=request)
    return {
        "session": demos.session_facts(request=request),
        "jwt": demos.jwt_facts(held=held) if held is not None else None,
        "tamperings": demos.TAMPERINGS,
        "lifetimes": demos.lifetimes(),
        **extra,
    }


@login_required
@second_factor_required_if_enabled
def compare_view(request: HttpRequest) -> HttpResponse:
    return render(request, "compare/compare.html", _context(request))


@login_required
@second_factor_required_if_enabled
@require_POST
def compare_token_view(request: HttpRequest) -> HttpResponse:
    """Make the visitor's demo token (unless they hold one), then show the page again."""
    demos.demo_token(request=request)
    return redirect(f"{reverse('compare')}#side-by-side")


@login_required
@second_factor_required_if_enabled
@require_POST
def compare_demo_view(request: HttpRequest, demo: str) -> HttpResponse:
    """Run one demonstration and show the page with its result in place."""
    if demo == "session-revocation":
        result = {"session_revocation": demos.session_revocation_demo(request=request)}
    elif demo == "token-revocation":
        revoke = request.POST.get("revoke") == "yes"
        result = {"token_revocation": demos.token_revocation_demo(request=request, revoke=revoke)}
    elif demo == "tamper" and request.POST.get("choice") in demos.TAMPERINGS:
        choice = request.POST["choice"]
        result = {"tampering": demos.tamper_demo(request=request, choice=choice)}
    elif demo == "csrf":
        result = {"csrf": demos.csrf_demo(request=request)}
    elif demo == "stolen-token":
        result = {"stolen": demos.stolen_token_demo(request=request)}
    elif demo == "measure":
        if not cache.add(f"compare:measure:{request.user.pk}", 1, MEASUREMENT_INTERVAL_SECONDS):
            messages.error(request, "You measured a moment ago: try again in a few seconds.")
            context = _context(request)
            return render(request, "compare/compare.html", context, status=429)
        measured = auth_styles_measure(user=request.user, requests=PAGE_MEASUREMENT_REQUESTS)
        result = {
            "measurements": measured,
            "chart": bar_chart(measurements=measured),
            "revocation_cost": revocation_cost(measurements=measured),
        }
    else:
        raise Http404("No such demonstration.")
    return render(request, "compare/compare.html", _context(request, **result))


def learn_view(request: HttpRequest) -> HttpResponse:
    """Open to everyone: a signed-out visitor, or one with no recorded sign-in, is told what to
    do first and still taught; otherwise each answer cites their newest recorded flow."""
    user = request.user if request.user.is_authenticated else None
    return render(request, "compare/learn.html", {"learn": learn_facts(user=user)})
