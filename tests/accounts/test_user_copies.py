"""accounts.backends: the user a session names, read from a copy kept in process memory.

With the "sessions" alias a config.nearcache.NearCache on a real throwaway Redis (as in
production), a signed-in request reads no user row once the copy is kept, and the copy is as fresh
as the row: a committed save or delete (a password change, a deactivation) reaches the very next
request; a row changed by a transaction that was rolled back is never kept. Without a NearCache
the backends read the row on every call, as Django's do.

These tests commit (transaction=True): the copies are announced stale once a save commits, and
a save inside an open transaction, which every non-transactional test is, is never kept.
"""

from http import HTTPStatus

import pytest
import redis
from django.contrib.auth import backends as django_backends
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from accounts.backends import AuthenticationBackend, ModelBackend, user_copies_invalidate
from accounts.models import User

pytestmark = pytest.mark.django_db(transaction=True)

LOCMEM = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}


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


@pytest.mark.parametrize(
    "sign_in", [signed_in_with_the_form, signed_in_by_force], ids=["allauth", "model-backend"]
)
def test_a_signed_in_clients_repeated_requests_read_no_user_row(
    near_caches, user, password, sign_in
):
    client = sign_in(user, password)

    first_status, _ = me(client)
    repeats = [me(client) for _ in range(3)]
    response = client.get("/api/me/")

    assert first_status == HTTPStatus.OK
    assert repeats == [(HTTPStatus.OK, [])] * 3
    assert response.json()["username"] == user.username
    assert response.json()["authenticated_by"] == "session"


def test_the_copy_lives_in_process_memory_only(near_caches, user, password):
    client = signed_in_with_the_form(user, password)
    me(client)

    status, reads = me(client)

    assert (status, reads) == (HTTPStatus.OK, [])
    assert redis.Redis.from_url(near_caches).keys("*user-row*") == []


def test_changing_the_password_ends_the_other_sessions_at_once(near_caches, user, password):
    laptop = signed_in_with_the_form(user, password)
    phone = signed_in_with_the_form(user, password)
    me(phone)
    assert me(phone) == (HTTPStatus.OK, [])  # the phone's requests use the copy

    changed = laptop.post(
        "/accounts/password/change/",
        {
            "oldpassword": password,
            "password1": "an entirely new passphrase 42",
            "password2": "an entirely new passphrase 42",
        },
    )
    status, reads = me(phone)

    assert changed.status_code == HTTPStatus.FOUND
    assert status == HTTPStatus.UNAUTHORIZED
    assert reads  # the row was read again


def test_a_password_saved_elsewhere_in_code_ends_the_session_at_once(near_caches, user, password):
    phone = signed_in_by_force(user, password)
    me(phone)
    assert me(phone) == (HTTPStatus.OK, [])

    user.set_password("an entirely new passphrase 42")
    user.save()

    assert me(phone)[0] == HTTPStatus.UNAUTHORIZED


def test_deactivating_the_user_refuses_the_session_at_once(near_caches, user, password):
    client = signed_in_with_the_form(user, password)
    me(client)
    assert me(client) == (HTTPStatus.OK, [])

    user.is_active = False
    user.save(update_fields=["is_active"])

    assert me(client)[0] == HTTPStatus.UNAUTHORIZED
    assert ModelBackend().get_user(user.pk) is None
    assert AuthenticationBackend().get_user(user.pk) is None


def test_a_deleted_user_is_gone_at_once(near_caches, user, password):
    client = signed_in_with_the_form(user, password)
    me(client)
    assert me(client) == (HTTPStatus.OK, [])
    pk = user.pk

    user.delete()

    assert me(client)[0] == HTTPStatus.UNAUTHORIZED
    assert ModelBackend().get_user(pk) is None


