"""Revocation reaches every process at once: two real gunicorn servers share one database, one
file cache (CACHE_URL=filecache://) and one key folder, as app servers behind a load balancer
share PostgreSQL, Redis and the keys. A token revoked through one fails on its next use at the
other (RFC 7009 section 2.1; RFC 9700 section 4.14.2; OWASP ASVS V7, end sessions on password
change).
"""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
USERS = [
    "revoke-refresh",
    "revoke-access",
    "revoke-all",
    "password",
    "deactivate",
    "reuse",
    "rotate",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Deployment:
    servers: tuple[str, str]
    environment: dict[str, str]

    def manage(self, code: str) -> None:
        """Run `code` in `manage.py shell` against the shared database: a third process, like an
        admin's action or a deploy step."""
        subprocess.run(  # noqa: S603 -- our own manage.py
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=ROOT,
            env=self.environment,
            check=True,
            capture_output=True,
            timeout=60,
        )


def wait_until_serving(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(f"{url}/healthz", timeout=10)
            return
        except (requests.ConnectionError, requests.Timeout):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn at {url} did not start")
            time.sleep(0.1)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Iterator[Deployment]:
    shared = tmp_path_factory.mktemp("deployment")
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{shared}/db.sqlite3",
        "CACHE_URL": f"filecache://{shared}/cache",
        "JWT_SIGNING_KEYS_DIR": str(shared / "keys"),
        "API_TOKEN_RATE_PER_ADDRESS": "10000/min",
        "API_TOKEN_RATE_PER_ACCOUNT": "10000/min",
        "WEB_CONCURRENCY": "1",
        # Reuse detection at once, without the few seconds' reuse interval for concurrent tabs.
        "JWT_REFRESH_REUSE_GRACE_SECONDS": "0",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=environment,
        check=True,
        timeout=120,
    )
    deployment = Deployment(servers=("", ""), environment=environment)
    deployment.manage(
        "from tests.factories import UserFactory\n"
        + "".join(f"UserFactory(username={name!r})\n" for name in USERS)
    )
    processes, urls = [], []
    try:
        for _ in range(2):
            port = free_port()
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"],
                    cwd=ROOT,
                    env={**environment, "GUNICORN_BIND": f"127.0.0.1:{port}"},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        for url, process in zip(urls, processes, strict=True):
            wait_until_serving(url, process)
        yield Deployment(servers=(urls[0], urls[1]), environment=environment)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


def obtain(server: str, username: str, password: str = PASSWORD) -> dict:
    response = requests.post(
        f"{server}/api/auth/token/", json={"username": username, "password": password}, timeout=10
    )
    assert response.status_code == HTTPStatus.OK, response.text
    return response.json()


def me(server: str, access: str) -> requests.Response:
    return requests.get(
        f"{server}/api/me/", headers={"Authorization": f"Bearer {access}"}, timeout=10
    )


def assert_revoked(response: requests.Response) -> None:
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"]["code"] == "token_revoked"
    assert response.headers["WWW-Authenticate"].startswith(
        'Bearer realm="api", error="invalid_token"'
    )


def test_revoking_a_refresh_token_on_one_server_kills_its_access_token_on_the_other(deployment):
    first, second = deployment.servers
    pair = obtain(first, "revoke-refresh")
    assert me(second, pair["access"]).status_code == HTTPStatus.OK

    requests.post(f"{first}/api/auth/token/revoke/", json={"token": pair["refresh"]}, timeout=10)

    assert_revoked(me(second, pair["access"]))
    refresh = requests.post(
        f"{second}/api/auth/token/refresh/", json={"refresh": pair["refresh"]}, timeout=10
    )
    assert refresh.json()["error"]["code"] == "token_revoked"


def test_revoking_an_access_token_on_one_server_refuses_it_on_the_other(deployment):
    first, second = deployment.servers
    pair = obtain(first, "revoke-access")
    assert me(second, pair["access"]).status_code == HTTPStatus.OK

    requests.post(f"{first}/api/auth/token/revoke/", json={"token": pair["access"]}, timeout=10)

    assert_revoked(me(second, pair["access"]))


def test_revoke_all_on_one_server_refuses_every_token_on_the_other(deployment):
    first, second = deployment.servers
    pairs = [obtain(first, "revoke-all"), obtain(second, "revoke-all")]
    assert all(me(second, pair["access"]).status_code == HTTPStatus.OK for pair in pairs)

    response = requests.post(
        f"{first}/api/auth/token/revoke-all/",
        headers={"Authorization": f"Bearer {pairs[0]['access']}"},
        timeout=10,
    )

    assert response.json() == {"revoked_families": 2}
    for pair in pairs:
        assert_revoked(me(second, pair["access"]))


def test_a_password_change_in_another_process_refuses_the_old_tokens(deployment):
    first, second = deployment.servers
    pair = obtain(first, "password")
    assert me(second, pair["access"]).status_code == HTTPStatus.OK

    deployment.manage(
        "from accounts.models import User\n"
        "from accounts.services import user_password_set\n"
        "user = User.objects.get(username='password')\n"
        "user_password_set(user=user, password='a brand new passphrase')\n"
    )

    for server in (first, second):
        assert_revoked(me(server, pair["access"]))
    fresh = obtain(second, "password", "a brand new passphrase")
    assert me(first, fresh["access"]).status_code == HTTPStatus.OK


def test_deactivating_a_user_in_another_process_refuses_their_tokens(deployment):
    first, second = deployment.servers
    pair = obtain(first, "deactivate")

    deployment.manage(
        "from accounts.models import User\n"
        "from accounts.services import user_deactivate\n"
        "user = User.objects.get(username='deactivate')\n"
        "user_deactivate(user=user, actor=None)\n"
    )

    assert_revoked(me(second, pair["access"]))
    refresh = requests.post(
        f"{first}/api/auth/token/refresh/", json={"refresh": pair["refresh"]}, timeout=10
    )
    assert refresh.status_code == HTTPStatus.UNAUTHORIZED


def test_reuse_detected_on_one_server_revokes_the_family_on_the_other(deployment):
    first, second = deployment.servers
    pair = obtain(first, "reuse")
    rotated = requests.post(
        f"{first}/api/auth/token/refresh/", json={"refresh": pair["refresh"]}, timeout=10
    ).json()

    reuse = requests.post(
        f"{second}/api/auth/token/refresh/", json={"refresh": pair["refresh"]}, timeout=10
    )

    assert reuse.json()["error"]["code"] == "refresh_token_reused"
    assert_revoked(me(first, rotated["access"]))


def test_a_key_rotated_by_another_process_is_picked_up_on_meeting_its_kid(deployment):
    first, second = deployment.servers
    old = obtain(first, "rotate")
    assert me(second, old["access"]).status_code == HTTPStatus.OK

    deployment.manage(
        "from django.core.management import call_command\ncall_command('jwt_rotate_key')"
    )
    # Both servers still sign with the old key until their periodic re-read; a token signed with
    # the new key (here, by this process) makes the other learn the new key at once.
    deployment.manage(
        "from api.services import token_pair_issue\n"
        "from accounts.models import User\n"
        "pair = token_pair_issue(user=User.objects.get(username='rotate'), origin='password')\n"
        "open('" + deployment.environment["JWT_SIGNING_KEYS_DIR"] + "/../token', 'w')"
        ".write(pair.access)\n"
    )
    new_access = (Path(deployment.environment["JWT_SIGNING_KEYS_DIR"]).parent / "token").read_text()

    assert me(first, new_access).status_code == HTTPStatus.OK
    assert me(second, new_access).status_code == HTTPStatus.OK
    assert me(second, old["access"]).status_code == HTTPStatus.OK
    jwks = requests.get(f"{second}/.well-known/jwks.json", timeout=10).json()
    assert len(jwks["keys"]) == 2
