"""accounts.backends: the user a session names, read from a copy kept in process memory.

With the production cache aliases on a throwaway Redis (the near_caches fixture: "users" is a
config.memory.LocalCache announcing on it), a signed-in request reads no user row once the copy
is kept, and the copy never lives in Redis. Every change made through accounts.services (a
password changed on the site or set in code, a deactivation, a deletion, an admin edit) reaches
the very next request; so does `user_copy_forget` run in another real process (a Django process
with the test settings on the same Redis). A row written behind the services' back
(`QuerySet.update`) is seen within MAX_STALE_SECONDS, and a change that was rolled back is never
served afterwards.

These tests commit (transaction=True): a test's own transaction would hide other connections'
view of the rows, as production has none around its requests.
"""

import os
import subprocess
import sys
import time
from http import HTTPStatus

import pytest
import redis
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts import services
from accounts.backends import AuthenticationBackend, ModelBackend
from accounts.models import User
from config import memory
from tests.servers import ROOT

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "an entirely new passphrase 42"


def user_row_reads(queries: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in queries.captured_queries if '"accounts_user"' in query["sql"]]


def signed_in_with_the_form(user, password) -> Client:
    """Signed in through allauth's form (accounts.backends.AuthenticationBackend)."""
    client = Client()
    response = client.post("/accounts/login/", {"login": user.email, "password": password})
    assert response.status_code == HTTPStatus.FOUND
    return client


def signed_in_by_force(user, password) -> Client:
    """Signed in as the admin's backend would (accounts.backends.ModelBackend)."""
    client = Client()
    client.force_login(user)
    return client


def me(client: Client) -> tuple[int, list[str]]:
    """The status of GET /api/me/ (session-authenticated) and the user-row reads it made."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/me/")
    return response.status_code, user_row_reads(queries)


def using_the_copy(client: Client) -> Client:
    """After a first request has kept the copy, the next reads no row."""
    me(client)
    assert me(client) == (HTTPStatus.OK, [])
    return client


@pytest.mark.parametrize(
    "sign_in", [signed_in_with_the_form, signed_in_by_force], ids=["allauth", "model-backend"]
)
def test_a_signed_in_clients_repeated_requests_read_no_user_row(
    near_caches, user, password, sign_in
):
    client = sign_in(user, password)

    first_status, first_reads = me(client)
    repeats = [me(client) for _ in range(3)]
    response = client.get("/api/me/")

    assert first_status == HTTPStatus.OK
    assert first_reads
    assert repeats == [(HTTPStatus.OK, [])] * 3
    assert response.json()["username"] == user.username
    assert response.json()["authenticated_by"] == "session"
    assert redis.Redis.from_url(near_caches).keys("*user-row*") == []  # in process memory only


def test_changing_the_password_on_the_site_ends_the_other_sessions_at_once(
    near_caches, user, password
):
    laptop = signed_in_with_the_form(user, password)
    phone = using_the_copy(signed_in_with_the_form(user, password))

    changed = laptop.post(
        "/accounts/password/change/",
        {"oldpassword": password, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    status, reads = me(phone)

    assert changed.status_code == HTTPStatus.FOUND
    assert status == HTTPStatus.UNAUTHORIZED
    assert reads  # the row was read again


def test_a_password_set_through_the_services_ends_the_session_at_once(near_caches, user, password):
    phone = using_the_copy(signed_in_by_force(user, password))

    services.user_password_set(user=user, password=NEW_PASSWORD)

    assert me(phone)[0] == HTTPStatus.UNAUTHORIZED


def test_deactivating_the_user_refuses_the_session_and_the_backends_at_once(
    near_caches, user, password
):
    client = using_the_copy(signed_in_with_the_form(user, password))
    backends = [ModelBackend(), AuthenticationBackend()]
    assert all(backend.get_user(user.pk) is not None for backend in backends)

    services.user_deactivate(user=user, actor=None)

    assert [backend.get_user(user.pk) for backend in backends] == [None, None]
    assert me(client)[0] == HTTPStatus.UNAUTHORIZED


def test_a_deleted_user_is_gone_at_once(near_caches, user, password):
    client = using_the_copy(signed_in_with_the_form(user, password))
    pk = user.pk

    services.user_delete(user=user, actor=None)

    assert ModelBackend().get_user(pk) is None
    assert me(client)[0] == HTTPStatus.UNAUTHORIZED


def test_an_admin_edit_is_seen_by_the_next_request(near_caches, user, password):
    client = using_the_copy(signed_in_by_force(user, password))

    user.username = "renamed-by-admin"
    services.user_update(user=user, fields=["username"])
    response = client.get("/api/me/")

    assert response.json()["username"] == "renamed-by-admin"


# Another process: a Django process with the test settings on the same Redis, running the real
# user_copy_forget for each primary key it is sent (one a line).
OTHER_PROCESS = """
import sys
import django
django.setup()
from accounts.backends import user_copy_forget
print("ready", flush=True)
for line in sys.stdin:
    user_copy_forget(pk=int(line))
    print("forgotten", flush=True)
