"""A second factor counts where this session used it (OWASP ASVS V6, V7): pages that mint
credentials ask a password-only session to confirm it, and adding or removing an authenticator
signs the person's other sessions out."""

from http import HTTPStatus

import pytest
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
