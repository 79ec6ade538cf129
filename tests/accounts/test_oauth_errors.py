"""A sign-in that goes wrong ends on a clear page and creates nothing: no account, session or link.

Covers what real providers do wrong (RFC 6749 §4.1.2.1 errors, failures of the token and API
endpoints) and what attackers try (RFC 9700 §4.7: a forged, missing or replayed `state`; §4.5: a
replayed authorization code).
"""

import logging
from http import HTTPStatus

import pytest
from allauth.socialaccount.models import SocialAccount

from accounts.models import OAuthFlowRecord, User
from tests.accounts.oauth_driver import consent, flow_start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("emulator")]

EMULATOR_SECRET = "test-emulator-client-secret"


def assert_nothing_created(client) -> None:
    assert not User.objects.exists()
    assert not SocialAccount.objects.exists()
    assert not OAuthFlowRecord.objects.exists()
    assert "_auth_user_id" not in client.session


def problem_of(response) -> str:
    html = response.content.decode()
    assert 'data-testid="sign-in-error"' in html, html
    assert "Try again" in html
    return html.split('data-problem="', 1)[1].split('"', 1)[0]


@pytest.mark.parametrize("provider", ["github", "google"])
def test_denied_consent_says_so_and_creates_nothing(client, provider):
    start = flow_start(client, provider)
    answer = consent(start.authorize_url, {"decision": "deny"})

    response = client.get(answer.callback_path, follow=True)

    assert problem_of(response) == "cancelled"
    assert_nothing_created(client)


@pytest.mark.parametrize("provider", ["github", "google"])
@pytest.mark.parametrize(
    ("identity", "problem"),
    [
        ("token-500", "token_refused"),
        ("token-garbage", "token_refused"),
        ("token-slow", "timeout"),
        ("token-down", "unreachable"),
        ("api-500", "provider_error"),
    ],
)
def test_a_provider_failing_ends_on_a_clear_page_and_creates_nothing(
    client, caplog, provider, identity, problem
):
    caplog.set_level(logging.DEBUG)
    start = flow_start(client, provider)
    answer = consent(start.authorize_url, {"identity": identity})

    response = client.get(answer.callback_path)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert problem_of(response) == problem
    assert_nothing_created(client)
    for secret in (answer.code, EMULATOR_SECRET):
        assert secret not in response.content.decode()
        assert secret not in caplog.text


def test_a_forged_state_is_refused(client):
    start = flow_start(client, "github")
    answer = consent(start.authorize_url, {"identity": "ada"})
    forged = answer.callback_path.replace(f"state={answer.state}", "state=forged-state-value")

    response = client.get(forged)

    assert problem_of(response) == "state"
    assert_nothing_created(client)


def test_a_missing_state_is_refused(client):
    start = flow_start(client, "github")
    answer = consent(start.authorize_url, {"identity": "ada"})

    response = client.get(f"/accounts/github/login/callback/?code={answer.code}")

    assert problem_of(response) == "state"
    assert_nothing_created(client)


def test_a_callback_from_a_flow_another_browser_started_is_refused(client):
    """Login CSRF: the attacker's code and state, delivered to the victim's browser."""
    from django.test import Client

    attacker = Client()
    start = flow_start(attacker, "github")
    answer = consent(start.authorize_url, {"identity": "ada"})

    response = client.get(answer.callback_path)

    assert problem_of(response) == "state"
    assert_nothing_created(client)


def test_a_replayed_callback_is_refused(client):
    start = flow_start(client, "github")
    answer = consent(start.authorize_url, {"identity": "ada"})
    client.get(answer.callback_path)
    client.post("/accounts/logout/")

    response = client.get(answer.callback_path)

    assert problem_of(response) == "state"
    assert User.objects.count() == 1
    assert "_auth_user_id" not in client.session


def test_a_replayed_code_with_a_fresh_state_is_refused_by_the_provider(client):
    first = flow_start(client, "github")
    used = consent(first.authorize_url, {"identity": "ada"})
    client.get(used.callback_path)
    client.post("/accounts/logout/")
    User.objects.all().delete()

    second = flow_start(client, "github")
    response = client.get(f"/accounts/github/login/callback/?code={used.code}&state={second.state}")

    assert problem_of(response) == "token_refused"
    assert_nothing_created(client)
