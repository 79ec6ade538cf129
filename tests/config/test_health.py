"""`GET /healthz`: 200 when the database answers, 503 naming it when it does not."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from http import HTTPStatus
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}
    assert "no-cache" in response["Cache-Control"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 -- loopback only
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_healthz_answers_503_when_the_database_is_unreachable(tmp_path):
    """A real gunicorn server whose SQLite file sits in a missing folder: a real failure."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path}/missing-folder/db.sqlite3",
    }
    server = subprocess.Popen(  # noqa: S603 -- our own manage.py
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "config.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                status, body = get(f"http://127.0.0.1:{port}/healthz")
                break
            except (ConnectionError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    pytest.fail("the server did not start")
                time.sleep(0.1)
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=10)

    assert status == HTTPStatus.SERVICE_UNAVAILABLE
    assert body == {"status": "unavailable", "checks": {"database": "down"}}
    assert "Traceback" not in stderr
