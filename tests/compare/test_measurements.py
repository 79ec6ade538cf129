"""The in-process measurement: four styles, their queries and header sizes, and nothing left behind.

Timings are never asserted: only the shape of the figures and what they are computed from.
"""

from http import HTTPStatus

import pytest
from allauth.usersessions.models import UserSession
from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore
from django.contrib.sessions.models import Session
from django.db import transaction
from django.urls import reverse

from accounts.models import AuditEvent
from api import services
from api.exceptions import InvalidCredentialsError
from api.models import TokenFamily
from compare import measurements as measurements_module
from compare.measurements import (
    AUTH_PROBE_URL_NAME,
    STYLES,
    RevocationCost,
    StatelessBearerTokenAuthentication,
    StyleMeasurement,
    auth_styles_measure,
    revocation_cost,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REQUESTS = 5


def left_behind() -> dict[str, int]:
    return {
        "families": TokenFamily.objects.count(),
        "sessions": Session.objects.count(),
        "open sessions": UserSession.objects.count(),
        "audit events": AuditEvent.objects.count(),
    }


def test_every_style_is_measured_in_order_with_ratios_from_the_medians(user):
    measurements = auth_styles_measure(user=user, requests=REQUESTS)

    assert [m.style for m in measurements] == list(STYLES)
    baseline = measurements[0]
    assert baseline.ratio_to_baseline == 1.0
    for m in measurements:
        assert m.requests == REQUESTS
        assert m.label
        assert 0 < m.median_us <= m.p99_us
        assert m.ratio_to_baseline == pytest.approx(m.median_us / baseline.median_us)


def test_database_sessions_query_and_bearer_tokens_do_not(user, settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"

    queries = {m.style: m.queries_per_request for m in auth_styles_measure(user=user, requests=5)}

    # The session's row, then the user's (read inside the measurement's transaction, so never
    # from a copy: accounts.backends).
    assert queries == {"none": 0, "session": 2, "jwt": 0, "jwt_stateless": 0}


def test_request_bytes_are_the_header_lines_that_carry_the_credentials(user, settings):
    measurements = {m.style: m for m in auth_styles_measure(user=user, requests=REQUESTS)}

    assert measurements["none"].request_bytes == 0
    # "Cookie: sessionid=" + a 32-character key + CRLF.
    cookie = f"Cookie: {settings.SESSION_COOKIE_NAME}=" + "k" * 32 + "\r\n"
    assert measurements["session"].request_bytes == len(cookie)
    assert measurements["jwt"].request_bytes == measurements["jwt_stateless"].request_bytes
    assert measurements["jwt"].request_bytes > 10 * measurements["session"].request_bytes


def test_encrypted_access_tokens_are_measured_when_configured(user, settings):
    settings.JWT_ENCRYPT_ACCESS_TOKENS = True
    signed_bytes = auth_styles_measure(user=user, requests=REQUESTS)[2].request_bytes
    settings.JWT_ENCRYPT_ACCESS_TOKENS = False

    assert signed_bytes > auth_styles_measure(user=user, requests=REQUESTS)[2].request_bytes


def test_nothing_is_left_behind_inside_a_callers_transaction(user):
    """As from a page under ATOMIC_REQUESTS: the test's transaction stands in for the page's."""
    before = left_behind()

    measurements = auth_styles_measure(user=user, requests=REQUESTS)

    assert left_behind() == before
    assert len(measurements) == len(STYLES)
    # The caller's transaction is still usable.
    assert UserFactory().pk


@pytest.mark.django_db(transaction=True)
def test_nothing_is_left_behind_without_a_callers_transaction():
    """As from the management command, in autocommit: a real transaction, rolled back."""
    user = UserFactory()
    before = left_behind()

    auth_styles_measure(user=user, requests=REQUESTS)

    assert not transaction.get_connection().in_atomic_block
    assert left_behind() == before


def test_cache_sessions_are_deleted_afterwards(user, settings, monkeypatch):
    """The production engine: the session lives outside the database, so no rollback reaches it."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    made = []
    real_session_create = measurements_module.session_create

    def session_create(**kwargs):
        made.append(real_session_create(**kwargs))
        return made[-1]

    monkeypatch.setattr("compare.measurements.session_create", session_create)

    measurements = {m.style: m for m in auth_styles_measure(user=user, requests=REQUESTS)}

    assert measurements["session"].label == "Session cookie (cache sessions)"
    assert measurements["session"].queries_per_request == 1  # the user's row only
    assert not CacheSessionStore().exists(made[0].session_key or "")


def test_an_inactive_user_is_not_measured(user):
    """No token is issued to an inactive account, so nothing is timed as anonymous."""
    user.is_active = False
    user.save()

    with pytest.raises(InvalidCredentialsError):
        auth_styles_measure(user=user, requests=REQUESTS)


def test_at_least_one_request_is_timed(user):
    with pytest.raises(ValueError, match="at least 1"):
        auth_styles_measure(user=user, requests=0)


def test_the_probe_checks_revocation_for_everyone_else(user, client):
    """The stateless variant is the measurement's alone: through the site, a revoked token is
    refused by the probe as by the rest of the API."""
    pair = services.token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD)
    probe = reverse(AUTH_PROBE_URL_NAME)
    services.token_revoke(token=pair.access)

    response = client.get(probe, HTTP_AUTHORIZATION=f"Bearer {pair.access}")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"]["code"] == "token_revoked"


def test_the_stateless_variant_accepts_revoked_tokens(user, rf):
    """What it leaves out, on purpose: the revocation check."""
    pair = services.token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD)
    services.token_revoke(token=pair.access)
    request = rf.get("/", HTTP_AUTHORIZATION=f"Bearer {pair.access}")

    authenticated_user, token = StatelessBearerTokenAuthentication().authenticate(request)

    assert authenticated_user.pk == user.pk
    assert token.jti


def measured(style: str, median_us: float) -> StyleMeasurement:
    return StyleMeasurement(
        style=style,
        label=style,
        requests=1,
        median_us=median_us,
        p99_us=median_us,
        queries_per_request=0,
        request_bytes=0,
        ratio_to_baseline=1.0,
    )


def test_the_revocation_check_costs_the_difference_of_the_two_token_styles():
    measurements = [
        measured("none", 10.0),
        measured("session", 40.0),
        measured("jwt", 31.5),
        measured("jwt_stateless", 24.0),
    ]

    assert revocation_cost(measurements=measurements) == RevocationCost(
        stateless_us=24.0, revocable_us=31.5, check_us=7.5, session_us=40.0
    )


def test_a_check_lost_in_the_noise_costs_nothing_rather_than_less():
    measurements = [measured("session", 40.0), measured("jwt", 23.0), measured("jwt_stateless", 24)]

    assert revocation_cost(measurements=measurements).check_us == 0.0


def test_the_cost_of_a_real_measurement(user):
    measurements = auth_styles_measure(user=user, requests=REQUESTS)
    medians = {m.style: m.median_us for m in measurements}

    cost = revocation_cost(measurements=measurements)

    assert (cost.stateless_us, cost.revocable_us) == (medians["jwt_stateless"], medians["jwt"])
    assert cost.session_us == medians["session"]
    assert cost.check_us == max(0.0, medians["jwt"] - medians["jwt_stateless"])
