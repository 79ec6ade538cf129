"""Revocation marks in the shared cache, checked on every bearer request in one round trip.

Marks are keyed on what a verified token says, never on the token text, and every key of one
person carries the same Redis hash tag (`{<user id>}`), so one MGET reads a token's three marks,
on one server or on a Redis Cluster:

- `api:revoked:{<user>}:jti:<jti>`: one access token revoked by itself (RFC 7009), until it
  expires;
- `api:revoked:{<user>}:fid:<family id>`: every token of a family (revoked, reused, revoke-all,
  evicted);
- `api:revoked:{<user>}:user`: the person's "not before" (0: none): tokens issued in an earlier
  second are refused. It is also what says the person's marks are in the cache at all: it is
  written with the first token they get and lives as long as any of their tokens can, so a token
  whose person has none is one whose marks the cache lost (Redis restarted without its data).
  Such a check asks the database about its own token (one query) and copies the person's live
  marks back.

Values are integers, which django-redis stores as they are: the check unpickles nothing.

The database is the authority: every mark is written there first (api.models.RevocationMark,
in the caller's transaction), and reaches the cache only once that transaction commits
(transaction.on_commit), before the service that made it returns: a transaction rolled back
leaves no trace in the cache, and a revocation that returned is refused by the very next request
on every server. A family or user mark lives as long as the refresh lifetime, the longest any
token it refuses can live. `iat` counts whole seconds, so revoke-all also marks each family it
revokes: together they refuse the tokens issued earlier in the very same second.

Whether a family's last-used time is due is asked of the process's memory first (the "local"
cache: at most once a minute per family and process), then settled across processes with one
`add` of `api:used:fid:<family id>` in the shared cache: the process that adds it writes the
time. That add is the one round trip a bearer request makes beyond the MGET, once a minute.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.db import transaction
from django.db.models import Q
from rest_framework_simplejwt import settings as jwt_settings

from api import clock
from api.models import RevocationMark
from api.token_errors import Rejection


def jti_key(user_id: str, jti: str) -> str:
    return f"api:revoked:{{{user_id}}}:jti:{jti}"


def family_key(user_id: str, family_id: str) -> str:
    return f"api:revoked:{{{user_id}}}:fid:{family_id}"


def user_key(user_id: str) -> str:
    return f"api:revoked:{{{user_id}}}:user"


def used_key(family_id: str) -> str:
    return f"api:used:fid:{family_id}"


# A mark's value in the cache: present means refused; a family mark says why.
REVOKED = 1
EVICTED = 2
FAMILY_REJECTIONS = {REVOKED: Rejection.REVOKED, EVICTED: Rejection.EVICTED}


@dataclass(frozen=True)
class AccessCheck:
    """What the cache says about one verified access token (and the DPoP proof sent with it)."""

    rejection: Rejection | None
    record_use: bool
    # The proof's jti was not seen before (always True without a proof).
    proof_first_use: bool = True


def family_rejection(family: Any) -> Rejection:
    """What a revoked family's tokens answer (None: a family that no longer exists)."""
    evicted = family is not None and family.revoked_reason == family.RevokeReason.LIMIT
    return Rejection.EVICTED if evicted else Rejection.REVOKED


def mark_lifetime() -> int:
    """Seconds a family or user mark must live: as long as any token it can refuse."""
    api = jwt_settings.api_settings
    return int(api.REFRESH_TOKEN_LIFETIME.total_seconds()) + int(api.LEEWAY or 0) + 1


def proof_key(user_id: str, proof_id: str) -> str:
    """Where a DPoP proof sent with a token of `user_id` is remembered (`proof_id`: a digest of
    its key and jti), under the person's hash tag, beside their marks."""
    return f"api:dpop:{{{user_id}}}:proof:{proof_id}"


