"""Rate limits of the token endpoints: per client address and per account (OWASP ASVS V6)."""

from http import HTTPStatus

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

OBTAIN = "/api/auth/token/"


@pytest.fixture
def rates(settings):
    def set_rates(address: str | None, account: str | None) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"token_address": address, "token_account": account},
        }

    return set_rates


def assert_throttled(response) -> None:
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    error = response.json()["error"]
    assert error["code"] == "throttled"
    assert int(response["Retry-After"]) == error["retry_after"] > 0
    assert response["Cache-Control"] == "no-store"


def test_one_account_is_limited_from_any_address(api_client, user, rates):
    rates(address=None, account="3/hour")
    for n in range(3):
        api_client.post(
            OBTAIN, {"username": user.username, "password": "wrong"}, REMOTE_ADDR=f"10.0.0.{n}"
        )

    response = api_client.post(
        OBTAIN, {"username": user.username, "password": "wrong"}, REMOTE_ADDR="10.0.0.99"
    )

    assert_throttled(response)


def test_an_accounts_username_and_email_share_one_limit(api_client, user, rates):
    rates(address=None, account="2/hour")
    api_client.post(OBTAIN, {"username": user.username, "password": "wrong"})
    api_client.post(OBTAIN, {"email": user.email.upper(), "password": "wrong"})

    assert_throttled(api_client.post(OBTAIN, {"username": user.email, "password": "wrong"}))


def test_unknown_accounts_are_limited_like_known_ones(api_client, user, rates):
    rates(address=None, account="2/hour")
    known = [
        api_client.post(OBTAIN, {"username": user.username, "password": "x"}) for _ in range(3)
    ]
    unknown = [api_client.post(OBTAIN, {"username": "ghost", "password": "x"}) for _ in range(3)]

    assert [r.status_code for r in known] == [r.status_code for r in unknown]


def test_other_accounts_are_not_affected(api_client, user, password, rates):
    rates(address=None, account="1/hour")
    api_client.post(OBTAIN, {"username": user.username, "password": "wrong"})
    someone = UserFactory()

    response = api_client.post(OBTAIN, {"username": someone.username, "password": password})

    assert response.status_code == HTTPStatus.OK


def test_one_address_is_limited_across_accounts(api_client, rates):
    rates(address="3/min", account=None)
    for n in range(3):
        api_client.post(OBTAIN, {"username": f"someone-{n}", "password": "x"})

    assert_throttled(api_client.post("/api/auth/token/refresh/", {"refresh": "x"}))
    other_address = api_client.post(
        OBTAIN, {"username": "someone", "password": "x"}, REMOTE_ADDR="10.1.1.1"
    )
    assert other_address.status_code == HTTPStatus.UNAUTHORIZED


def test_a_forged_forwarded_for_header_does_not_reset_the_limit(api_client, rates):
    rates(address="2/min", account=None)
    for n in range(2):
        api_client.post(
            OBTAIN, {"username": "x", "password": "x"}, HTTP_X_FORWARDED_FOR=f"1.2.3.{n}"
        )

    response = api_client.post(
        OBTAIN, {"username": "x", "password": "x"}, HTTP_X_FORWARDED_FOR="9.9.9.9"
    )

    assert_throttled(response)


def test_revoke_all_is_limited_per_user(api_client, user, rates):
    rates(address=None, account="1/hour")
    api_client.force_login(user)
    api_client.post("/api/auth/token/revoke-all/")

    assert_throttled(api_client.post("/api/auth/token/revoke-all/"))