"""


@pytest.fixture
def other_process(near_caches):
    """Its stdin and stdout, once it is ready."""
    process = subprocess.Popen(  # noqa: S603 -- this interpreter, our own program
        [sys.executable, "-c", OTHER_PROCESS],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "CACHE_URL": near_caches,
        },
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline() == "ready\n"
    yield process
    process.stdin.close()
    process.wait(timeout=10)


def test_a_password_set_in_another_process_ends_the_session_at_the_next_request(
    other_process, user, password
):
    """The other process commits the new password (here: written straight to the row, which
    this process's copy knows nothing of) and calls user_copy_forget, as user_password_set does."""
    phone = using_the_copy(signed_in_by_force(user, password))
    user.set_password(NEW_PASSWORD)
    User.objects.filter(pk=user.pk).update(password=user.password)
    assert me(phone) == (HTTPStatus.OK, [])  # the copy still holds the old password

    other_process.stdin.write(f"{user.pk}\n")
    other_process.stdin.flush()
    assert other_process.stdout.readline() == "forgotten\n"
    status, reads = me(phone)

    assert status == HTTPStatus.UNAUTHORIZED
    assert reads


def test_a_row_written_behind_the_services_back_is_seen_within_max_stale_seconds(
    near_caches, user, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(memory, "MAX_STALE_SECONDS", 0.2)
    backend = ModelBackend()
    backend.get_user(user.pk)

    User.objects.filter(pk=user.pk).update(first_name="Updated")
    with django_assert_num_queries(0):
        while_the_copy_lasts = backend.get_user(user.pk)
    time.sleep(0.25)
    once_it_has_ended = backend.get_user(user.pk)

    assert while_the_copy_lasts.first_name == user.first_name != "Updated"
    assert once_it_has_ended.first_name == "Updated"


def test_a_row_changed_by_a_rolled_back_transaction_is_not_served_afterwards(near_caches, user):
    user.first_name = "Committed"
    user.save()
    backend = ModelBackend()

    with transaction.atomic():
        user.first_name = "Rolled back"
        user.save()
        inside = backend.get_user(user.pk)
        transaction.set_rollback(True)
    after = backend.get_user(user.pk)

    assert inside.first_name == "Rolled back"
    assert after.first_name == "Committed", "a row that was never committed is served"


def test_a_rolled_back_password_change_signs_nobody_out(near_caches, user, password):
    """The person's own request reads the user inside the transaction that is then rolled back
    (as in a view wrapped in transaction.atomic)."""
    phone = using_the_copy(signed_in_by_force(user, password))

    with transaction.atomic():
        services.user_password_set(user=user, password=NEW_PASSWORD)
        ModelBackend().get_user(user.pk)
        transaction.set_rollback(True)
    status, _ = me(phone)
    time.sleep(memory.MAX_STALE_SECONDS)
    later, _ = me(phone)

    assert (status, later) == (HTTPStatus.OK, HTTPStatus.OK), "signed out by a change never made"


def test_an_unknown_user_is_none_and_never_kept(near_caches, django_assert_num_queries):
    backend = ModelBackend()

    with django_assert_num_queries(2):
        answers = [backend.get_user(999_999), backend.get_user(999_999)]

    assert answers == [None, None]
