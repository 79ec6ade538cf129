"""The SocialApp admin: one application per provider, secrets write-only."""

from http import HTTPStatus

import pytest
from allauth.socialaccount.models import SocialApp
from django.contrib.sites.models import Site

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/socialaccount/socialapp/add/"


def form_data(**overrides) -> dict:
    site = Site.objects.get_current()
    return {
        "provider": "github",
        "provider_id": "",
        "name": "GitHub",
        "client_id": "abc",
        "secret": "s3cret-value",
        "key": "",
        "settings": "{}",
        "sites": [site.pk],
        **overrides,
    }


def test_an_application_can_be_added_and_its_secret_is_never_shown_back(admin_client):
    response = admin_client.post(ADD_URL, form_data())

    assert response.status_code == HTTPStatus.FOUND
    app = SocialApp.objects.get()
    assert app.secret == "s3cret-value"
    page = admin_client.get(f"/admin/socialaccount/socialapp/{app.pk}/change/")
    assert "s3cret-value" not in page.content.decode()


def test_saving_without_a_secret_keeps_the_current_one(admin_client):
    admin_client.post(ADD_URL, form_data())
    app = SocialApp.objects.get()

    admin_client.post(
        f"/admin/socialaccount/socialapp/{app.pk}/change/", form_data(secret="", name="Renamed")
    )

    app.refresh_from_db()
    assert app.name == "Renamed"
    assert app.secret == "s3cret-value"


def test_a_second_application_for_the_same_provider_is_refused(admin_client):
    admin_client.post(ADD_URL, form_data())

    response = admin_client.post(ADD_URL, form_data(client_id="other"))

    assert response.status_code == HTTPStatus.OK
    assert "already registered" in response.content.decode()
    assert SocialApp.objects.count() == 1


def test_a_provider_configured_from_the_environment_cannot_get_a_second_app(admin_client, settings):
    settings.SIGNIN_PROVIDERS_FROM_ENVIRONMENT = {"github"}

    response = admin_client.post(ADD_URL, form_data())

    assert "configured from the environment" in response.content.decode()
    assert not SocialApp.objects.exists()
