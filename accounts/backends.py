"""Authentication backends whose session lookups read a copy of the user kept in memory.

Every session-authenticated request asks the backend for the user the session names: Django's
ModelBackend reads the row each time (on PostgreSQL, a query inside the request's transaction:
BEGIN, SELECT, COMMIT, and the connection's health check). These backends keep the row's values
in the process (config.nearcache.NearCache.get_or_load_local, in AUTH_USER_COPIES_CACHE), so a
repeated request reads no row at all.

The copy is as fresh as the row. Every save or delete of a user announces, once committed, that
copies of it are stale (user_copies_invalidate, connected in accounts.receivers), and the next
request anywhere reads the row again: a changed password still ends the other sessions at once,
as does deactivation. A row read while the same transaction has changed it is not kept (the
change may yet be rolled back). A change made without a save (QuerySet.update, raw SQL) is not
announced: it reaches other processes after MAX_LOCAL_SECONDS, or at once with
`user_copies_invalidate`.

Without a NearCache in AUTH_USER_COPIES_CACHE (development and tests on one process) the
backends read the row as Django's do.
"""

import functools
import threading
from typing import Any

from allauth.account import auth_backends as allauth_backends
from django.conf import settings
from django.contrib.auth import backends as django_backends
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import connections, router, transaction

from config.nearcache import NearCache

# Users this thread has saved in a transaction that has not committed (or was rolled back):
# their rows, as this thread reads them, may hold changes no one else will ever see.
_unsettled = threading.local()


def _unsettled_pks() -> set[Any]:
    pks = getattr(_unsettled, "pks", None)
    if pks is None:
        pks = _unsettled.pks = set()
    return pks


def user_copies() -> NearCache | None:
    copies = caches[settings.AUTH_USER_COPIES_CACHE]
    return copies if isinstance(copies, NearCache) else None


def user_copy_key(pk: Any) -> str:
    return f"user-row:{pk}"


def user_copies_invalidate(*, pk: Any) -> None:
    """Tell every process its copy of user `pk` is stale, once the current transaction commits
    (at once outside one)."""
    copies = user_copies()
    if copies is None:
        return
    user_model = get_user_model()
    database = router.db_for_write(user_model)
    if connections[database].in_atomic_block:
        _unsettled_pks().add(pk)

    def announce() -> None:
        _unsettled_pks().discard(pk)
        copies.delete(user_copy_key(pk))

    transaction.on_commit(announce, using=database)


def user_copies_settle() -> None:
    """Forget what rolled-back transactions left unsettled (at the start of each request), unless
    a transaction is still open around the request (a test, or a request made in process from
    within another): what it saved is still unsettled."""
    database = router.db_for_write(get_user_model())
    if not connections[database].in_atomic_block:
        _unsettled_pks().clear()


@functools.cache
def _row_fields(user_model: type) -> list[str]:
    """The user row's columns, in the order Model.from_db takes them."""
    return [field.attname for field in user_model._meta.concrete_fields]


class UserCopiesMixin:
    """`get_user` answered from a copy of the user's row when there is one."""

    def get_user(self, user_id: Any) -> Any:
        """`user_id`: django.contrib.auth.get_user has made it a primary key value already."""
        copies = user_copies()
        user_model = get_user_model()
        database = router.db_for_read(user_model)
        if copies is None or (
            connections[database].in_atomic_block and user_id in _unsettled_pks()
        ):
            return super().get_user(user_id)
        fields = _row_fields(user_model)

        def row() -> tuple[Any, ...] | None:
            return (
                user_model._default_manager.using(database)
                .filter(pk=user_id)
                .values_list(*fields)
                .first()
            )

        values = copies.get_or_load_local(user_copy_key(user_id), row)
        if values is None:
            return None
        user = user_model.from_db(database, fields, values)
        return user if self.user_can_authenticate(user) else None


class ModelBackend(UserCopiesMixin, django_backends.ModelBackend):
    """Django's ModelBackend (the admin's username and password sign-in)."""


class AuthenticationBackend(UserCopiesMixin, allauth_backends.AuthenticationBackend):
    """allauth's backend (sign-in by provider, by email and password)."""
