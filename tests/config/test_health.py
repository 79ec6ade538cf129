"""`GET /healthz`: 200 when the database and the cache answer, 503 naming the one that does not."""

import json
from http import HTTPStatus

import pytest

from tests.servers import http, running_gunicorn


@pytest.mark.django_db
def test_healthz_answers_ok_when_every_dependency_answers(client):
    response = client.get("/healthz")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_answers_503_when_the_database_is_unreachable(tmp_path):
    """A real gunicorn server whose SQLite file sits in a missing folder: a real failure."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/missing-folder/db.sqlite3"}
    with running_gunicorn(env) as server:
        answer = http(f"{server.url}/healthz")

    assert answer.status == HTTPStatus.SERVICE_UNAVAILABLE
    assert json.loads(answer.body) == {
        "status": "unavailable",
        "checks": {"database": "down", "cache": "ok"},
    }
    assert "Traceback" not in server.output[0]
