"""Behind N trusted proxies the client is the Nth address from the right of X-Forwarded-For.

What a client writes further left is ignored, so a forged header can neither hide an address
nor reset a rate limit (OWASP ASVS V6: rate limits on every credential endpoint).
"""

from http import HTTPStatus

import pytest

pytestmark = pytest.mark.django_db

LOAD_BALANCER = "10.0.0.2"
CLIENT = "203.0.113.9"


def forged(n: int) -> dict[str, str]:
    """The client writes a fresh address each time; the load balancer appends the real one."""
    return {"REMOTE_ADDR": LOAD_BALANCER, "HTTP_X_FORWARDED_FOR": f"198.51.100.{n}, {CLIENT}"}


@pytest.fixture
def one_trusted_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "NUM_PROXIES": 1,
        "DEFAULT_THROTTLE_RATES": {"token_address": "3/min", "token_account": "100/min"},
    }


@pytest.mark.usefixtures("one_trusted_proxy")
def test_a_forged_forwarded_for_does_not_reset_the_token_endpoints_limit(client):
    answers = [
        client.post(
            "/api/auth/token/",
            {"username": f"nobody{n}@example.com", "password": "wrong-password"},
            content_type="application/json",
            **forged(n),
        )
        for n in range(4)
    ]

    assert [a.status_code for a in answers] == [401, 401, 401, HTTPStatus.TOO_MANY_REQUESTS]
    assert int(answers[-1]["Retry-After"]) > 0


@pytest.mark.usefixtures("one_trusted_proxy")
def test_a_forged_forwarded_for_does_not_reset_the_sign_in_limit(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "3/m/ip"}

    pages = [
        client.post(
            "/accounts/login/",
            {"login": f"nobody{n}@example.com", "password": "wrong-password"},
            **forged(n),
        ).content.decode()
        for n in range(4)
    ]

    refused = ["Too many failed login attempts" in page for page in pages]
    assert refused == [False, False, False, True]


@pytest.mark.usefixtures("one_trusted_proxy")
def test_different_clients_behind_the_same_balancer_have_their_own_limits(client):
    for n in range(3):
        client.post(
            "/api/auth/token/",
            {"username": "a@example.com", "password": "wrong"},
            content_type="application/json",
            **forged(n),
        )

    other = client.post(
        "/api/auth/token/",
        {"username": "a@example.com", "password": "wrong"},
        content_type="application/json",
        REMOTE_ADDR=LOAD_BALANCER,
        HTTP_X_FORWARDED_FOR="203.0.113.77",
    )

    assert other.status_code == HTTPStatus.UNAUTHORIZED