def access_token_check(
    *, claims: dict[str, Any], proof_id: str | None = None, proof_seconds: int = 0
) -> AccessCheck:
    """Revoked or not, and whether the family's last-used time is due (then it is recorded as
    taken: the caller writes it). With `proof_id`, the DPoP proof sent with the token is also
    remembered for `proof_seconds`, in the same round trip, and `proof_first_use` says whether
    it was new. For a token being used; to look without using it, call `access_token_rejection`."""
    user_id = str(claims["sub"])
    remember = (proof_key(user_id, proof_id), proof_seconds) if proof_id is not None else None
    rejection, first_use = _rejection(claims=claims, remember=remember)
    return AccessCheck(
        rejection=rejection,
        record_use=rejection is None and _family_use_due(claims["fid"]),
        proof_first_use=first_use,
    )


def access_token_rejection(*, claims: dict[str, Any]) -> Rejection | None:
    """Why a mark refuses the verified token `claims` describe, if one does: one MGET."""
    return _rejection(claims=claims, remember=None)[0]


def _marks_read(keys: list[str], remember: tuple[str, int] | None) -> tuple[dict[str, Any], bool]:
    """The marks found under `keys` and, with `remember` (a key and seconds), whether that key
    was added (SET NX). On Redis: the MGET alone, or the MGET and the SET NX in one pipeline;
    one round trip either way, its keys under one hash tag so a Redis Cluster serves them from
    one node, sent through django-redis's client with nothing between (the marks are integers,
    which django-redis stores as they are). Elsewhere (local memory): an add, then the read."""
    client = getattr(cache, "client", None)
    if not hasattr(client, "get_client"):
        added = cache.add(remember[0], 1, timeout=remember[1]) if remember else True
        return cache.get_many(keys), added
    # The primary's client: on Sentinel every read goes there (a replica may lag a revocation).
    redis = client.get_client(write=True)
    names = [cache.make_key(each) for each in keys]
    if remember is None:
        values, added = redis.mget(names), True
    else:
        pipeline = redis.pipeline(transaction=False)
        pipeline.mget(names)
        pipeline.set(cache.make_key(remember[0]), 1, nx=True, ex=remember[1])
        values, added = pipeline.execute()
    found = {
        each: client.decode(value)
        for each, value in zip(keys, values, strict=True)
        if value is not None
    }
    return found, bool(added)


def _rejection(
    *, claims: dict[str, Any], remember: tuple[str, int] | None
) -> tuple[Rejection | None, bool]:
    jti, family_id, user_id = claims["jti"], claims["fid"], str(claims["sub"])
    keys = [jti_key(user_id, jti), family_key(user_id, family_id), user_key(user_id)]
    found, first_use = _marks_read(keys, remember)
    return _marks_rejection(claims, keys, found), first_use


def _marks_rejection(
    claims: dict[str, Any], keys: list[str], found: dict[str, Any]
) -> Rejection | None:
    jti, family_id, user_id = claims["jti"], claims["fid"], str(claims["sub"])
    if keys[2] not in found:
        found = _marks_from_database(jti=jti, family_id=family_id, user_id=user_id)
        user_marks_restore(user_id=user_id)
    if keys[1] in found:
        return FAMILY_REJECTIONS.get(found[keys[1]], Rejection.REVOKED)
    if keys[0] in found or claims["iat"] < found.get(keys[2], 0):
        return Rejection.REVOKED
    return None


def _marks_from_database(*, jti: str, family_id: str, user_id: str) -> dict[str, int]:
    subjects = Q(kind=RevocationMark.Kind.TOKEN, subject=jti) | Q(
        kind=RevocationMark.Kind.FAMILY, subject=family_id
    )
    subjects |= Q(kind=RevocationMark.Kind.USER, subject=user_id)
    rows = RevocationMark.objects.filter(subjects)
    return {
        _mark_key(kind, user_id, subject): _mark_value(kind, not_before, evicted)
        for kind, subject, not_before, evicted in rows.values_list(*MARK_FIELDS)
    }


MARK_FIELDS = ("kind", "subject", "not_before", "evicted")


def _mark_value(kind: str, not_before: int | None, evicted: bool) -> int:
    if kind == RevocationMark.Kind.USER:
        return not_before or 0
    return EVICTED if evicted else REVOKED


def _mark_key(kind: str, user_id: str, subject: str) -> str:
    if kind == RevocationMark.Kind.TOKEN:
        return jti_key(user_id, subject)
    if kind == RevocationMark.Kind.FAMILY:
        return family_key(user_id, subject)
    return user_key(user_id)


