"""accounts.adapters: one application per provider, whatever is configured where."""

import pytest
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialApp
from django.contrib.sites.models import Site
from django.test import RequestFactory

from config.settings.providers import social_providers

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
