"""The in-process measurement of what proving identity costs: sessions against JWTs.

It times the authentication step alone, not the whole stack: a request to the auth probe
(AuthProbeApi below) is built as it reaches the view, a django.http.HttpRequest with what
SessionMiddleware and AuthenticationMiddleware attach (the session opened from the configured
store, the lazy user that django.contrib.auth.get_user loads), wrapped in DRF's Request with the
API's own authentication classes, which then run as they do for every API request. Only how the
request proves who it is changes:

- `none`: no credentials, the baseline: the probe's authenticators run and each returns None;
- `session`: a real session of `user` in the configured SESSION_ENGINE, sent as its cookie and
  accepted by api.authentication.SessionAuthentication;
- `jwt`: an access token of `user`, sent as a bearer token and accepted by
  api.authentication.BearerTokenAuthentication (signature and claims, then the revocation marks);
- `jwt_stateless`: the same token checked by signature and claims alone, with no revocation
  lookup (StatelessBearerTokenAuthentication, used only here and in bench/): what the
  revocation check costs.

The probe's authenticators, not /api/me/'s view: building the view's answer is not
authenticating, and would be counted as if it were. Each timed step must end with the style's
own authenticator accepting the request, so no style is ever timed anonymously by mistake.

`auth_styles_measure` and `manage.py authbench` share this; so does the /compare/ page's chart,
and its lesson on what revocation costs (`revocation_cost`).
bench/load.py measures the whole stack over the wire, under gunicorn, on the probe's route.
"""

import math
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import revocation, services
from api.authentication import BearerTokenAuthentication
from api.models import TokenFamily
from compare.inspector import TRANSACTION_CONTROL

STYLES = ("none", "session", "jwt", "jwt_stateless")
# Which authenticator must accept each style's request (its `authenticated_by`).
AUTHENTICATED_BY = {
    "none": "none",
    "session": "session",
    "jwt": "bearer",
    "jwt_stateless": "bearer_stateless",
}
AUTH_PROBE_URL_NAME = "compare-auth-probe"
# Authentications per style run before timing starts (importing the backends, loading the
# signing keys, filling the caches), and at most how many are run again to count queries.
WARM_UP_REQUESTS = 10
QUERY_COUNT_REQUESTS = 20

SESSION_ENGINE_NAMES = {
    "django.contrib.sessions.backends.db": "database sessions",
    "django.contrib.sessions.backends.cache": "cache sessions",
    "django.contrib.sessions.backends.cached_db": "cached database sessions",
    "django.contrib.sessions.backends.file": "file sessions",
    "django.contrib.sessions.backends.signed_cookies": "signed-cookie sessions",
}


@dataclass(frozen=True)
class StyleMeasurement:
    """One style's figures; times are per request, of its authentication step."""

    style: str
    label: str
    requests: int
    median_us: float
    p99_us: float
    queries_per_request: float
    # The header line the client sends to authenticate (Cookie or Authorization, CRLF included).
    request_bytes: int
    ratio_to_baseline: float


class StatelessBearerTokenAuthentication(BearerTokenAuthentication):
    """A bearer token checked by its signature and claims only: revoked tokens pass.

    For measurements only (auth_styles_measure, bench/), never for the API: it shows what the
    revocation lookup costs by leaving it out.
    """

    authenticated_by = "bearer_stateless"
    check_revocation = False


class AuthProbeApi(APIView):
    """The smallest authenticated answer: which authenticator accepted the request, and whom.

    Anonymous requests are answered too (the measurements' baseline). Route it as
    AUTH_PROBE_URL_NAME; `as_view(authentication_classes=...)` makes a variant (bench/urls.py).
    """

    permission_classes = (AllowAny,)
    throttle_classes = ()
    schema = None

    def get(self, request: Request) -> Response:
        authenticator = request.successful_authenticator
        return Response(
            {
                "authenticated_by": getattr(authenticator, "authenticated_by", "none"),
                "user_id": request.user.pk,
            }
        )


