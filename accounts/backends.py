"""Authentication backends whose session lookups read a copy of the user's row.

Every session-authenticated request asks the backend for the user the session names; Django's
ModelBackend reads the row each time. These keep the row's values in the "users" cache
(config.memory: this process's memory, each copy for at most a second), so a burst of requests
reads the row once.

`user_copy_forget` drops every process's copy, at once and when the transaction commits: the account
services call it for every change they make (accounts.services), so a new password or a
deactivation refuses the very next request anywhere. A row written some other way (the shell,
`QuerySet.update`) is seen within the copies' lifetime, a second.
"""

import functools
from typing import Any

from allauth.account import auth_backends as allauth_backends
from django.contrib.auth import backends as django_backends
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import router, transaction


def user_copy_key(pk: Any) -> str:
    return f"user-row:{pk}"


def user_copy_forget(*, pk: Any) -> None:
    """Drop every process's copy of user `pk` now, and again once the current transaction
    commits: another process may read the old row in between."""
    key = user_copy_key(pk)
    caches["users"].delete(key)
    database = router.db_for_write(get_user_model())
    if transaction.get_connection(database).in_atomic_block:
        transaction.on_commit(lambda: caches["users"].delete(key), using=database)


@functools.cache
def _row_fields(user_model: type) -> tuple[str, ...]:
    """The user row's columns, in the order Model.from_db takes them."""
    return tuple(field.attname for field in user_model._meta.concrete_fields)


def user_current(*, pk: Any) -> Any:
    """User `pk` as its row was at most a second ago (a copy, or read now), or None."""
    user_model = get_user_model()
    database = router.db_for_read(user_model)
    fields = _row_fields(user_model)
    copies = caches["users"]
    values = copies.get(user_copy_key(pk))
    if values is None:
        values = (
            user_model._default_manager.using(database).filter(pk=pk).values_list(*fields).first()
        )
        if values is None:
            return None
        # Read inside a transaction, the row may hold changes that are rolled back later.
        if not transaction.get_connection(database).in_atomic_block:
            copies.set(user_copy_key(pk), values)
    return user_model.from_db(database, fields, values)


class UserCopiesMixin:
    """`get_user` answered from a copy of the user's row when there is one."""

    def get_user(self, user_id: Any) -> Any:
        """`user_id`: django.contrib.auth.get_user has made it a primary key value already."""
        user = user_current(pk=user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(UserCopiesMixin, django_backends.ModelBackend):
    """Django's ModelBackend (the admin's username and password sign-in)."""


class AuthenticationBackend(UserCopiesMixin, allauth_backends.AuthenticationBackend):
    """allauth's backend (sign-in by provider, by email and password)."""
