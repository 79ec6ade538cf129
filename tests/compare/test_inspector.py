"""The auth inspector: which authenticator accepted an API request, its queries and its time."""

import os
import subprocess
import sys
from http import HTTPStatus
from pathlib import Path

import pytest

from api import services
from api.models import TokenFamily

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def inspected(response) -> dict[str, str]:
    """X-Auth-Inspector's members (an RFC 8941 dictionary)."""
    return dict(member.split("=") for member in response["X-Auth-Inspector"].split(", "))


def test_a_bearer_request_is_reported_with_its_queries_and_time(client, user):
    access = services.token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD).access
    headers = {"HTTP_AUTHORIZATION": f"Bearer {access}"}
    first = client.get("/api/me/", **headers)

    response = client.get("/api/me/", **headers)

    assert response.status_code == HTTPStatus.OK
    # The family's first use in a minute writes its last-used time; /api/me/ answers from the
    # token's claims, so the next request makes no query at all.
    assert inspected(first)["queries"] == "1"
    found = inspected(response)
    assert found["authenticator"] == "bearer"
    assert found["queries"] == "0"
    assert int(found["app-us"]) > 0
    assert response["Server-Timing"].startswith('app;desc="bearer, 0 queries";dur=')


def test_a_session_request_is_reported_as_session(client, user):
    client.force_login(user)

    response = client.get("/api/me/")

    assert response.status_code == HTTPStatus.OK
    found = inspected(response)
    assert found["authenticator"] == "session"
    assert 'app;desc="session, ' in response["Server-Timing"]


def test_a_request_without_credentials_is_reported_as_none(client):
    response = client.get("/api/me/")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert inspected(response)["authenticator"] == "none"
    assert inspected(response)["queries"] == "0"


def test_a_refused_token_is_timed_and_reported_as_none(client):
    response = client.get("/api/me/", HTTP_AUTHORIZATION="Bearer not.a.token")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert inspected(response)["authenticator"] == "none"


def test_pages_outside_the_api_carry_no_inspection(client):
    response = client.get("/")

    assert "X-Auth-Inspector" not in response
    assert "Server-Timing" not in response


def test_the_inspector_is_off_unless_enabled(client, user, settings):
    settings.AUTH_INSPECTOR = False
    client.force_login(user)

    response = client.get("/api/me/")

    assert response.status_code == HTTPStatus.OK
    assert "X-Auth-Inspector" not in response
    assert "Server-Timing" not in response


def test_production_settings_add_no_inspection(tmp_path):
    """The production settings themselves, in their own process: no header on an API answer."""
    code = (
        "from django.test import Client; "
        "r = Client(HTTP_HOST='signin.example.com').get('/api/me/', secure=True); "
        "print(r.status_code, r.has_header('X-Auth-Inspector'), r.has_header('Server-Timing'))"
    )
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CACHE_", "JWT_"))
    }
    result = subprocess.run(  # noqa: S603 -- fixed argv, our own interpreter and manage.py
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": "x7!kq2-production-like-secret-for-the-inspector-test-0123456789",
            "DJANGO_ALLOWED_HOSTS": "signin.example.com",
            "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
            "REDIS_URL": "redis://127.0.0.1:1/0",
            "JWT_SIGNING_KEYS_DIR": str(tmp_path / "keys"),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["401", "False", "False"]
