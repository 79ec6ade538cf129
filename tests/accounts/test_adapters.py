"""accounts.adapters: one application per provider, whatever is configured where; failed
passwords at the web sign-in slow their address down without locking the owner out."""

from http import HTTPStatus

import pytest
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialApp
from django.contrib.sites.models import Site
from django.test import Client, RequestFactory

from config.settings.providers import social_providers
from tests.conftest import totp_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_():
    return RequestFactory().get("/")


def admin_app(provider: str, client_id: str, provider_id: str = "") -> SocialApp:
    app = SocialApp.objects.create(
        provider=provider, provider_id=provider_id, name=client_id, client_id=client_id, secret="s"
    )
    app.sites.add(Site.objects.get_current())
    return app


def test_the_emulator_stands_in_when_nothing_else_is_configured(request_):
    app = get_adapter().get_app(request_, "github")

    assert app.settings["emulator"] is True
    assert app.client_id == "signin-lab-github-emulator"


def test_an_application_from_admin_replaces_the_emulator(request_):
    admin_app("github", "from-admin")

    assert get_adapter().get_app(request_, "github").client_id == "from-admin"


def test_the_environment_wins_over_admin_and_no_multiple_objects_error(
    request_, settings, monkeypatch
):
    """allauth raises MultipleObjectsReturned when settings and the database both hold an app."""
    monkeypatch.setenv("GITHUB_CLIENT_ID", "from-env")
    monkeypatch.setenv("GITHUB_CLIENT_SECRET", "env-secret")
    settings.SOCIALACCOUNT_PROVIDERS = social_providers(
        __import__("environ").Env(), emulator_url="http://localhost:1", emulator_secret="x"
    )
    admin_app("github", "from-admin")
    admin_app("github", "second-from-admin")

    apps = get_adapter().list_apps(request_, provider="github")

    assert [app.client_id for app in apps] == ["from-env"]
    assert get_adapter().get_app(request_, "github").client_id == "from-env"


def test_openid_connect_providers_are_kept_apart(request_):
    admin_app("openid_connect", "keycloak-client", provider_id="keycloak")
    admin_app("openid_connect", "okta-client", provider_id="okta")

    apps = get_adapter().list_apps(request_, provider="openid_connect")

    assert sorted(app.provider_id for app in apps) == ["keycloak", "okta"]


OWNER = "192.0.2.1"
ATTACKER = "198.51.100.7"
REFUSED = "Too many failed login attempts"


def sign_in(login: str, password: str, address: str):
    return Client().post(
        "/accounts/login/", {"login": login, "password": password}, REMOTE_ADDR=address
    )


def signed_in(response) -> bool:
    return response.status_code == HTTPStatus.FOUND


def refused(response) -> bool:
    return REFUSED in response.content.decode()


def test_wrong_passwords_from_one_address_do_not_lock_the_owner_out_of_another(user, password):
    """allauth's default (5 failures per login from anywhere, for 5 minutes) let a stranger lock
    anyone out by typing their email; the admin signs in through this same form."""
    for _ in range(10):
        sign_in(user.email, "wrong-password", ATTACKER)

    assert signed_in(sign_in(user.email, password, OWNER))


def test_the_attackers_address_is_slowed_down_even_with_the_right_password(user, password):
    attempts = [sign_in(user.email, "wrong-password", ATTACKER) for _ in range(11)]

    assert [refused(attempt) for attempt in attempts] == [False] * 10 + [True]
    assert refused(sign_in(user.email, password, ATTACKER))


def test_spellings_of_one_email_count_together(user, settings):
    settings.SIGN_IN_RATE_PER_ACCOUNT_ADDRESS = "2/15min"
    spellings = [user.email, f" {user.email.upper()} ", user.email.title()]

    attempts = [sign_in(login, "wrong-password", ATTACKER) for login in spellings]

    assert [refused(attempt) for attempt in attempts] == [False, False, True]


def test_many_addresses_together_are_bounded_per_account_and_the_owner_still_gets_in(
    user, password, settings
):
    """Past the limit for the login from every address, the addresses that failed for it wait,
    even with the right password; an address that has not (the owner's) may still try."""
    settings.SIGN_IN_RATE_PER_ACCOUNT = "5/hour"
    botnet = [f"203.0.113.{n}" for n in range(5)]
    for address in botnet:
        sign_in(user.email, "wrong-password", address)

    assert all(refused(sign_in(user.email, password, address)) for address in botnet)
    assert signed_in(sign_in(user.email, password, OWNER))


def test_a_correct_password_does_not_count_as_a_failure(user, password, settings):
    settings.SIGN_IN_RATE_PER_ACCOUNT_ADDRESS = "2/15min"

    attempts = [sign_in(user.email, password, OWNER) for _ in range(3)]

    assert all(signed_in(attempt) for attempt in attempts)


def test_second_factor_codes_stay_limited_per_person(client, admin_user, password, settings):
    """allauth's "login_failed" limit, no longer applied to passwords, still guards the code."""
    settings.MFA_TOTP_TOLERANCE = 1
    client.post("/accounts/login/", {"login": admin_user.email, "password": password})
    for _ in range(5):
        client.post("/accounts/2fa/authenticate/", {"code": "000000"})

    response = client.post(
        "/accounts/2fa/authenticate/", {"code": totp_code(admin_user.totp_secret)}
    )

    assert refused(response)
    assert "_auth_user_id" not in client.session
