"""The in-process measurement of what proving identity costs: sessions against JWTs.

One request, `GET` on the auth probe (AuthProbeApi below), is sent many times per style through
the full Django stack (every middleware, URL resolution, DRF, the view, the JSON renderer) with
django.test.Client; only how the request proves who it is changes:

- `none`: no credentials, the baseline: the same endpoint, answered anonymously;
- `session`: a real session of `user` in the configured SESSION_ENGINE, sent as its cookie;
- `jwt`: an access token of `user`, sent as a bearer token, checked by the configured
  authentication classes (signature and claims, then the revocation marks in the cache);
- `jwt_stateless`: the same token checked by signature and claims alone, with no revocation
  lookup (StatelessBearerTokenAuthentication, used only here and in bench/): what the
  revocation check costs.

The probe, not /api/me/: for a bearer token /api/me/ also reads the user's row (to answer with the
current email), work a session request has done already while authenticating, and anonymously it
answers 401 through the error handler; either would be counted as the cost of authenticating. The
probe allows anonymous requests, so the baseline is the very same work minus the credentials, and
it says which authenticator accepted each request, so no style is ever timed anonymously by
mistake.

`auth_styles_measure` and `manage.py authbench` share this; so does the /compare/ page's chart.
bench/load.py measures the same probe over the wire, under gunicorn.
"""

import math
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from http import HTTPStatus
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import revocation, services
from api.authentication import BearerTokenAuthentication
from api.models import TokenFamily
from compare.inspector import TRANSACTION_CONTROL

STYLES = ("none", "session", "jwt", "jwt_stateless")
# What the probe answers for each style when the credentials were accepted.
AUTHENTICATED_BY = {
    "none": "none",
    "session": "session",
    "jwt": "bearer",
    "jwt_stateless": "bearer_stateless",
}
AUTH_PROBE_URL_NAME = "compare-auth-probe"
# Requests per style sent before timing starts (loading the middleware chain, the URL resolver,
# the signing keys), and at most how many are sent again to count queries.
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
    """One style's figures; times are per request, through the full Django stack."""

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


# Set only by auth_styles_measure, in its own thread, for its own requests: no client can reach
# the stateless variant through the site's probe.
_probe_authentication: ContextVar[tuple[type, ...] | None] = ContextVar(
    "probe_authentication", default=None
)


class AuthProbeApi(APIView):
    """The smallest authenticated answer: which authenticator accepted the request, and whom.

    Anonymous requests are answered too (the measurements' baseline). Route it as
    AUTH_PROBE_URL_NAME; `as_view(authentication_classes=...)` makes a variant (bench/urls.py).
    """

    permission_classes = (AllowAny,)
    throttle_classes = ()
    schema = None

    def get_authenticators(self) -> list[Any]:
        classes = _probe_authentication.get() or self.authentication_classes
        return [authentication() for authentication in classes]

    def get(self, request: Request) -> Response:
        authenticator = request.successful_authenticator
        return Response(
            {
                "authenticated_by": getattr(authenticator, "authenticated_by", "none"),
                "user_id": request.user.pk,
            }
        )


@contextmanager
def _probe_authenticated_by(classes: tuple[type, ...] | None) -> Iterator[None]:
    token = _probe_authentication.set(classes)
    try:
        yield
    finally:
        _probe_authentication.reset(token)


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


def _measurement_host() -> str:
    """A host name the site answers to (the test client's `testserver` may not be one)."""
    for host in settings.ALLOWED_HOSTS:
        if host != "*":
            return host.lstrip(".")
    return "localhost"


def _nearest_rank(ordered: list[int], fraction: float) -> int:
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def auth_styles_measure(*, user: Any, requests: int = 200) -> list[StyleMeasurement]:
    """Measure the four styles (STYLES, in that order) with `requests` timed requests each.

    Styles take turns request by request, so drift in the machine's speed touches them alike;
    WARM_UP_REQUESTS per style go first, untimed. Queries are counted in a second, untimed pass of
    up to QUERY_COUNT_REQUESTS per style (the capture makes every query slower), leaving out
    transaction control, which depends on the database and the caller, not on the style.

    Leaves nothing behind that matters: everything runs in one transaction (a savepoint when the
    caller holds one, as a page under ATOMIC_REQUESTS does) that is rolled back, so the token
    family, the session's database row, the open-session record and the audit events vanish with
    it; the session is also deleted (a cache engine keeps it outside the database). What stays is
    short-lived cache marks naming objects that no longer exist (a minute at most). The test
    client keeps the caller's database connection open across the requests, so a live page can
    call this.
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
        session_key = session.session_key
        try:
            clients = _style_clients(session_key=session_key, token=token)
            for style, send in clients.items():
                _probe_answer_check(style=style, response=send())
            for round_ in range(WARM_UP_REQUESTS + requests):
                for style, send in clients.items():
                    start = time.perf_counter_ns()
                    response = send()
                    elapsed = time.perf_counter_ns() - start
                    if response.status_code != HTTPStatus.OK:
                        _probe_answer_check(style=style, response=response)
                    if round_ >= WARM_UP_REQUESTS:
                        samples[style].append(elapsed)
            counted = min(requests, QUERY_COUNT_REQUESTS)
            for style, send in clients.items():
                with CaptureQueriesContext(connection) as captured:
                    for _ in range(counted):
                        send()
                statements = [
                    query
                    for query in captured.captured_queries
                    if not TRANSACTION_CONTROL.match(query["sql"])
                ]
                queries[style] = len(statements) / counted
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


def _style_clients(*, session_key: str, token: str) -> dict[str, Callable[[], HttpResponse]]:
    """Per style, a function that sends the probe request once and returns the response."""
    path = reverse(AUTH_PROBE_URL_NAME)
    host = _measurement_host()
    anonymous, session_client, bearer = (Client(HTTP_HOST=host) for _ in range(3))
    session_client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    authorization = f"Bearer {token}"

    # secure=True: production redirects plain HTTP to HTTPS (behind its load balancer, every
    # request arrives as HTTPS).
    def send_anonymous() -> HttpResponse:
        return anonymous.get(path, secure=True)

    def send_session() -> HttpResponse:
        return session_client.get(path, secure=True)

    def send_bearer() -> HttpResponse:
        return bearer.get(path, secure=True, HTTP_AUTHORIZATION=authorization)

    def send_stateless() -> HttpResponse:
        with _probe_authenticated_by((StatelessBearerTokenAuthentication,)):
            return bearer.get(path, secure=True, HTTP_AUTHORIZATION=authorization)

    return {
        "none": send_anonymous,
        "session": send_session,
        "jwt": send_bearer,
        "jwt_stateless": send_stateless,
    }


def _probe_answer_check(*, style: str, response: HttpResponse) -> None:
    """Refuse to time a style whose credentials were not the ones that authenticated."""
    answer = response.json() if response.status_code == HTTPStatus.OK else {}
    if answer.get("authenticated_by") != AUTHENTICATED_BY[style]:
        raise RuntimeError(
            f"The auth probe answered the {style} style with {response.status_code} "
            f"{response.content[:200]!r}; expected {AUTHENTICATED_BY[style]!r} to authenticate."
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
