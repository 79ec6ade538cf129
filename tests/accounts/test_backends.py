"""accounts.backends: the user a session names, read from the person's shared user state.

With the production cache aliases on a throwaway Redis (the redis_caches fixture), a signed-in
request reads no user row once the state is published, and the state holds no password hash.
Every change made through accounts.services (a password changed on the site or set in code, a
deactivation, a deletion, an admin edit) reaches the very next request, including when a request
read the old row just before the change committed (the racing reader below). A row written behind
the services' back is seen within USER_STATE_SECONDS, and a change that was rolled back is never
served afterwards.
"""

import threading
from http import HTTPStatus

import pytest
import redis
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_redis.cache import RedisCache

from accounts import services
from accounts.backends import (
    USER_STATE_SECONDS,
    AuthenticationBackend,
    ModelBackend,
    user_current,
    user_state_key,
)
from accounts.models import User

pytestmark = pytest.mark.django_db

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


def using_the_state(client: Client) -> Client:
    """After a first request has published the state, the next reads no row."""
    me(client)
    assert me(client) == (HTTPStatus.OK, [])
    return client


@pytest.mark.parametrize(
    "sign_in", [signed_in_with_the_form, signed_in_by_force], ids=["allauth", "model-backend"]
)
def test_a_signed_in_clients_repeated_requests_read_no_user_row(
    redis_caches, user, password, sign_in
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


def test_the_state_lives_in_redis_without_the_password_hash(redis_caches, user, password):
    using_the_state(signed_in_by_force(user, password))
    server = redis.Redis.from_url(redis_caches)

    [key] = server.keys(f"*{user_state_key(user.pk)}")
    stored = server.get(key)

    assert user.username.encode() in stored
    assert user.password.split("$")[-1].encode() not in stored
    assert b"md5$" not in stored
    assert b"argon2" not in stored
    assert 0 < server.ttl(key) <= USER_STATE_SECONDS


def test_changing_the_password_on_the_site_ends_the_other_sessions_at_once(
    redis_caches, user, password
):
    laptop = signed_in_with_the_form(user, password)
    phone = using_the_state(signed_in_with_the_form(user, password))

    changed = laptop.post(
        "/accounts/password/change/",
        {"oldpassword": password, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert changed.status_code == HTTPStatus.FOUND
    assert me(phone)[0] == HTTPStatus.UNAUTHORIZED


def test_a_password_set_through_the_services_ends_the_session_at_once(redis_caches, user, password):
    phone = using_the_state(signed_in_by_force(user, password))

    services.user_password_set(user=user, password=NEW_PASSWORD)

    assert me(phone)[0] == HTTPStatus.UNAUTHORIZED


def test_deactivating_the_user_refuses_the_session_and_the_backends_at_once(
    redis_caches, user, password
):
    client = using_the_state(signed_in_with_the_form(user, password))
    backends = [ModelBackend(), AuthenticationBackend()]
    assert all(backend.get_user(user.pk) is not None for backend in backends)

    services.user_deactivate(user=user, actor=None)

    assert [backend.get_user(user.pk) for backend in backends] == [None, None]
    assert me(client)[0] == HTTPStatus.UNAUTHORIZED


def test_a_deleted_user_is_gone_at_once(redis_caches, user, password):
    client = using_the_state(signed_in_with_the_form(user, password))
    pk = user.pk

    services.user_delete(user=user, actor=None)

    assert ModelBackend().get_user(pk) is None
    assert me(client)[0] == HTTPStatus.UNAUTHORIZED


def test_an_admin_edit_is_seen_by_the_next_request(redis_caches, user, password):
    client = using_the_state(signed_in_by_force(user, password))

    user.username = "renamed-by-admin"
    services.user_update(user=user, fields=["username"])
    response = client.get("/api/me/")

    assert response.json()["username"] == "renamed-by-admin"


def test_a_user_built_from_its_state_hashes_a_password_set_on_it(redis_caches, user, password):
    """A view that sets a password on request.user (a user built from its state) and keeps the
    session (update_session_auth_hash) stores the new password's hash, not the state's."""
    ModelBackend().get_user(user.pk)  # publishes the state
    from_state = ModelBackend().get_user(user.pk)
    assert "password" in from_state.get_deferred_fields()
    assert from_state.get_session_auth_hash() == user.get_session_auth_hash()

    old_hash = from_state.get_session_auth_hash()

    from_state.set_password(NEW_PASSWORD)

    assert from_state.get_session_auth_hash() != old_hash
    assert from_state.get_session_auth_hash() == AbstractBaseUser.get_session_auth_hash(from_state)


def test_a_row_changed_by_a_rolled_back_transaction_is_not_served_afterwards(redis_caches, user):
    user.first_name = "Committed"
    services.user_update(user=user, fields=["first_name"])
    backend = ModelBackend()

    with transaction.atomic():
        user.first_name = "Rolled back"
        user.save()
        backend.get_user(user.pk)
        transaction.set_rollback(True)
    after = backend.get_user(user.pk)

    assert after.first_name == "Committed", "a row that was never committed is served"


def test_a_rolled_back_password_change_signs_nobody_out(redis_caches, user, password):
    """The person's own request reads the user inside the transaction that is then rolled back
    (as in a view wrapped in transaction.atomic)."""
    phone = using_the_state(signed_in_by_force(user, password))

    with transaction.atomic():
        services.user_password_set(user=user, password=NEW_PASSWORD)
        ModelBackend().get_user(user.pk)
        transaction.set_rollback(True)

    assert me(phone)[0] == HTTPStatus.OK, "signed out by a change never made"


def test_an_unknown_user_is_none(redis_caches):
    backend = ModelBackend()

    with CaptureQueriesContext(connection) as queries:
        answers = [backend.get_user(999_999), backend.get_user(999_999)]

    assert answers == [None, None]
    assert len(user_row_reads(queries)) == 2


def test_a_reader_that_read_the_old_row_before_a_change_committed_cannot_write_it_back(
    redis_caches, user, password, monkeypatch
):
    """The racing reader: a request finds no state and reads the row; before it writes the
    state, a password change commits. A plain read-through cache would then write the old row
    back over the change. Here the reader holds the row's lock from its read to its write, so
    the change commits after the reader's write and publishes its own state last. Needs row
    locks: CI's PostgreSQL pass runs this."""
    if not connection.features.has_select_for_update:
        pytest.skip("SQLite has no row locks; CI's PostgreSQL pass runs this test")
    phone = using_the_state(signed_in_by_force(user, password))
    RedisCache(redis_caches, {"KEY_PREFIX": "signin-lab"}).delete(user_state_key(user.pk))
    reader_read, change_started = threading.Event(), threading.Event()
    real_set = RedisCache.set

    def slow_set(cache, key, *args, **kwargs):
        """The reader, descheduled between its read and its write."""
        if key == user_state_key(user.pk) and threading.current_thread().name == "reader":
            reader_read.set()
            change_started.wait(timeout=10)
            threading.Event().wait(0.3)  # the change now waits on the row lock, or races past
        return real_set(cache, key, *args, **kwargs)

    monkeypatch.setattr(RedisCache, "set", slow_set)

    def read() -> None:
        try:
            user_current(pk=user.pk)
        finally:
            connection.close()

    def change() -> None:
        try:
            reader_read.wait(timeout=10)
            change_started.set()
            services.user_password_set(user=User.objects.get(pk=user.pk), password=NEW_PASSWORD)
        finally:
            connection.close()

    threads = [threading.Thread(target=read, name="reader"), threading.Thread(target=change)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert me(phone)[0] == HTTPStatus.UNAUTHORIZED, "the old row was written back"
