"""A second factor counts where this session used it (OWASP ASVS V6, V7): pages that mint
credentials ask a password-only session to confirm it; removing, replacing or revealing one asks
for it used within the last few minutes, however recent a password reauthentication; adding or
removing an authenticator signs the person's other sessions out."""

from http import HTTPStatus

import pytest
from allauth.account import app_settings as account_settings
from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import Client

from api.models import TokenFamily
from tests.conftest import sign_in_with_second_factor, totp_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_totp(user, settings):
    settings.MFA_TOTP_TOLERANCE = 1
    user.totp_secret = generate_totp_secret()
    TOTP.activate(user, user.totp_secret)
    return user


@pytest.mark.parametrize("page", ["/accounts/tokens/", "/compare/"])
def test_a_password_only_session_confirms_the_second_factor_before_minting(client, with_totp, page):
    client.force_login(with_totp)

    response = client.post(page, {"name": "script"}) if "tokens" in page else client.get(page)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/2fa/reauthenticate/")
    assert not TokenFamily.objects.exists()


def test_a_session_that_used_the_second_factor_mints_tokens(client, with_totp, password):
    sign_in_with_second_factor(client, with_totp, password)

    response = client.post("/accounts/tokens/", {"name": "script"})

    assert response.status_code == HTTPStatus.OK
    assert TokenFamily.objects.filter(user=with_totp).count() == 1


def test_adding_an_authenticator_signs_the_other_sessions_out(
    user, password, settings, django_capture_on_commit_callbacks
):
    settings.MFA_TOTP_TOLERANCE = 1
    laptop, phone = Client(), Client()
    for device in (laptop, phone):
        device.post("/accounts/login/", {"login": user.email, "password": password})
    assert phone.get("/api/me/").status_code == HTTPStatus.OK

    laptop.post("/accounts/reauthenticate/", {"password": password})  # allauth asks it first
    form = laptop.get("/accounts/2fa/totp/activate/")
    secret = form.context["form"].secret
    # allauth announces the new authenticator once its transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        laptop.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})

    assert phone.get("/api/me/").status_code == HTTPStatus.UNAUTHORIZED
    assert laptop.get("/accounts/profile/").status_code == HTTPStatus.OK


@pytest.fixture
def staff_with_codes(admin_user, settings):
    """Staff with TOTP and recovery codes; a code is computed a moment before it is checked."""
    settings.MFA_TOTP_TOLERANCE = 1
    RecoveryCodes.activate(admin_user)
    return admin_user


@pytest.fixture
def password_only(client, staff_with_codes, password):
    """A session signed in without the second factor (here by force: a cookie taken from a
    session older than the authenticator), whose holder knows the password and has just
    reauthenticated with it: allauth's window for sensitive changes is open."""
    client.force_login(staff_with_codes)
    response = client.post("/accounts/reauthenticate/", {"password": password})
    assert response.status_code == HTTPStatus.FOUND
    return client


def second_factor_confirmed(client, user) -> None:
    response = client.post("/accounts/2fa/reauthenticate/", {"code": totp_code(user.totp_secret)})
    assert response.status_code == HTTPStatus.FOUND


def authenticators(user) -> set[str]:
    return set(Authenticator.objects.filter(user=user).values_list("type", flat=True))


def test_a_password_reauthentication_cannot_swap_the_second_factor_to_enter_the_admin(
    password_only, staff_with_codes
):
    """The chain: remove the TOTP, enrol one's own, confirm it, open the admin. It stops at the
    first step, which asks for the second factor the session never used."""
    deactivated = password_only.post("/accounts/2fa/totp/deactivate/")
    activate = password_only.get("/accounts/2fa/totp/activate/")
    admin = password_only.get("/admin/")

    assert deactivated.status_code == HTTPStatus.FOUND
    assert deactivated["Location"] == (
        "/accounts/2fa/reauthenticate/?next=%2Faccounts%2F2fa%2Ftotp%2Fdeactivate%2F"
    )
    assert authenticators(staff_with_codes) == {"totp", "recovery_codes"}
    assert activate["Location"].startswith("/accounts/2fa/reauthenticate/")
    assert admin["Location"].startswith("/accounts/2fa/reauthenticate/")


@pytest.mark.parametrize(
    ("method", "page"),
    [
        ("post", "/accounts/2fa/totp/deactivate/"),
        ("get", "/accounts/2fa/totp/activate/"),
        ("post", "/accounts/2fa/recovery-codes/generate/"),
        # Reading a recovery code is holding a second factor.
        ("get", "/accounts/2fa/recovery-codes/"),
        ("get", "/accounts/2fa/recovery-codes/download/"),
    ],
)
def test_a_password_reauthentication_does_not_open_what_removes_replaces_or_reveals_a_factor(
    password_only, staff_with_codes, method, page
):
    codes_before = staff_with_codes.authenticator_set.get(type="recovery_codes").data

    response = getattr(password_only, method)(page)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/2fa/reauthenticate/?next=")
    assert authenticators(staff_with_codes) == {"totp", "recovery_codes"}
    assert staff_with_codes.authenticator_set.get(type="recovery_codes").data == codes_before


def test_a_recovery_code_read_after_a_password_reauthentication_never_opens_the_admin(
    password_only, staff_with_codes
):
    page = password_only.get("/accounts/2fa/recovery-codes/").content.decode()
    codes = RecoveryCodes(staff_with_codes.authenticator_set.get(type="recovery_codes"))

    assert not [code for code in codes.get_unused_codes() if code in page]
    assert password_only.get("/admin/").status_code == HTTPStatus.FOUND


def test_the_second_factor_used_moments_ago_lets_the_person_replace_it(
    password_only, staff_with_codes
):
    second_factor_confirmed(password_only, staff_with_codes)

    response = password_only.post("/accounts/2fa/totp/deactivate/")

    assert response["Location"] == "/accounts/2fa/"
    assert authenticators(staff_with_codes) == set()


def test_a_second_factor_used_longer_ago_than_the_window_must_be_used_again(
    password_only, staff_with_codes
):
    """allauth's reauthentication window (ACCOUNT_REAUTHENTICATION_TIMEOUT) bounds it too."""
    second_factor_confirmed(password_only, staff_with_codes)
    session = password_only.session
    for record in session[AUTHENTICATION_METHODS_SESSION_KEY]:
        record["at"] -= account_settings.REAUTHENTICATION_TIMEOUT + 1
    session.save()

    response = password_only.post("/accounts/2fa/totp/deactivate/")

    assert response["Location"].startswith("/accounts/2fa/reauthenticate/")
    assert authenticators(staff_with_codes) == {"totp", "recovery_codes"}


def test_a_person_without_a_second_factor_enrols_one_after_a_password_reauthentication(
    client, user, password, settings
):
    settings.MFA_TOTP_TOLERANCE = 1
    client.force_login(user)
    client.post("/accounts/reauthenticate/", {"password": password})
    secret = client.get("/accounts/2fa/totp/activate/").context["form"].secret

    response = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})

    assert response["Location"] == "/accounts/2fa/recovery-codes/"
    assert authenticators(user) == {"totp", "recovery_codes"}
