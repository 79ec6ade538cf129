"""The reference app (api.reference_app), run as its own process against a live server and the
emulators: the person signs in at the emulated provider, the provider sends the browser back to
the app's loopback address, the app hands the provider's token to allauth headless and keeps the
site's token pair; then it calls /api/me/, refreshes when refused, and signs out."""

import json
import re
import subprocess
import sys
from http import HTTPStatus
from pathlib import Path

import pytest
import requests
from allauth.usersessions.models import UserSession
from django.conf import settings

from api.models import TokenFamily
from config.settings.providers import emulated_app_client_id

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


def run_app(*args: str, server: str, tokens: Path, emulator: str = "") -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 -- our own interpreter and module
        [
            sys.executable,
            "-m",
            "api.reference_app",
            *args,
            "--server",
            server,
            "--tokens",
            str(tokens),
            "--emulator",
            emulator,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def app_secret(provider: str) -> str:
    apps = settings.SOCIALACCOUNT_PROVIDERS[provider]["APPS"]
    return next(
        app["secret"] for app in apps if app["client_id"] == emulated_app_client_id(provider)
    )


def person_approves(url: str, identity: str) -> None:
    """What the person does in the browser: approve at the provider, follow it to the app."""
    approved = requests.post(url, data={"identity": identity}, allow_redirects=False, timeout=10)
    assert approved.status_code == HTTPStatus.FOUND, approved.text
    assert approved.headers["Location"].startswith("http://127.0.0.1:")
    assert requests.get(approved.headers["Location"], timeout=10).status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    ("provider", "identity", "email", "dpop"),
    [
        ("github", "ada", "ada@example.com", False),
        ("google", "alan", "alan@example.com", False),
        ("github", "ada", "ada@example.com", True),
    ],
)
def test_login_me_refresh_and_logout(
    live_server, emulator, tmp_path, provider, identity, email, dpop
):
    tokens = tmp_path / "tokens.json"
    login = run_app(
        "login",
        "--provider",
        provider,
        "--no-browser",
        "--client-secret",
        app_secret(provider),
        *(["--dpop"] if dpop else []),
        server=live_server.url,
        tokens=tokens,
        emulator=emulator,
    )
    assert f"Sign in at {provider}" in login.stdout.readline()
    url = login.stdout.readline().strip()
    assert re.match(rf"{re.escape(emulator)}/{provider}/.*code_challenge_method=S256", url)

    person_approves(url, identity)

    out, err = login.communicate(timeout=30)
    assert login.returncode == 0, err
    assert "Signed in." in out
    assert tokens.stat().st_mode & 0o777 == 0o600
    saved = json.loads(tokens.read_text())
    family = TokenFamily.objects.get()
    assert (family.origin, family.client_id) == ("app", emulated_app_client_id(provider))
    assert bool(family.dpop_jkt) is dpop
    if dpop:
        # A copy of the bound token, sent without the app's key, is worth nothing.
        stolen = requests.get(
            f"{live_server.url}/api/me/",
            headers={"Authorization": f"Bearer {saved['access_token']}"},
            timeout=10,
        )
        assert stolen.status_code == HTTPStatus.UNAUTHORIZED

    me = run_app("me", server=live_server.url, tokens=tokens)
    out, err = me.communicate(timeout=30)
    assert me.returncode == 0, err
    assert json.loads(out)["email"] == email

    # An access token the API refuses: the app refreshes through allauth and tries again.
    tokens.write_text(json.dumps({**saved, "access_token": "not.a.token"}))
    me = run_app("me", server=live_server.url, tokens=tokens)
    assert me.wait(timeout=30) == 0
    assert json.loads(tokens.read_text())["refresh_token"] != saved["refresh_token"]
    assert TokenFamily.objects.get().revoked_at is None

    logout = run_app("logout", server=live_server.url, tokens=tokens)
    out, err = logout.communicate(timeout=30)
    assert logout.returncode == 0, err
    assert not tokens.exists()
    family.refresh_from_db()
    assert family.revoked_at is not None
    # allauth's session for the app is gone: the sessions page lists none.
    assert UserSession.objects.purge_and_list(family.user) == []


def test_a_state_that_is_not_the_apps_is_refused(live_server, emulator, tmp_path):
    tokens = tmp_path / "tokens.json"
    login = run_app(
        "login",
        "--no-browser",
        "--client-secret",
        app_secret("github"),
        server=live_server.url,
        tokens=tokens,
        emulator=emulator,
    )
    login.stdout.readline()
    url = login.stdout.readline().strip()
    forged = re.sub(r"state=[^&]+", "state=forged", url)
    approved = requests.post(forged, data={"identity": "ada"}, allow_redirects=False, timeout=10)
    requests.get(approved.headers["Location"], timeout=10)

    _, err = login.communicate(timeout=30)
    assert login.returncode == 1
    assert "another state" in err
    assert not tokens.exists()
    assert not TokenFamily.objects.exists()
