"""Revocation marks in the shared cache, checked on every bearer request.

They live in the "revocation" cache alias: on Redis a config.memory.NearCache, so the check reads
the process's own copies (a mark found missing too) and costs no round trip, while a revocation
written anywhere is refused from the next request in every process.

Marks are keyed on what a verified token says, never on the token text:

- `api:revoked:jti:<jti>`: one access token revoked by itself (RFC 7009), until it expires;
- `api:revoked:fid:<family id>`: every token of a family (revoked, reused, revoke-all);
- `api:revoked:user:<user id>`: the user's "not before": tokens issued in an earlier second.

A family or user mark lives as long as the refresh lifetime, the longest any token it refuses can
live. The user mark needs no list of families, but `iat` counts whole seconds, so revoke-all also
marks each family it revokes: together they refuse the tokens issued earlier in the very same
second.

The database is the authority: every mark is written there first (api.models.RevocationMark),
then to the cache. The cache also holds `api:revocation:restored`, written once the marks have
been copied from the database; it goes only if Redis loses its data (a restart without
persistence, an eviction). A check that finds it missing asks the database about its own token
(one query) and copies every live mark back into the cache, once across processes; so a Redis
that comes back empty never makes a revoked token valid again.

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
from django.db.models import Q
from rest_framework_simplejwt import settings as jwt_settings

from api import clock
from api.models import RevocationMark
from api.token_errors import Rejection


def marks() -> BaseCache:
    return caches["revocation"]


def jti_key(jti: str) -> str:
    return f"api:revoked:jti:{jti}"


def family_key(family_id: str) -> str:
    return f"api:revoked:fid:{family_id}"


def user_key(user_id: str) -> str:
    return f"api:revoked:user:{user_id}"


RESTORED_KEY = "api:revocation:restored"
RESTORING_KEY = "api:revocation:restoring"
# How long one process may take to copy the marks back before another may try.
RESTORE_SECONDS = 30
MARK_KEYS = {
    RevocationMark.Kind.TOKEN: jti_key,
    RevocationMark.Kind.FAMILY: family_key,
    RevocationMark.Kind.USER: user_key,
}


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
    keys = [jti_key(jti), family_key(family_id), user_key(user_id)]
    found = marks().get_many([*keys, RESTORED_KEY])
    if RESTORED_KEY not in found:
        found = _marks_from_database(jti=jti, family_id=family_id, user_id=user_id)
        marks_restore()
    not_before = found.get(user_key(user_id))
    return (
        jti_key(jti) in found
        or family_key(family_id) in found
        or (not_before is not None and claims["iat"] < not_before)
    )


def _marks_from_database(*, jti: str, family_id: str, user_id: str) -> dict[str, Any]:
    subjects = Q(kind=RevocationMark.Kind.TOKEN, subject=jti) | Q(
        kind=RevocationMark.Kind.FAMILY, subject=family_id
    )
    subjects |= Q(kind=RevocationMark.Kind.USER, subject=user_id)
    rows = RevocationMark.objects.filter(subjects).values_list("kind", "subject", "not_before")
    return {MARK_KEYS[kind](subject): _mark_value(not_before) for kind, subject, not_before in rows}


def _mark_value(not_before: int | None) -> Any:
    return True if not_before is None else not_before


def marks_restore() -> int:
    """Copy every live mark from the database into the cache, unless another process is at it;
    then say so with RESTORED_KEY. The number of marks copied (0 when another process has it)."""
    store = marks()
    if not store.add(RESTORING_KEY, True, timeout=RESTORE_SECONDS):
        return 0
    rows = RevocationMark.objects.filter(expires_at__gt=clock.now()).values_list(
        "kind", "subject", "not_before"
    )
    restored = {MARK_KEYS[kind](subject): _mark_value(nb) for kind, subject, nb in rows.iterator()}
    # Each mark lives as long as the longest a mark may: longer only refuses expired tokens.
    store.set_many(restored, timeout=mark_lifetime())
    store.set(RESTORED_KEY, True, timeout=None)
    store.delete(RESTORING_KEY)
    return len(restored)


def _family_use_due(family_id: str) -> bool:
    resolution = settings.JWT_LAST_USED_RESOLUTION_SECONDS
    return caches["local"].add(used_key(family_id), True, timeout=resolution) and cache.add(
        used_key(family_id), True, timeout=resolution
    )


def access_token_mark_revoked(*, jti: str, expires_at: int, now: dt.datetime) -> None:
    remaining = expires_at - int(now.timestamp()) + int(jwt_settings.api_settings.LEEWAY or 0) + 1
    if remaining > 0:
        RevocationMark.objects.get_or_create(
            kind=RevocationMark.Kind.TOKEN,
            subject=jti,
            defaults={"expires_at": now + dt.timedelta(seconds=remaining)},
        )
        marks().set(jti_key(jti), True, timeout=remaining)


def families_mark_revoked(*, family_ids: Iterable[str], now: dt.datetime) -> None:
    family_ids = list(family_ids)
    expires_at = now + dt.timedelta(seconds=mark_lifetime())
    RevocationMark.objects.bulk_create(
        [
            RevocationMark(kind=RevocationMark.Kind.FAMILY, subject=fid, expires_at=expires_at)
            for fid in family_ids
        ],
        ignore_conflicts=True,
    )
    marks().set_many({family_key(fid): True for fid in family_ids}, timeout=mark_lifetime())


def user_mark_not_before(*, user_id: str, now: dt.datetime) -> None:
    """Refuse every token of the user issued before the current second."""
    not_before = int(now.timestamp())
    RevocationMark.objects.update_or_create(
        kind=RevocationMark.Kind.USER,
        subject=user_id,
        defaults={
            "not_before": not_before,
            "expires_at": now + dt.timedelta(seconds=mark_lifetime()),
        },
    )
    marks().set(user_key(user_id), not_before, timeout=mark_lifetime())
