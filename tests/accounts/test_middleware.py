"""accounts.middleware: "last seen" written at most once a minute per session."""

from http import HTTPStatus

import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


def usersession_writes(client) -> int:
    with CaptureQueriesContext(connection) as context:
        client.get("/accounts/profile/")
    return sum(
        1
        for query in context.captured_queries
        if "usersession" in query["sql"].lower() and query["sql"].startswith(("UPDATE", "INSERT"))
    )


def test_last_seen_is_written_once_then_not_again_within_the_minute(client, user, password):
    client.post("/accounts/login/", {"login": user.email, "password": password})
    cache.clear()
    caches["local"].clear()

    first = usersession_writes(client)
    second = usersession_writes(client)

    assert first >= 1
    assert second == 0


def another_worker(client) -> Client:
    """Another worker process: the same browser, and none of this process's memory."""
    caches["local"].clear()
    worker = Client()
    worker.cookies = client.cookies
    return worker


def test_another_worker_defers_to_the_shared_cache(client, user, password):
    """A worker that has not seen the session yet asks the cache, which says it was just done."""
    client.post("/accounts/login/", {"login": user.email, "password": password})
    usersession_writes(client)

    assert usersession_writes(another_worker(client)) == 0


def test_once_the_minute_is_over_the_next_request_writes_again(client, user, password):
    client.post("/accounts/login/", {"login": user.email, "password": password})
    usersession_writes(client)
    cache.clear()

    assert usersession_writes(another_worker(client)) >= 1


def test_with_the_database_unreachable_last_seen_is_skipped_not_refused(
    redis_caches, client, user, monkeypatch
):
    """A session in Redis answers without the database; the once-a-minute write must not turn
    that request into a 503. (The fault suite stops PostgreSQL for real.)"""
    from allauth.usersessions.models import UserSession
    from django.db import OperationalError

    client.force_login(user)
    assert client.get("/api/me/").status_code == HTTPStatus.OK  # state published, last seen due
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    caches["local"].clear()
    cache.delete(f"usersession-seen:{session_key}")  # due again

    def unreachable(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(UserSession.objects, "create_from_request", unreachable)
    response = client.get("/api/me/")

    assert response.status_code == HTTPStatus.OK
    assert response.json()["authenticated_by"] == "session"