def session_engine_name() -> str:
    return SESSION_ENGINE_NAMES.get(settings.SESSION_ENGINE, settings.SESSION_ENGINE)


def style_labels() -> dict[str, str]:
    """Human labels of the styles, naming the configured session engine and token form."""
    form = "encrypted JWT" if settings.JWT_ENCRYPT_ACCESS_TOKENS else "JWT"
    return {
        "none": "No credentials (baseline)",
        "session": f"Session cookie ({session_engine_name()})",
        "jwt": f"Bearer {form}: signature, claims and revocation check",
        "jwt_stateless": f"Bearer {form} verified statelessly: signature and claims only",
    }


def session_create(*, user: Any) -> SessionBase:
    """A session of `user` in the configured engine, holding what `login()` leaves in one.

    Not `login()` itself: that also sends user_logged_in (which records a sign-in and writes
    last_login) and needs a request.
    """
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = user._meta.pk.value_to_string(user)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save(must_create=True)
    return store


def _nearest_rank(ordered: list[int], fraction: float) -> int:
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


class _QueryCounter:
    """A database execute wrapper (Django's documented instrumentation hook) that counts the
    statements run, transaction control excepted: that depends on the database and the caller,
    not on the style."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(
        self, execute: Callable, sql: str, params: Any, many: bool, context: dict[str, Any]
    ) -> Any:
        if not TRANSACTION_CONTROL.match(sql):
            self.count += 1
        return execute(sql, params, many, context)


def auth_styles_measure(*, user: Any, requests: int = 200) -> list[StyleMeasurement]:
    """Measure the four styles (STYLES, in that order) with `requests` timed authentications each.

    Styles take turns request by request, so drift in the machine's speed touches them alike;
    WARM_UP_REQUESTS per style go first, untimed. Queries are counted in a second, untimed pass of
    up to QUERY_COUNT_REQUESTS per style.

    Leaves nothing behind that matters: everything runs in one transaction (a savepoint when the
    caller holds one, as a page under ATOMIC_REQUESTS does) that is rolled back, so the token
    family, the session's database row and the audit events vanish with it; the session is also
    deleted (a cache engine keeps it outside the database). What stays is short-lived cache marks
    naming objects that no longer exist (a minute at most).
    """
    if requests < 1:
        raise ValueError("requests must be at least 1")
    labels = style_labels()
    samples: dict[str, list[int]] = {style: [] for style in STYLES}
    queries: dict[str, float] = {}
    with transaction.atomic():
        # A pair as the API issues it: the access token encrypted only if so configured.
        pair = services.token_pair_issue(
            user=user, origin=TokenFamily.Origin.SESSION, name="Auth measurement"
        )
        token = pair.access
        session = session_create(user=user)
        session_key = session.session_key or ""
        try:
            steps = _style_steps(session_key=session_key, token=token)
            for style, authenticate in steps.items():
                _accepted_by_check(style=style, request=authenticate())
            for round_ in range(WARM_UP_REQUESTS + requests):
                for style, authenticate in steps.items():
                    start = time.perf_counter_ns()
                    request = authenticate()
                    elapsed = time.perf_counter_ns() - start
                    _accepted_by_check(style=style, request=request)
                    if round_ >= WARM_UP_REQUESTS:
                        samples[style].append(elapsed)
            counted = min(requests, QUERY_COUNT_REQUESTS)
            for style, authenticate in steps.items():
                counter = _QueryCounter()
                with connection.execute_wrapper(counter):
                    for _ in range(counted):
                        authenticate()
                queries[style] = counter.count / counted
        finally:
            session.delete()
            cache.delete(revocation.used_key(pair.family.id.hex))
            transaction.set_rollback(True)
    baseline = statistics.median(samples["none"])
    results = []
    for style in STYLES:
        ordered = sorted(samples[style])
        median = statistics.median(ordered)
        results.append(
            StyleMeasurement(
                style=style,
                label=labels[style],
                requests=requests,
                median_us=median / 1000,
                p99_us=_nearest_rank(ordered, 0.99) / 1000,
                queries_per_request=queries[style],
                request_bytes=_request_bytes(style=style, session_key=session_key, token=token),
                ratio_to_baseline=median / baseline,
            )
        )
    return results


@dataclass(frozen=True)
class RevocationCost:
    """What being able to revoke a token costs per request here, from one measurement: medians
    of the authentication step, in microseconds."""

    stateless_us: float
    revocable_us: float
    # revocable minus stateless: the revocation lookup.
    check_us: float
    # A session, for comparison: its lookups (the session, the user) are what revoke it.
    session_us: float


def revocation_cost(*, measurements: Iterable[StyleMeasurement]) -> RevocationCost:
    """The revocation check's cost, from `measurements` (auth_styles_measure's answer): the `jwt`
    style's median less the `jwt_stateless` style's, beside the `session` style's median.

    Two medians of noisy samples can differ by less than nothing when the check costs almost
    nothing: the difference then counts as 0.
    """
    medians = {m.style: m.median_us for m in measurements}
    stateless, revocable = medians["jwt_stateless"], medians["jwt"]
    return RevocationCost(
        stateless_us=stateless,
        revocable_us=revocable,
        check_us=max(0.0, revocable - stateless),
        session_us=medians["session"],
    )


def _style_steps(*, session_key: str, token: str) -> dict[str, Callable[[], Request]]:
    """Per style, a function that authenticates one probe request and returns it (DRF's
    Request, its `successful_authenticator` and `user` set)."""
    path = reverse(AUTH_PROBE_URL_NAME)
    probe_classes = tuple(AuthProbeApi.authentication_classes)
    session_store = import_module(settings.SESSION_ENGINE).SessionStore
    authorization = f"Bearer {token}"

    def step(
        *,
        cookies: dict[str, str] | None = None,
        authorization: str | None = None,
        classes: tuple[type, ...] = probe_classes,
    ) -> Callable[[], Request]:
        def authenticate() -> Request:
            request = HttpRequest()
            request.method = "GET"
            request.path = request.path_info = path
            if authorization is not None:
                request.META["HTTP_AUTHORIZATION"] = authorization
            request.COOKIES.update(cookies or {})
            # What SessionMiddleware and AuthenticationMiddleware attach to every request.
            request.session = session_store(request.COOKIES.get(settings.SESSION_COOKIE_NAME))
            request.user = SimpleLazyObject(lambda: get_user(request))
            # DRF's Request, as APIView.initialize_request makes it; reading `user` runs the
            # authenticators in order until one accepts (APIView.perform_authentication).
            drf_request = Request(request, authenticators=[cls() for cls in classes])
            drf_request.user  # noqa: B018
            return drf_request

        return authenticate

    return {
        "none": step(),
        "session": step(cookies={settings.SESSION_COOKIE_NAME: session_key}),
        "jwt": step(authorization=authorization),
        "jwt_stateless": step(
            authorization=authorization, classes=(StatelessBearerTokenAuthentication,)
        ),
    }


def _accepted_by_check(*, style: str, request: Request) -> None:
    """Refuse to time a style whose credentials were not the ones that authenticated."""
    accepted_by = getattr(request.successful_authenticator, "authenticated_by", "none")
    if accepted_by != AUTHENTICATED_BY[style]:
        raise RuntimeError(
            f"The {style} style was authenticated by {accepted_by!r} (user "
            f"{request.user.pk!r}); expected {AUTHENTICATED_BY[style]!r} to authenticate."
        )


def _request_bytes(*, style: str, session_key: str, token: str) -> int:
    """The header line that carries the style's credentials, as sent over HTTP/1.1."""
    lines = {
        "none": "",
        "session": f"Cookie: {settings.SESSION_COOKIE_NAME}={session_key}\r\n",
        "jwt": f"Authorization: Bearer {token}\r\n",
        "jwt_stateless": f"Authorization: Bearer {token}\r\n",
    }
    return len(lines[style].encode())
