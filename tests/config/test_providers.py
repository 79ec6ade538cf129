"""Where a provider's application comes from: the environment, else the emulators; not both."""

import json
from io import StringIO

import environ
import pytest
from django.core.management import call_command

from config.settings.providers import (
    EMULATED_APP_REDIRECT_URI,
    emulator_clients,
    social_providers,
)

EMULATOR = "http://localhost:9"


def test_without_credentials_both_providers_use_the_emulators():
    providers = social_providers(environ.Env(), emulator_url=EMULATOR, emulator_secret="s")

    assert providers["github"]["GITHUB_URL"] == f"{EMULATOR}/github"
    assert providers["google"]["ACCESS_TOKEN_URL"] == f"{EMULATOR}/google/token"
    clients = emulator_clients(providers, site_urls=["http://127.0.0.1:8000"])
    assert [(client["provider"], client["client_id"]) for client in clients] == [
        ("github", "signin-lab-github-emulator"),
        ("github", "signin-lab-github-app-emulator"),
        ("google", "signin-lab-google-emulator"),
        ("google", "signin-lab-google-app-emulator"),
    ]
    assert clients[0]["redirect_uris"] == ["http://127.0.0.1:8000/accounts/github/login/callback/"]
    # The apps' own sign-ins return to a loopback address, on any port (RFC 8252 section 7.3).
    assert clients[1]["redirect_uris"] == [EMULATED_APP_REDIRECT_URI]


def test_real_credentials_use_the_real_provider_and_no_emulator(monkeypatch):
    monkeypatch.setenv("GITHUB_CLIENT_ID", "real-id")
    monkeypatch.setenv("GITHUB_CLIENT_SECRET", "real-secret")

    providers = social_providers(environ.Env(), emulator_url=EMULATOR, emulator_secret="s")

    assert "GITHUB_URL" not in providers["github"]
    assert providers["github"]["APPS"] == [
        {"name": "GitHub", "client_id": "real-id", "secret": "real-secret"}
    ]
    assert {c["provider"] for c in emulator_clients(providers, site_urls=["http://x"])} == {
        "google"
    }


def test_apps_that_sign_in_themselves_are_hidden_applications_beside_the_sites(monkeypatch):
    monkeypatch.setenv("GOOGLE_CLIENT_ID", "web.apps.googleusercontent.com")
    monkeypatch.setenv("GOOGLE_CLIENT_SECRET", "web-secret")
    monkeypatch.setenv("GOOGLE_APP_CLIENT_IDS", "ios.apps.example,android.apps.example")
    monkeypatch.setenv("GITHUB_CLIENT_ID", "web-id")
    monkeypatch.setenv("GITHUB_CLIENT_SECRET", "web-secret")
    monkeypatch.setenv("GITHUB_APP_CLIENT_ID", "app-id")
    monkeypatch.setenv("GITHUB_APP_CLIENT_SECRET", "app-secret")

    providers = social_providers(environ.Env())

    google = providers["google"]["APPS"]
    assert [app["client_id"] for app in google] == [
        "web.apps.googleusercontent.com",
        "ios.apps.example",
        "android.apps.example",
    ]
    assert [app.get("settings", {}).get("hidden", False) for app in google] == [False, True, True]
    assert providers["github"]["APPS"][1] == {
        "name": "GitHub (app)",
        "client_id": "app-id",
        "secret": "app-secret",
        "settings": {"hidden": True},
    }


def test_openid_connect_providers_come_from_the_environment(monkeypatch):
    oidc = {
        "provider_id": "keycloak",
        "name": "Keycloak",
        "client_id": "kc",
        "secret": "kc-secret",
        "server_url": "https://sso.example.com/realms/main",
    }
    monkeypatch.setenv("OPENID_CONNECT_PROVIDERS", json.dumps([oidc]))

    (app,) = social_providers(environ.Env())["openid_connect"]["APPS"]

    assert app["provider_id"] == "keycloak"
    assert app["settings"] == {"server_url": "https://sso.example.com/realms/main"}


@pytest.mark.django_db
def test_make_run_starts_an_emulator_only_for_providers_that_need_one(settings, tmp_path):
    settings.EMULATOR_CLIENTS_FILE = tmp_path / "emulator-clients.json"
    settings.SOCIALACCOUNT_PROVIDERS = social_providers(
        environ.Env(), emulator_url=EMULATOR, emulator_secret="s", from_environment=False
    )
    call_command("demo_setup", stdout=StringIO())
    assert settings.EMULATOR_CLIENTS_FILE.exists()

    settings.SOCIALACCOUNT_PROVIDERS = social_providers(environ.Env(), from_environment=False)
    call_command("demo_setup", stdout=StringIO())

    assert not settings.EMULATOR_CLIENTS_FILE.exists()
