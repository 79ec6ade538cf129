"""Revocation marks in the shared cache, checked on every bearer request.

They live in the "revocation" cache alias: on Redis a config.memory.NearCache, so the check reads
the process's own copies (a mark found missing too) and costs no round trip, while a revocation
written anywhere reaches every process before the next request.

Marks are keyed on what a verified token says, never on the token text:

- `api:revoked:jti:<jti>`: one access token revoked by itself (RFC 7009), until it expires;
- `api:revoked:fid:<family id>`: every token of a family (revoked, reused, revoke-all);
- `api:revoked:user:<user id>`: the user's "not before": tokens issued in an earlier second.

A family or user mark lives as long as the refresh lifetime, the longest any token it refuses can
live. The database stays the authority for refresh tokens (api.models.TokenFamily); the cache
marks make the same decision reach access tokens at once, in every process that shares the cache.
The user mark needs no list of families, but `iat` counts whole seconds, so revoke-all also marks
each family it revokes: together they refuse the tokens issued earlier in the very same second.

Whether a family's last-used time is due is asked of the process's memory first (the "local"
cache: at most once a minute per family and process), then settled across processes with one
`add` of `api:used:fid:<family id>` in the default cache: the process that adds it writes the time.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, cache, caches
from rest_framework_simplejwt import settings as jwt_settings

from api.token_errors import Rejection


def marks() -> BaseCache:
    return caches["revocation"]


def jti_key(jti: str) -> str:
    return f"api:revoked:jti:{jti}"


def family_key(family_id: str) -> str:
    return f"api:revoked:fid:{family_id}"


def user_key(user_id: str) -> str:
    return f"api:revoked:user:{user_id}"


def used_key(family_id: str) -> str:
    return f"api:used:fid:{family_id}"


@dataclass(frozen=True)
class AccessCheck:
    """What the cache says about one verified access token."""

    rejection: Rejection | None
    record_use: bool


def mark_lifetime() -> int:
    """Seconds a family or user mark must live: as long as any token it can refuse."""
    api = jwt_settings.api_settings
    return int(api.REFRESH_TOKEN_LIFETIME.total_seconds()) + int(api.LEEWAY or 0) + 1


def access_token_check(*, claims: dict[str, Any]) -> AccessCheck:
    """Revoked or not, and whether the family's last-used time is due (then it is recorded as
    taken: the caller writes it). For a token being used; to look without using it, call
    `access_token_revoked`."""
    revoked = access_token_revoked(claims=claims)
    return AccessCheck(
        rejection=Rejection.REVOKED if revoked else None,
        record_use=not revoked and _family_use_due(claims["fid"]),
    )


def access_token_revoked(*, claims: dict[str, Any]) -> bool:
    """Whether a mark refuses the verified token `claims` describe."""
    jti, family_id, user_id = claims["jti"], claims["fid"], claims["sub"]
    found = marks().get_many([jti_key(jti), family_key(family_id), user_key(user_id)])
    not_before = found.get(user_key(user_id))
    return (
        jti_key(jti) in found
        or family_key(family_id) in found
        or (not_before is not None and claims["iat"] < not_before)
    )


def _family_use_due(family_id: str) -> bool:
    resolution = settings.JWT_LAST_USED_RESOLUTION_SECONDS
    return caches["local"].add(used_key(family_id), True, timeout=resolution) and cache.add(
        used_key(family_id), True, timeout=resolution
    )


def access_token_mark_revoked(*, jti: str, expires_at: int, now: dt.datetime) -> None:
    remaining = expires_at - int(now.timestamp()) + int(jwt_settings.api_settings.LEEWAY or 0) + 1
    if remaining > 0:
        marks().set(jti_key(jti), True, timeout=remaining)


def families_mark_revoked(*, family_ids: Iterable[str]) -> None:
    marks().set_many(
        {family_key(family_id): True for family_id in family_ids}, timeout=mark_lifetime()
    )


def user_mark_not_before(*, user_id: str, now: dt.datetime) -> None:
    """Refuse every token of the user issued before the current second."""
    marks().set(user_key(user_id), int(now.timestamp()), timeout=mark_lifetime())