def test_a_row_changed_by_a_rolled_back_transaction_is_never_kept(
    near_caches, user, django_assert_num_queries
):
    user.first_name = "Committed"
    user.save()
    backend = ModelBackend()

    with transaction.atomic():
        user.first_name = "Rolled back"
        user.save()
        inside = backend.get_user(user.pk)
        inside_again = backend.get_user(user.pk)
        transaction.set_rollback(True)
    after = backend.get_user(user.pk)
    with django_assert_num_queries(0):
        kept = backend.get_user(user.pk)

    assert inside.first_name == inside_again.first_name == "Rolled back"
    assert after.first_name == kept.first_name == "Committed"


def test_a_copy_taken_before_a_rolled_back_change_stays_the_committed_row(
    near_caches, user, django_assert_num_queries
):
    backend = ModelBackend()
    backend.get_user(user.pk)
    original = user.first_name

    with transaction.atomic():
        user.first_name = "Rolled back"
        user.save()
        backend.get_user(user.pk)
        transaction.set_rollback(True)
    with django_assert_num_queries(0):
        after = backend.get_user(user.pk)

    assert after.first_name == original


def test_a_request_inside_an_enclosing_transaction_keeps_no_row_that_transaction_changed(
    near_caches, user, password
):
    """As a test, or a request made in process from within another, can: the request starts
    while the save is still uncommitted."""
    client = signed_in_with_the_form(user, password)
    original = user.first_name

    with transaction.atomic():
        user.first_name = "Rolled back"
        user.save()
        status, reads = me(client)
        transaction.set_rollback(True)
    after = ModelBackend().get_user(user.pk)

    assert status == HTTPStatus.OK
    assert reads  # the row, as this transaction sees it, was read
    assert after.first_name == original


def test_a_committed_save_is_read_again_once(near_caches, user, django_assert_num_queries):
    backend = ModelBackend()
    backend.get_user(user.pk)

    user.first_name = "Renamed"
    user.save()
    with django_assert_num_queries(1):
        renamed = backend.get_user(user.pk)
    with django_assert_num_queries(0):
        again = backend.get_user(user.pk)

    assert renamed.first_name == again.first_name == "Renamed"
    assert renamed is not again


def test_a_change_without_a_save_is_seen_once_announced(
    near_caches, user, django_assert_num_queries
):
    """The documented contract: QuerySet.update sends no signal, so the copy stays until
    user_copies_invalidate (or MAX_LOCAL_SECONDS)."""
    backend = ModelBackend()
    backend.get_user(user.pk)

    User.objects.filter(pk=user.pk).update(first_name="Updated")
    with django_assert_num_queries(0):
        before_announcement = backend.get_user(user.pk)
    user_copies_invalidate(pk=user.pk)
    after_announcement = backend.get_user(user.pk)

    assert before_announcement.first_name == user.first_name
    assert after_announcement.first_name == "Updated"


def test_an_unknown_user_is_none_and_never_kept(near_caches, django_assert_num_queries):
    backend = ModelBackend()

    with django_assert_num_queries(2):
        answers = [backend.get_user(999_999), backend.get_user(999_999)]

    assert answers == [None, None]


@pytest.fixture
def memory_caches():
    """Every alias in process memory, whatever the configuration (CI's second pass has Redis)."""
    with override_settings(CACHES={"default": LOCMEM, "sessions": LOCMEM, "revocation": LOCMEM}):
        yield


@pytest.mark.parametrize("backend_class", [ModelBackend, AuthenticationBackend])
def test_without_a_nearcache_every_call_reads_the_row_as_djangos_backend_does(
    memory_caches, user, django_assert_num_queries, backend_class
):
    backend = backend_class()
    reference = django_backends.ModelBackend()

    for _ in range(3):
        with django_assert_num_queries(1):
            found = backend.get_user(user.pk)
        expected = reference.get_user(user.pk)
        assert (found.pk, found.username, found.password, found.email) == (
            expected.pk,
            expected.username,
            expected.password,
            expected.email,
        )
    User.objects.filter(pk=user.pk).update(first_name="Updated")
    with django_assert_num_queries(1):
        updated = backend.get_user(user.pk)
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert updated.first_name == "Updated"
    assert backend.get_user(user.pk) is None
    assert reference.get_user(user.pk) is None
    assert backend.get_user(999_999) is None
