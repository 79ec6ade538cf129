"""Safe account linking: a provider's email joins an existing account only when both are verified.

Pre-account hijacking: whoever registered an address without proving it must never end up
sharing an account with the address's owner, nor an unverified provider email take one over.
"""

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount

from accounts.models import User
from tests.accounts.oauth_driver import sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("emulator")]


def test_a_verified_provider_email_joins_the_account_whose_email_is_verified(client):
    existing = UserFactory(email="ada@example.com")

    sign_in(client, "github", "ada")

    assert client.session["_auth_user_id"] == str(existing.pk)
    assert SocialAccount.objects.get().user == existing


def assert_told_to_check_email_and_owner_warned(client, response, mailoutbox, email) -> None:
    """allauth answers as for a new sign-up, so nobody learns which addresses have accounts, and
    mails the address's owner that an account exists and how to recover it."""
    assert response["Location"] == "/accounts/confirm-email/"
    assert "_auth_user_id" not in client.session
    assert User.objects.count() == 1
    assert not SocialAccount.objects.exists()
    (message,) = mailoutbox
    assert message.to == [email]
    assert "already exists" in message.body


def test_a_verified_provider_email_does_not_join_an_account_whose_email_is_unverified(
    client, mailoutbox
):
    squatter = UserFactory(email="ada@example.com", verified_email=False)
    EmailAddress.objects.create(user=squatter, email=squatter.email, verified=False, primary=True)

    response = sign_in(client, "github", "ada")

    assert_told_to_check_email_and_owner_warned(client, response, mailoutbox, "ada@example.com")


def test_an_unverified_provider_email_never_takes_over_an_existing_account(client, mailoutbox):
    UserFactory(email="grace@example.com")

    response = sign_in(client, "github", "grace")

    assert_told_to_check_email_and_owner_warned(client, response, mailoutbox, "grace@example.com")


def test_google_unverified_email_never_takes_over_an_existing_account(client):
    owner = UserFactory(email="barbara@example.com")

    sign_in(client, "google", "barbara")

    assert client.session.get("_auth_user_id") != str(owner.pk)
    assert not SocialAccount.objects.filter(user=owner).exists()


def test_a_new_person_with_an_unverified_provider_email_must_verify_it_first(client, mailoutbox):
    response = sign_in(client, "github", "grace")

    assert response["Location"] == "/accounts/confirm-email/"
    assert "_auth_user_id" not in client.session
    assert mailoutbox[0].to == ["grace@example.com"]
