"""The admin site: entered through allauth's sign-in, and only with a second factor."""

from http import HTTPStatus

import pytest
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)

from accounts.services import demo_admin_ensure
from tests.conftest import totp_code
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_admin_login_goes_through_the_sites_sign_in(client):
    """allauth's rate limits and MFA stage apply only on its own sign-in (secure_admin_login)."""
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"


def test_staff_without_a_second_factor_are_sent_to_set_one_up(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.get("/admin/")

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/2fa/totp/activate/")


def test_staff_with_a_second_factor_get_in(admin_client):
    assert admin_client.get("/admin/").status_code == HTTPStatus.OK


def test_a_signed_in_non_staff_person_is_refused(client, user):
    client.force_login(user)

    assert client.get("/admin/login/").status_code == HTTPStatus.FORBIDDEN


def test_staff_sign_in_asks_for_the_code_then_opens_the_admin(client, password, settings):
    # The code is computed a moment before it is checked: a 30 s window may turn in between.
    settings.MFA_TOTP_TOLERANCE = 1
    staff = UserFactory(is_staff=True, is_superuser=True)
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)

    response = client.post(
        "/accounts/login/", {"login": staff.email, "password": password, "next": "/admin/"}
    )
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session

    code = format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))
    response = client.post("/accounts/2fa/authenticate/", {"code": code})

    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == HTTPStatus.OK


def test_a_session_signed_in_without_the_second_factor_must_confirm_it(client, admin_user):
    """The rule is about this session, not the account: a session signed in before the
    authenticator was added (here, by force) is sent to confirm the code first."""
    client.force_login(admin_user)

    response = client.get("/admin/")

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/2fa/reauthenticate/?next=%2Fadmin%2F")


def test_confirming_the_code_opens_the_admin(client, admin_user, settings):
    settings.MFA_TOTP_TOLERANCE = 1
    client.force_login(admin_user)

    client.post("/accounts/2fa/reauthenticate/", {"code": totp_code(admin_user.totp_secret)})

    assert client.get("/admin/").status_code == HTTPStatus.OK


def test_the_readme_admin_path_sign_in_password_again_authenticator_then_a_code(client, settings):
    """README, "The admin, step by step", as a first-time admin walks it."""
    settings.MFA_TOTP_TOLERANCE = 1
    demo_admin_ensure(password="the printed password")

    # 1. Sign in on the site's page with the email and the password make run printed.
    response = client.post(
        "/accounts/login/",
        {"login": "admin@example.com", "password": "the printed password", "next": "/admin/"},
    )
    assert response["Location"] == "/admin/"
    # 2. The admin sends staff without an authenticator to add one; allauth asks the password
    # again first.
    activate = client.get("/admin/")["Location"]
    assert activate.startswith("/accounts/2fa/totp/activate/")
    reauthenticate = client.get(activate)["Location"]
    assert reauthenticate.startswith("/accounts/reauthenticate/")
    assert client.post(reauthenticate, {"password": "the printed password"})["Location"] == activate
    # 3. Add the authenticator app: its secret, then a code from it.
    secret = client.get(activate).context["form"].secret
    response = client.post(activate, {"code": totp_code(secret)})
    assert response.status_code == HTTPStatus.FOUND
    # 4. Back to the admin: a code from the app confirms this session, and the admin opens.
    confirm = client.get("/admin/")["Location"]
    assert confirm.startswith("/accounts/2fa/reauthenticate/")
    response = client.post(confirm, {"code": totp_code(secret)})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == HTTPStatus.OK
