"""The reference command-line client (api.reference_client), run as its own process against a
live server: it discovers the endpoints, signs in with the device grant (approved here by a
signed-in person), calls /api/me/, refreshes, and signs out."""

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import Client as BrowserClient

from api.models import TokenFamily

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


def run_client(*args: str, server: str, tokens: Path) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 -- our own interpreter and module
        [
            sys.executable,
            "-m",
            "api.reference_client",
            *args,
            "--server",
            server,
            "--tokens",
            str(tokens),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_login_me_and_logout(live_server, cli_client, user, tmp_path, settings):
    settings.OAUTH_DEVICE_POLL_SECONDS = 1
    tokens = tmp_path / "tokens.json"
    login = run_client("login", server=live_server.url, tokens=tokens)
    shown = login.stdout.readline()
    user_code = re.search(r"enter the code (\w{4}-\w{4})", shown)[1]
    assert f"Open {live_server.url}/device/" in shown
    person = BrowserClient()
    person.force_login(user)
    time.sleep(1.5)  # at least one poll answered authorization_pending

    assert (
        person.post("/device/", {"user_code": user_code, "decision": "approve"}).status_code == 200
    )

    out, err = login.communicate(timeout=30)
    assert login.returncode == 0, err
    assert "Signed in." in out
    assert tokens.stat().st_mode & 0o777 == 0o600
    saved = json.loads(tokens.read_text())

    me = run_client("me", server=live_server.url, tokens=tokens)
    out, err = me.communicate(timeout=30)
    assert me.returncode == 0, err
    assert json.loads(out)["id"] == user.pk

    # Due for a refresh: it rotates the pair and keeps the new one.
    tokens.write_text(json.dumps({**saved, "expires_at": 0}))
    me = run_client("me", server=live_server.url, tokens=tokens)
    assert me.wait(timeout=30) == 0
    assert json.loads(tokens.read_text())["refresh_token"] != saved["refresh_token"]

    logout = run_client("logout", server=live_server.url, tokens=tokens)
    out, err = logout.communicate(timeout=30)
    assert logout.returncode == 0, err
    assert not tokens.exists()
    family = TokenFamily.objects.get(user=user)
    assert family.revoked_at is not None
    assert family.client_id == "signin-lab-cli"


def test_a_denied_login_says_so(live_server, cli_client, user, tmp_path, settings):
    settings.OAUTH_DEVICE_POLL_SECONDS = 1
    login = run_client("login", server=live_server.url, tokens=tmp_path / "tokens.json")
    user_code = re.search(r"enter the code (\w{4}-\w{4})", login.stdout.readline())[1]
    person = BrowserClient()
    person.force_login(user)

    person.post("/device/", {"user_code": user_code, "decision": "deny"})

    _, err = login.communicate(timeout=30)
    assert login.returncode == 1
    assert err.strip() == "You denied the request."
    assert not (tmp_path / "tokens.json").exists()


def test_an_unreachable_server_is_one_clear_line(tmp_path):
    login = run_client("login", server="http://127.0.0.1:9", tokens=tmp_path / "t.json")

    _, err = login.communicate(timeout=30)

    assert login.returncode == 1
    assert err.startswith("Cannot reach http://127.0.0.1:9/.well-known/oauth-authorization-server")
    assert "Traceback" not in err


def test_login_with_dpop_binds_the_tokens_to_the_clients_key(
    live_server, cli_client, user, tmp_path, settings
):
    settings.OAUTH_DEVICE_POLL_SECONDS = 1
    tokens = tmp_path / "tokens.json"
    login = run_client("login", "--dpop", server=live_server.url, tokens=tokens)
    user_code = re.search(r"enter the code (\w{4}-\w{4})", login.stdout.readline())[1]
    person = BrowserClient()
    person.force_login(user)
    person.post("/device/", {"user_code": user_code, "decision": "approve"})

    out, err = login.communicate(timeout=30)

    assert login.returncode == 0, err
    saved = json.loads(tokens.read_text())
    assert saved["token_type"] == "DPoP"
    assert "PRIVATE KEY" in saved["dpop_key"]
    family = TokenFamily.objects.get(user=user)
    assert family.dpop_jkt
    # The token alone, as someone who copied it would send it, is refused.
    stolen = BrowserClient().get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {saved['access_token']}")
    assert stolen.status_code == 401
    assert stolen.json()["error"]["code"] == "token_dpop_bound"

    me = run_client("me", server=live_server.url, tokens=tokens)
    out, err = me.communicate(timeout=30)
    assert me.returncode == 0, err
    assert json.loads(out)["id"] == user.pk
    # Due for a refresh: the refresh too carries a proof of the key.
    tokens.write_text(json.dumps({**saved, "expires_at": 0}))
    me = run_client("me", server=live_server.url, tokens=tokens)
    assert me.wait(timeout=30) == 0
    refreshed = json.loads(tokens.read_text())
    assert refreshed["refresh_token"] != saved["refresh_token"]
    assert refreshed["dpop_key"] == saved["dpop_key"]