def user_marks_restore(*, user_id: str) -> int:
    """Copy the person's live marks from the database into the cache, then their user key (with
    `add`: a revoke-all that committed meanwhile has written a newer one). The number of marks
    copied. Marks only ever refuse, so copying one late is harmless."""
    rows = RevocationMark.objects.filter(user_id=user_id, expires_at__gt=clock.now())
    not_before = 0
    restored = {}
    for kind, subject, nb, evicted in rows.values_list(*MARK_FIELDS):
        if kind == RevocationMark.Kind.USER:
            not_before = nb or 0
        else:
            restored[_mark_key(kind, user_id, subject)] = _mark_value(kind, nb, evicted)
    # Each mark lives as long as the longest a mark may: longer only refuses expired tokens.
    cache.set_many(restored, timeout=mark_lifetime())
    cache.add(user_key(user_id), not_before, timeout=mark_lifetime())
    return len(restored)


def user_marks_keep(*, user_id: str) -> None:
    """Once the transaction that issues the person a token commits: their user key lives as long
    as that token can (restored first if the cache lost it)."""

    def keep() -> None:
        if not cache.touch(user_key(user_id), timeout=mark_lifetime()):
            user_marks_restore(user_id=user_id)

    transaction.on_commit(keep)


def _family_use_due(family_id: str) -> bool:
    resolution = settings.JWT_LAST_USED_RESOLUTION_SECONDS
    return caches["local"].add(used_key(family_id), True, timeout=resolution) and cache.add(
        used_key(family_id), True, timeout=resolution
    )


def access_token_mark_revoked(*, user_id: str, jti: str, expires_at: int, now: dt.datetime) -> None:
    remaining = expires_at - int(now.timestamp()) + int(jwt_settings.api_settings.LEEWAY or 0) + 1
    if remaining > 0:
        RevocationMark.objects.get_or_create(
            kind=RevocationMark.Kind.TOKEN,
            subject=jti,
            defaults={"user_id": user_id, "expires_at": now + dt.timedelta(seconds=remaining)},
        )
        key = jti_key(user_id, jti)
        transaction.on_commit(lambda: cache.set(key, REVOKED, timeout=remaining))


def families_mark_revoked(
    *, families: Iterable[tuple[str, str]], now: dt.datetime, evicted: bool = False
) -> None:
    """Mark every (user id, family id) of `families` revoked (`evicted`: to make room for a newer
    sign-in, which their tokens' refusal says)."""
    families = list(families)
    if not families:
        return
    expires_at = now + dt.timedelta(seconds=mark_lifetime())
    RevocationMark.objects.bulk_create(
        [
            RevocationMark(
                kind=RevocationMark.Kind.FAMILY,
                subject=fid,
                user_id=uid,
                evicted=evicted,
                expires_at=expires_at,
            )
            for uid, fid in families
        ],
        ignore_conflicts=True,
    )
    marks = {family_key(uid, fid): EVICTED if evicted else REVOKED for uid, fid in families}
    transaction.on_commit(lambda: cache.set_many(marks, timeout=mark_lifetime()))


def user_mark_not_before(*, user_id: str, now: dt.datetime) -> None:
    """Refuse every token of the user issued before the current second."""
    RevocationMark.objects.update_or_create(
        kind=RevocationMark.Kind.USER,
        subject=user_id,
        defaults={
            "user_id": user_id,
            "not_before": int(now.timestamp()),
            "expires_at": now + dt.timedelta(seconds=mark_lifetime()),
        },
    )
    transaction.on_commit(lambda: _user_key_publish(user_id=user_id))


def _user_key_publish(*, user_id: str) -> None:
    """Write the person's "not before" as last committed: read under the mark's row lock and
    written before it goes, so of two revoke-alls the newer is the one the cache keeps."""
    with transaction.atomic():
        not_before = (
            RevocationMark.objects.select_for_update()
            .filter(kind=RevocationMark.Kind.USER, subject=user_id)
            .values_list("not_before", flat=True)
            .first()
        )
        cache.set(user_key(user_id), not_before or 0, timeout=mark_lifetime())
