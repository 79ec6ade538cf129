"""Local accounts: sign up with an email and a password, verify the email, then you are in."""

import re
from http import HTTPStatus

import pytest
from django.core import mail

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_sign_up_needs_the_email_verified_before_signing_in(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "new@example.com",
            "password1": "a-long-pass-phrase",
            "password2": "a-long-pass-phrase",
        },
    )

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/accounts/confirm-email/"
    assert User.objects.filter(email="new@example.com").exists()
    assert "_auth_user_id" not in client.session
    (message,) = mail.outbox
    link = re.search(r"http://testserver(/accounts/confirm-email/\S+/)", message.body).group(1)

    client.post(link)

    assert client.session["_auth_user_id"] == str(User.objects.get(email="new@example.com").pk)


def test_an_unknown_email_and_a_wrong_password_get_the_same_answer(client, user):
    """OWASP ASVS V6: no way to tell which accounts exist from the sign-in form."""
    unknown = client.post("/accounts/login/", {"login": "nobody@example.com", "password": "x" * 12})
    wrong = client.post("/accounts/login/", {"login": user.email, "password": "x" * 12})

    assert unknown.status_code == wrong.status_code == HTTPStatus.OK
    assert unknown.context["form"].errors == wrong.context["form"].errors
