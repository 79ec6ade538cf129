"""The pages that say "we sent you an email" say where it is: in development (Django's console
backend) in the `make run` terminal, otherwise in the inbox or the spam folder."""

from http import HTTPStatus

import pytest

pytestmark = pytest.mark.django_db

CONSOLE = "django.core.mail.backends.console.EmailBackend"
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


def sign_up(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "new@example.com",
            "password1": "a-long-pass-phrase",
            "password2": "a-long-pass-phrase",
        },
        follow=True,
    )
    assert response.status_code == HTTPStatus.OK
    assert response.redirect_chain[-1][0] == "/accounts/confirm-email/"
    return response.content.decode()


def test_in_development_the_confirmation_page_points_at_the_make_run_terminal(
    client, settings, capsys
):
    settings.EMAIL_BACKEND = CONSOLE

    html = sign_up(client)

    assert "Verify your email address" in html
    assert "the terminal where <code>make run</code> is running" in html
    assert "spam" not in html
    assert "/accounts/confirm-email/" in capsys.readouterr().out


def test_with_real_mail_the_confirmation_page_says_to_check_the_spam_folder(client, settings):
    settings.EMAIL_BACKEND = LOCMEM

    html = sign_up(client)

    assert "check your\n    spam folder" in html
    assert "make run" not in html


@pytest.mark.parametrize(("backend", "says"), [(CONSOLE, "make run"), (LOCMEM, "spam folder")])
def test_the_password_reset_page_says_where_the_mail_is(client, settings, user, backend, says):
    settings.EMAIL_BACKEND = backend

    response = client.post("/accounts/password/reset/", {"email": user.email}, follow=True)

    html = response.content.decode()
    assert "follow its link to choose a new password" in html
    assert says in html.replace("\n    ", " ")
