"""The published JWK Set: the public half of every key that verifies now."""

import datetime as dt
from typing import Any

from api import clock
from api.keys.store import key_store


def jwks_document(*, now: dt.datetime | None = None) -> dict[str, list[dict[str, Any]]]:
    """The JWK Set (RFC 7517 section 5) of every key that verifies now, newest first."""
    keys = key_store().key_set().published(now=now or clock.now())
    keys.sort(key=lambda key: key.activated_at, reverse=True)
    return {"keys": [key.public_jwk() for key in keys]}
