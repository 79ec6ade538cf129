"""Authentication backends that find a session's user in the shared cache, not the database.

Every session request asks the backend for the user its session names. Django's ModelBackend
reads the row each time; these read the person's *user state* from the `default` cache (Redis
in production, one GET): the row's columns except the password, and the session auth hash
Django derives from the password hash (an HMAC under SECRET_KEY, the value Django already keeps
in each session), so no password hash goes into the cache.

Exact by construction, with no invalidation to race: the state is written only by
`user_state_publish`, which reads the row under its lock (SELECT ... FOR UPDATE) and writes the
state before the lock goes. Every change to the row takes the same lock, so none can commit
between that read and that write: the state written last is the last committed row. Every change
accounts.services makes publishes the state once it commits (`user_state_changed`), before the
service returns, so a new password (the session's hash no longer matches), a deactivation or a
deletion refuses the very next request on every server. A request that finds no state (the first
after sign-in, after USER_STATE_SECONDS, after Redis lost its data) publishes it the same way.
A row changed outside accounts.services (the shell, a raw UPDATE) is seen within
USER_STATE_SECONDS.
"""

import functools
import hashlib
from typing import Any

from allauth.account import auth_backends as allauth_backends
from django.contrib.auth import backends as django_backends
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import router, transaction

# How long a published state lives: the bound on seeing a row changed outside accounts.services,
# and how often an active person's state is read from the database again.
USER_STATE_SECONDS = 300
# The one column that never leaves the database.
PRIVATE_FIELDS = frozenset({"password"})


@functools.cache
def _state_fields(user_model: type) -> tuple[tuple[str, ...], str]:
    """The user row's columns a state holds, in Model.from_db's order, and a digest of their
    names: a deployment that adds a column reads states under a new key, never an old one."""
    fields = tuple(
        field.attname
        for field in user_model._meta.concrete_fields
        if field.attname not in PRIVATE_FIELDS
    )
    return fields, hashlib.sha256(" ".join(fields).encode()).hexdigest()[:8]


def user_state_key(pk: Any) -> str:
    _, digest = _state_fields(get_user_model())
    return f"accounts:user:{digest}:{pk}"


def user_state_publish(*, pk: Any) -> Any:
    """Read user `pk` under its row lock and write its state to the cache before the lock goes;
    delete the state of a user that no longer exists. The user, or None."""
    user_model = get_user_model()
    database = router.db_for_write(user_model)
    fields, _ = _state_fields(user_model)
    with transaction.atomic(using=database):
        user = user_model._default_manager.using(database).select_for_update().filter(pk=pk).first()
        if user is None:
            cache.delete(user_state_key(pk))
            return None
        values = (*(getattr(user, field) for field in fields), user.get_session_auth_hash())
        cache.set(user_state_key(pk), values, timeout=USER_STATE_SECONDS)
    return user


def user_state_changed(*, pk: Any) -> None:
    """Call in the transaction that changes user `pk`: its state is published once it commits
    (at once outside a transaction)."""
    database = router.db_for_write(get_user_model())
    transaction.on_commit(lambda: user_state_publish(pk=pk), using=database)


def user_current(*, pk: Any) -> Any:
    """User `pk` as last committed (its state, or its row read now), or None."""
    user_model = get_user_model()
    database = router.db_for_read(user_model)
    fields, _ = _state_fields(user_model)
    values = cache.get(user_state_key(pk))
    if values is None:
        if transaction.get_connection(database).in_atomic_block:
            # Inside a transaction the row may hold changes that are rolled back later.
            return user_model._default_manager.using(database).filter(pk=pk).first()
        return user_state_publish(pk=pk)
    *row, session_auth_hash = values
    user = user_model.from_db(database, fields, row)
    user.shared_session_auth_hash = session_auth_hash
    return user


class UserStateMixin:
    """`get_user` answered from the user's shared state."""

    def get_user(self, user_id: Any) -> Any:
        """`user_id`: django.contrib.auth.get_user has made it a primary key value already."""
        user = user_current(pk=user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(UserStateMixin, django_backends.ModelBackend):
    """Django's ModelBackend (the admin's username and password sign-in)."""


class AuthenticationBackend(UserStateMixin, allauth_backends.AuthenticationBackend):
    """allauth's backend (sign-in by provider, by email and password)."""
