"""Any standard OpenID Connect provider, added in Django admin with no code, signs people in.

The Google emulator's discovery document stands in for an in-house provider (Keycloak, Okta...).
"""

from http import HTTPStatus

import pytest
from allauth.socialaccount.models import SocialAccount, SocialApp

from tests.accounts.oauth_driver import consent, flow_start
from tests.conftest import OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_PROVIDER_ID
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("emulator")]


@pytest.fixture
def oidc_app(admin_client, emulator):
    """Registered the way an admin does it: the SocialApp form, nothing else."""
    response = admin_client.post(
        "/admin/socialaccount/socialapp/add/",
        {
            "provider": "openid_connect",
            "provider_id": OIDC_PROVIDER_ID,
            "name": "In-house sign-in",
            "client_id": OIDC_CLIENT_ID,
            "secret": OIDC_CLIENT_SECRET,
            "key": "",
            "settings": f'{{"server_url": "{emulator}/google"}}',
            "sites": [1],
        },
    )
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()
    admin_client.post("/accounts/logout/")
    return SocialApp.objects.get(provider_id=OIDC_PROVIDER_ID)


def test_the_provider_appears_on_the_login_page(client, oidc_app):
    html = client.get("/accounts/login/").content.decode()

    assert f'action="/accounts/oidc/{OIDC_PROVIDER_ID}/login/?process=login"' in html
    assert "Sign in with In-house sign-in" in html


def test_a_person_signs_in_through_it_with_pkce_and_the_flow_is_recorded(client, oidc_app):
    start = flow_start(client, f"oidc/{OIDC_PROVIDER_ID}")
    assert "code_challenge_method=S256" in start.authorize_url
    answer = consent(start.authorize_url, {"identity": "alan"})

    response = client.get(answer.callback_path)

    assert response.status_code == HTTPStatus.FOUND
    account = SocialAccount.objects.get(provider=OIDC_PROVIDER_ID)
    assert account.user.email == "alan@example.com"
    assert client.session["_auth_user_id"] == str(account.user.pk)
    record = account.user.oauth_flows.get()
    assert record.steps[0]["detail"]["registered_in"] == "Django admin (SocialApp)"


def test_an_added_provider_cannot_sign_into_an_existing_account_by_its_email(
    client, oidc_app, mailoutbox
):
    """An admin-added provider might claim any email as verified: signing into an account by
    email is GitHub's and Google's only, unless an app's settings say `email_authentication`."""
    existing = UserFactory(email="alan@example.com")

    start = flow_start(client, f"oidc/{OIDC_PROVIDER_ID}")
    response = client.get(consent(start.authorize_url, {"identity": "alan"}).callback_path)

    assert client.session.get("_auth_user_id") != str(existing.pk)
    assert not SocialAccount.objects.filter(user=existing).exists()
    assert response.status_code == HTTPStatus.FOUND


def test_an_app_that_says_so_may_sign_in_by_verified_email(client, oidc_app):
    oidc_app.settings = {**oidc_app.settings, "email_authentication": True}
    oidc_app.save()
    existing = UserFactory(email="alan@example.com")

    start = flow_start(client, f"oidc/{OIDC_PROVIDER_ID}")
    client.get(consent(start.authorize_url, {"identity": "alan"}).callback_path)

    assert client.session["_auth_user_id"] == str(existing.pk)
