"""Rate limits of the token endpoints, after OWASP's Authentication Cheat Sheet ("Protect against
automated attacks") and ASVS 5.0 V6.3: per client address; failed passwords per login from one
address (the main brake) and from every address (a brake that never locks the owner out); a
login counted as typed, so no limit tells which logins share an account."""

import datetime as dt
from http import HTTPStatus

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework.exceptions import Throttled
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from api import clock
from api.exceptions import InvalidCredentialsError
from api.throttling import password_attempt, rate_parse
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

OBTAIN = "/api/auth/token/"
OWNER_ADDRESS = "192.0.2.1"
ATTACKER = "198.51.100.7"

UNLIMITED = None


@pytest.fixture
def rates(settings):
    def set_rates(
        *,
        address: str | None = UNLIMITED,
        account_address: str | None = UNLIMITED,
        account: str | None = UNLIMITED,
        user: str | None = UNLIMITED,
    ) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                "token_address": address,
                "token_account_address": account_address,
                "token_account": account,
                "token_user": user,
            },
        }

    return set_rates


@pytest.fixture
def later(monkeypatch):
    """Move the API's clock forward by some seconds."""
    offset = dt.timedelta()
    real_now = clock.now

    def move(seconds: float) -> None:
        nonlocal offset
        offset += dt.timedelta(seconds=seconds)

    monkeypatch.setattr(clock, "now", lambda: real_now() + offset)
    return move


def obtain(api_client, login: str, password: str, address: str, field: str = "username"):
    return api_client.post(OBTAIN, {field: login, "password": password}, REMOTE_ADDR=address)


def assert_throttled(response) -> None:
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    error = response.json()["error"]
    assert error["code"] == "throttled"
    assert int(response["Retry-After"]) == error["retry_after"] > 0
    assert response["Cache-Control"] == "no-store"


def test_the_default_rates(settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]

    assert {scope: rate_parse(rate) for scope, rate in rates.items()} == {
        "token_address": (60, 60),
        "token_account_address": (10, 900),
        "token_account": (100, 3600),
        "token_user": (20, 3600),
        "oauth_introspect": (6000, 60),
    }


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [("60/min", (60, 60)), ("10/15min", (10, 900)), ("3/2h", (3, 7200)), ("1/s", (1, 1))],
)
def test_rates_may_multiply_their_period(rate, parsed):
    assert rate_parse(rate) == parsed


def test_a_malformed_rate_is_refused():
    with pytest.raises(ImproperlyConfigured):
        rate_parse("10 per minute")


def test_the_owner_gets_in_from_a_new_address_after_a_thousand_failures_elsewhere(
    api_client, user, password
):
    """The default rates; 1,000 wrong passwords from 100 addresses within the hour."""
    for n in range(1000):
        obtain(api_client, user.username, "wrong", address=f"10.0.0.{n // 10}")

    owner = obtain(api_client, user.username, password, address=OWNER_ADDRESS)

    assert owner.status_code == HTTPStatus.OK
    assert_throttled(obtain(api_client, user.username, password, address="10.0.0.42"))


def test_under_attack_an_address_that_failed_waits_and_a_new_one_may_try(
    api_client, user, password, rates
):
    rates(account_address="10/15min", account="5/hour")
    obtain(api_client, user.username, "typo", address=OWNER_ADDRESS)
    for n in range(5):
        obtain(api_client, user.username, "wrong", address=f"10.0.0.{n}")

    from_an_address_that_failed = obtain(api_client, user.username, password, OWNER_ADDRESS)
    from_a_new_address = obtain(api_client, user.username, "wrong", address="10.9.9.9")

    assert_throttled(from_an_address_that_failed)
    assert int(from_an_address_that_failed["Retry-After"]) <= 15 * 60
    assert from_a_new_address.status_code == HTTPStatus.UNAUTHORIZED


def test_one_login_from_one_address_is_slowed(api_client, user, password, rates):
    rates(account_address="3/15min")
    answers = [obtain(api_client, user.username, "wrong", ATTACKER) for _ in range(3)]

    refused = obtain(api_client, user.username, password, ATTACKER)

    assert [a.status_code for a in answers] == [HTTPStatus.UNAUTHORIZED] * 3
    assert_throttled(refused)
    assert int(refused["Retry-After"]) <= 15 * 60
    assert obtain(api_client, user.username, password, OWNER_ADDRESS).status_code == HTTPStatus.OK


def test_the_login_may_try_again_once_its_window_has_passed(
    api_client, user, password, rates, later
):
    rates(account_address="2/15min")
    for _ in range(2):
        obtain(api_client, user.username, "wrong", ATTACKER)
    assert_throttled(obtain(api_client, user.username, password, ATTACKER))

    later(15 * 60)

    assert obtain(api_client, user.username, password, ATTACKER).status_code == HTTPStatus.OK


def test_spellings_of_one_login_count_together(api_client, user, rates):
    rates(account_address="2/15min")
    obtain(api_client, user.email, "wrong", ATTACKER)
    obtain(api_client, f"  {user.email.upper()} ", "wrong", ATTACKER)

    assert_throttled(obtain(api_client, user.email, "wrong", ATTACKER))


def test_a_usernames_limit_does_not_touch_its_accounts_email(api_client, user, password, rates):
    """No linkage: the throttle keys on the login as typed, never on the account it names."""
    rates(account_address="2/15min", account="2/hour")
    for _ in range(2):
        obtain(api_client, user.username, "wrong", ATTACKER)
    assert_throttled(obtain(api_client, user.username, "wrong", ATTACKER))

    by_email = obtain(api_client, user.email, "wrong", ATTACKER, field="email")
    as_username = obtain(api_client, user.email, password, ATTACKER)

    assert by_email.status_code == HTTPStatus.UNAUTHORIZED
    assert as_username.status_code == HTTPStatus.OK


def test_known_and_unknown_logins_are_limited_alike(api_client, user, rates):
    rates(account_address="2/15min")
    known = [obtain(api_client, user.username, "x", ATTACKER) for _ in range(3)]
    unknown = [obtain(api_client, "ghost", "x", ATTACKER) for _ in range(3)]

    assert [r.status_code for r in known] == [r.status_code for r in unknown]
    assert known[-1].json()["error"]["code"] == unknown[-1].json()["error"]["code"]


def test_a_correct_password_does_not_count_as_a_failure(api_client, user, password, rates):
    rates(account_address="2/15min", account="2/hour")
    answers = [obtain(api_client, user.username, password, OWNER_ADDRESS) for _ in range(5)]
    answers.append(obtain(api_client, user.username, "typo", OWNER_ADDRESS))
    answers.append(obtain(api_client, user.username, password, OWNER_ADDRESS))

    assert [a.status_code for a in answers] == [HTTPStatus.OK] * 5 + [
        HTTPStatus.UNAUTHORIZED,
        HTTPStatus.OK,
    ]


def test_a_refused_request_does_not_count_as_a_failure(api_client, user, password, rates):
    rates(account_address="1/15min")
    for _ in range(3):
        api_client.post(OBTAIN, {"username": user.username}, REMOTE_ADDR=ATTACKER)

    assert obtain(api_client, user.username, password, ATTACKER).status_code == HTTPStatus.OK


def test_other_logins_are_not_affected(api_client, user, password, rates):
    rates(account_address="1/15min", account="1/hour")
    obtain(api_client, user.username, "wrong", ATTACKER)
    someone = UserFactory()

    assert obtain(api_client, someone.username, password, ATTACKER).status_code == HTTPStatus.OK


def test_the_throttle_asks_no_database(api_client, user, rates, django_assert_num_queries):
    rates(account_address="1/15min", account="1/hour")
    request = Request(
        APIRequestFactory().post(
            OBTAIN, {"username": user.username, "password": "x"}, format="json"
        ),
        parsers=[JSONParser()],
    )
    with (
        django_assert_num_queries(0),
        pytest.raises(InvalidCredentialsError),
        password_attempt(request),
    ):
        raise InvalidCredentialsError()
    with django_assert_num_queries(0), pytest.raises(Throttled), password_attempt(request):
        pass
    with django_assert_num_queries(0):
        assert_throttled(obtain(api_client, user.username, "x", "127.0.0.1"))


def test_one_address_is_limited_across_logins(api_client, rates):
    rates(address="3/min")
    for n in range(3):
        obtain(api_client, f"someone-{n}", "x", ATTACKER)

    assert_throttled(
        api_client.post("/api/auth/token/refresh/", {"refresh": "x"}, REMOTE_ADDR=ATTACKER)
    )
    other_address = obtain(api_client, "someone", "x", OWNER_ADDRESS)
    assert other_address.status_code == HTTPStatus.UNAUTHORIZED


def test_an_ipv6_client_is_counted_by_its_64(api_client, rates):
    rates(address="2/min")
    obtain(api_client, "x", "x", "2001:db8:1:2::1")
    obtain(api_client, "x", "x", "2001:db8:1:2:ffff::9")

    assert_throttled(obtain(api_client, "x", "x", "2001:db8:1:2::abcd"))
    assert obtain(api_client, "x", "x", "2001:db8:1:3::1").status_code == HTTPStatus.UNAUTHORIZED


def test_a_forged_forwarded_for_header_does_not_reset_the_limit(api_client, rates):
    rates(address="2/min", account_address="100/15min")
    for n in range(2):
        api_client.post(
            OBTAIN, {"username": "x", "password": "x"}, HTTP_X_FORWARDED_FOR=f"1.2.3.{n}"
        )

    response = api_client.post(
        OBTAIN, {"username": "x", "password": "x"}, HTTP_X_FORWARDED_FOR="9.9.9.9"
    )

    assert_throttled(response)


def test_revoke_all_is_limited_per_user(api_client, user, rates):
    rates(user="1/hour")
    api_client.force_login(user)
    api_client.post("/api/auth/token/revoke-all/")

    assert_throttled(api_client.post("/api/auth/token/revoke-all/"))
