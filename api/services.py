"""Writes of the bearer-token API: issuing, rotating and revoking tokens, and the notes.

The token endpoints, the tokens page, admin actions and the account-change receivers all call
these; none takes a request except to authenticate a password, which is about the request.
"""

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from allauth.account import app_settings as allauth_settings
from allauth.account.utils import has_verified_email
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from rest_framework_simplejwt import settings as jwt_settings
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.flow_recording import mask
from accounts.models import AuditEvent, User
from accounts.services import audit_event_record
from api import clock, revocation, sealing
from api.encryption import encryption_configured, token_encrypt
from api.exceptions import (
    EmailNotVerifiedError,
    InvalidCredentialsError,
    SecondFactorRequiredError,
)
from api.models import Note, RevocationMark, TokenFamily
from api.token_errors import RejectedTokenError, Rejection
from api.tokens import (
    CLIENT_CLAIM,
    CONFIRMATION_CLAIM,
    AccessToken,
    AnyToken,
    RefreshToken,
    bound_jkt,
    token_unwrap,
)
from config.outages import DATABASE_UNREACHABLE

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TokenPair:
    """An access and a refresh token just issued, in the form clients receive them."""

    access: str
    refresh: str
    access_expires_at: dt.datetime
    refresh_expires_at: dt.datetime
    family: TokenFamily
    # The person's least recently used families, evicted to keep API_MAX_LIVE_TOKEN_FAMILIES.
    displaced: tuple[TokenFamily, ...] = ()
    # The access token is bound to a DPoP key (RFC 9449): it is sent with the DPoP scheme.
    dpop_bound: bool = False

    @property
    def token_type(self) -> str:
        """The scheme the access token is sent with."""
        return "DPoP" if self.dpop_bound else jwt_settings.api_settings.AUTH_HEADER_TYPES[0]

    @property
    def expires_in(self) -> int:
        return max(0, int((self.access_expires_at - clock.now()).total_seconds()))

    def masked(self) -> dict[str, Any]:
        """The token response as a recorded flow shows it: the tokens masked."""
        return {
            "access_token": mask(self.access),
            "token_type": self.token_type,
            "expires_in": self.expires_in,
            "refresh_token": mask(self.refresh),
            "family": self.family.id.hex,
        }


@dataclass(frozen=True)
class AccessTokenForms:
    """One access token's claims, as the signed JWT and as the same JWT encrypted (None without
    an encryption key)."""

    claims: dict[str, Any]
    signed: str
    encrypted: str | None


def access_token_serialize(access: AccessToken) -> str:
    """The access token as issued: signed, and encrypted too when JWT_ENCRYPT_ACCESS_TOKENS."""
    signed = str(access)
    return token_encrypt(signed=signed) if settings.JWT_ENCRYPT_ACCESS_TOKENS else signed


def _pair(
    refresh: RefreshToken,
    family: TokenFamily,
    displaced: tuple[TokenFamily, ...] = (),
    *,
    access_jkt: str = "",
) -> TokenPair:
    """The pair of `refresh`; its access token bound to the DPoP key `access_jkt` when the
    request carried a proof (RFC 9449 section 5: a refresh with a proof binds the new access
    token, even of an unbound family), else as `refresh` is bound."""
    access = refresh.access_token
    if access_jkt and not bound_jkt(access.payload):
        access[CONFIRMATION_CLAIM] = {"jkt": access_jkt}
    return TokenPair(
        access=access_token_serialize(access),
        refresh=str(refresh),
        access_expires_at=datetime_from_epoch(access["exp"]),
        refresh_expires_at=datetime_from_epoch(refresh["exp"]),
        family=family,
        displaced=displaced,
        dpop_bound=bool(bound_jkt(access.payload)),
    )


def _families_over_limit_evict(*, family: TokenFamily, now: dt.datetime) -> tuple[TokenFamily, ...]:
    """Revoke the person's least recently used live families past API_MAX_LIVE_TOKEN_FAMILIES,
    to make room for `family` (just made): a family never used counts as used when it was made,
    so a phone used a minute ago stays while twenty scripts' forgotten tokens go. Their tokens
    answer `token_evicted`, and the tokens page says which sign-in took their place. Call with
    the user's row locked, after adding `family`."""
    over = tuple(
        TokenFamily.objects.for_user(family.user_id)
        .live(now=now)
        .exclude(pk=family.pk)
        .select_related("user")
        .order_by(Coalesce("last_used_at", "created_at").desc(), "-created_at")[
            settings.API_MAX_LIVE_TOKEN_FAMILIES - 1 :
        ]
    )
    for evicted in over:
        token_family_revoke(
            family=evicted, reason=TokenFamily.RevokeReason.LIMIT, evicted_by=family
        )
    return over


def token_pair_obtain(
    *, request: HttpRequest, login: str, password: str, name: str = "", jkt: str = ""
) -> TokenPair:
    """A new token family for the account `login` (username or email) names, if `password` is
    its password. Unknown account, wrong password and inactive account raise the same error; an
    unconfirmed email or a second factor is told apart only once the password has been found
    right (such an account mints tokens from its signed-in session instead). With `jkt`, the
    family is bound to that DPoP key."""
    user = authenticate(request, username=login, password=password)
    if user is None or not user.is_active:
        raise InvalidCredentialsError()
    mandatory = (
        allauth_settings.EMAIL_VERIFICATION == allauth_settings.EmailVerificationMethod.MANDATORY
    )
    if mandatory and not has_verified_email(user):
        raise EmailNotVerifiedError()
    if is_mfa_enabled(user):
        # A password alone must not mint tokens for an account that needs more to sign in.
        raise SecondFactorRequiredError()
    return token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD, name=name, jkt=jkt)


@transaction.atomic
def token_pair_issue(
    *, user: Any, origin: str, name: str = "", client_id: str = "", jkt: str = ""
) -> TokenPair:
    """A new token family for `user`, and its first pair of tokens.

    `user` is the account as it was authenticated (by its password, or by the session whose
    hash matched it). Its row is locked and checked again first: a password change or a
    deactivation that committed since refuses the grant, and one that comes after waits for this
    transaction and then revokes the new family with the others (accounts.services changes the
    row, then lists the families, in one transaction). No grant that began before a change can
    outlive it.
    """
    current = (
        User.objects.select_for_update()
        .filter(pk=user.pk)
        .values_list("password", "is_active")
        .first()
    )
    if current != (user.password, True):
        raise InvalidCredentialsError()
    now = clock.now()
    family = TokenFamily(
        user=user, origin=origin, name=name, client_id=client_id, dpop_jkt=jkt, created_at=now
    )
    refresh = RefreshToken.for_family(
        user=user, family_id=family.id.hex, client_id=client_id, jkt=jkt
    )
    family.current_jti = refresh.jti
    family.expires_at = datetime_from_epoch(refresh["exp"])
    family.save(force_insert=True)
    revocation.user_marks_keep(user_id=str(user.pk))
    audit_event_record(
        action=AuditEvent.Action.TOKEN_ISSUED,
        subject=user,
        actor=user,
        detail={"family": family.id.hex, "origin": origin, "name": name, "client": client_id},
    )
    return _pair(refresh, family, _families_over_limit_evict(family=family, now=now))


def _successor_seal(*, pair: TokenPair, spent: str) -> bytes:
    """The pair that replaced the refresh token `spent`, sealed to that token (api.sealing)."""
    return sealing.seal(
        {
            "access": pair.access,
            "refresh": pair.refresh,
            "access_exp": int(pair.access_expires_at.timestamp()),
            "refresh_exp": int(pair.refresh_expires_at.timestamp()),
            "dpop_bound": pair.dpop_bound,
        },
        token=spent,
        context=pair.family.id.hex,
    )


def _successor_from_window(
    *, family: TokenFamily, token: RefreshToken, spent: str, now: dt.datetime
) -> TokenPair | None:
    """The pair that replaced the spent refresh token `spent`, if the reuse window may answer
    it: the family's immediately previous refresh token, spent less than
    JWT_REFRESH_REUSE_GRACE_SECONDS ago (on `now`), its sealed successor still on the row (it
    goes once answered, and at the next rotation). The answer is recorded: the row, the audit
    log. None otherwise: that is reuse."""
    grace = dt.timedelta(seconds=settings.JWT_REFRESH_REUSE_GRACE_SECONDS)
    if (
        family.successor_sealed is None
        or family.previous_jti != token.jti
        or family.refreshed_at is None
        or now - family.refreshed_at >= grace
    ):
        return None
    kept = sealing.unseal(family.successor_sealed, token=spent, context=family.id.hex)
    if kept is None:
        return None
    family.successor_sealed = None
    family.current_from_window = True
    family.window_answered_at = now
    family.save(update_fields=["successor_sealed", "current_from_window", "window_answered_at"])
    audit_event_record(
        action=AuditEvent.Action.REFRESH_WINDOW_ANSWERED,
        subject=family.user,
        detail={
            "family": family.id.hex,
            "seconds_after_rotation": round((now - family.refreshed_at).total_seconds(), 3),
        },
    )
    return TokenPair(
        access=kept["access"],
        refresh=kept["refresh"],
        access_expires_at=datetime_from_epoch(kept["access_exp"]),
        refresh_expires_at=datetime_from_epoch(kept["refresh_exp"]),
        family=family,
        dpop_bound=bool(kept.get("dpop_bound")),
    )


# SQLite has no row locks: a second transaction that wants the family row is refused (the test
# database's shared cache says "table is locked", a file "database is locked") instead of waiting.
# The refresh then starts again, a few times, which is what waiting on the lock would have done.
def token_pair_refresh(*, refresh: str, client_id: str = "", jkt: str = "") -> TokenPair:
    """Exchange the refresh token `refresh` for a new pair, spending it (RFC 9700 section 4.14.2).

    Presenting a spent refresh token again means two parties hold the family: every token of the
    family is revoked and the answer says so. That revocation commits before the error is raised,
    so callers must not run this inside a transaction they roll back on error.

    One exception, the reuse interval RFC 9700 section 4.14.2 leaves room for (two tabs of one
    client refreshing at once), kept as narrow as it can be:
    - only the family's immediately previous refresh token, presented again less than
      JWT_REFRESH_REUSE_GRACE_SECONDS after it was spent (judged on api.clock against the
      family's `refreshed_at`), gets the very pair it got the first time;
    - at most once: the pair, sealed to the spent token on the family's row (api.sealing), is
      emptied when answered;
    - a refresh token that was itself handed out from the window gets no window: two parties
      hold it, so whichever spends it second is reuse;
    - once the successor has itself been refreshed, the old token is reuse.
    Every answer from the window is audited and shown on the tokens page. 0 turns it off.

    `jkt` is the thumbprint of the DPoP key the request proved it holds (api.dpop), if any. A
    family bound to a key is refreshed with a proof of that key only: its current refresh token
    without one is refused and left as it was; a spent one without one gets no window (a thief
    replaying it gets nothing) and is reuse, which revokes the family. The new access token is
    bound to the proof's key whenever there is one.

    A family issued to an OAuth client is refreshed by that client only (`client_id`, as the
    OAuth token endpoint authenticated it; RFC 6749 section 6), and a refresh token of another
    client is refused before anything is spent or revoked: a stranger cannot end the family.
    """
    spent = token_unwrap(refresh)[0]
    token = RefreshToken(spent)
    if token.payload.get(CLIENT_CLAIM, "") != client_id:
        raise RejectedTokenError(Rejection.CLIENT_MISMATCH)
    pair, rejection = _token_pair_refresh_locked(token=token, spent=spent, jkt=jkt)
    if rejection is not None:
        raise RejectedTokenError(rejection)
    return pair


@transaction.atomic
def _token_pair_refresh_locked(
    *, token: RefreshToken, spent: str, jkt: str
) -> tuple[TokenPair | None, Rejection | None]:
    """token_pair_refresh in one transaction, the family row locked: the pair, or why not."""
    family = (
        TokenFamily.objects.select_for_update()
        .select_related("user")
        .filter(pk=token.family_id)
        .first()
    )
    now = clock.now()
    if family is None or family.revoked_at is not None:
        return None, revocation.family_rejection(family)
    replay = None
    key_proved = not family.dpop_jkt or family.dpop_jkt == jkt
    if family.current_jti != token.jti:
        if key_proved:
            replay = _successor_from_window(family=family, token=token, spent=spent, now=now)
        if replay is None:
            token_family_revoke(family=family, reason=TokenFamily.RevokeReason.REUSED)
            audit_event_record(
                action=AuditEvent.Action.REFRESH_REUSE_DETECTED,
                subject=family.user,
                detail={"family": family.id.hex},
            )
            return None, Rejection.REFRESH_REUSED
    elif not key_proved:
        return None, Rejection.DPOP_KEY_MISMATCH
    if not family.user.is_active:
        return None, Rejection.USER_INACTIVE
    if replay is not None:
        return replay, None
    rotated = RefreshToken.for_family(
        user=family.user,
        family_id=token.family_id,
        client_id=family.client_id,
        jkt=family.dpop_jkt,
    )
    pair = _pair(rotated, family, access_jkt=jkt)
    window_open = settings.JWT_REFRESH_REUSE_GRACE_SECONDS > 0 and not family.current_from_window
    family.successor_sealed = _successor_seal(pair=pair, spent=spent) if window_open else None
    family.current_from_window = False
    family.previous_jti = token.jti
    family.current_jti = rotated.jti
    family.expires_at = datetime_from_epoch(rotated["exp"])
    family.refreshed_at = family.last_used_at = now
    family.save(
        update_fields=[
            "successor_sealed",
            "current_from_window",
            "previous_jti",
            "current_jti",
            "expires_at",
            "refreshed_at",
            "last_used_at",
        ]
    )
    revocation.user_marks_keep(user_id=str(family.user_id))
    audit_event_record(
        action=AuditEvent.Action.TOKEN_REFRESHED,
        subject=family.user,
        actor=family.user,
        detail={"family": family.id.hex},
    )
    return pair, None


@transaction.atomic
def token_revoke(*, token: str, client_id: str | None = None) -> None:
    """RFC 7009 revocation: a refresh token revokes its whole family, an access token itself.

    A token that is not valid (unknown, expired, forged) changes nothing and raises nothing.
    With `client_id` (the OAuth revocation endpoint's authenticated client), a token issued to
    another client is refused with Rejection.CLIENT_MISMATCH (RFC 7009 section 2.1); without it,
    whoever holds a token may revoke it.
    """
    try:
        verified = AnyToken(token_unwrap(token)[0])
    except RejectedTokenError:
        return
    issued_to = verified.payload.get(CLIENT_CLAIM)
    if client_id is not None and issued_to is not None and issued_to != client_id:
        raise RejectedTokenError(Rejection.CLIENT_MISMATCH)
    owner = User.objects.filter(pk=verified["sub"]).only("pk").first()
    if verified.kind == "refresh":
        family = TokenFamily.objects.filter(pk=verified.family_id).first()
        if family is not None:
            token_family_revoke(family=family, reason=TokenFamily.RevokeReason.REVOKED, actor=owner)
        return
    revocation.access_token_mark_revoked(
        user_id=str(verified["sub"]), jti=verified.jti, expires_at=verified["exp"], now=clock.now()
    )
    audit_event_record(
        action=AuditEvent.Action.TOKEN_REVOKED,
        subject=owner,
        actor=owner,
        detail={"kind": "access", "family": verified.family_id},
    )


@transaction.atomic
def token_family_revoke(
    *, family: TokenFamily, reason: str, actor: Any = None, evicted_by: TokenFamily | None = None
) -> None:
    """Revoke every token of `family`, at once in every process (`evicted_by`: the newer family
    it made room for). A revocation someone asked for (`actor`: the person, an admin) or an
    eviction goes to the audit log; reuse detection records its own."""
    now = clock.now()
    TokenFamily.objects.filter(pk=family.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_reason=reason, evicted_by=evicted_by
    )
    revocation.families_mark_revoked(
        families=[(str(family.user_id), family.id.hex)],
        now=now,
        evicted=reason == TokenFamily.RevokeReason.LIMIT,
    )
    if reason != TokenFamily.RevokeReason.REUSED:
        detail = {"kind": "family", "family": family.id.hex, "reason": reason}
        if evicted_by is not None:
            detail["evicted_by"] = evicted_by.id.hex
        audit_event_record(
            action=AuditEvent.Action.TOKEN_REVOKED, subject=family.user, actor=actor, detail=detail
        )


@transaction.atomic
def user_tokens_revoke_all(
    *,
    user: Any,
    reason: str = TokenFamily.RevokeReason.REVOKED_ALL,
    actor: Any = None,
    audit: bool = True,
) -> int:
    """Revoke every refresh and access token of `user`, at once in every process; the number of
    families that were still live. Call it on a password change and on deactivation; `actor` is
    whoever asked (the person, an admin), None for an account change that implies it. `audit`
    is False only while the user is being deleted: an event could not point at them."""
    now = clock.now()
    revocation.user_mark_not_before(user_id=str(user.pk), now=now)
    family_ids = list(
        TokenFamily.objects.for_user(user.pk).live(now=now).values_list("id", flat=True)
    )
    TokenFamily.objects.filter(pk__in=family_ids).update(revoked_at=now, revoked_reason=reason)
    revocation.families_mark_revoked(
        families=[(str(user.pk), family_id.hex) for family_id in family_ids], now=now
    )
    if audit:
        audit_event_record(
            action=AuditEvent.Action.TOKENS_REVOKED,
            subject=user,
            actor=actor,
            detail={"families": len(family_ids), "reason": reason},
        )
    return len(family_ids)


@dataclass(frozen=True)
class Pruned:
    families: int
    marks: int


def tokens_prune(*, now: dt.datetime) -> Pruned:
    """Delete what no token can use any more: families expired more than
    API_EXPIRED_FAMILIES_KEPT_DAYS ago (kept that long for the tokens page's history), and
    revocation marks past the life of every token they refuse."""
    kept = dt.timedelta(days=settings.API_EXPIRED_FAMILIES_KEPT_DAYS)
    families, _ = TokenFamily.objects.filter(expires_at__lt=now - kept).delete()
    marks, _ = RevocationMark.objects.filter(expires_at__lt=now).delete()
    return Pruned(families=families, marks=marks)


def token_family_use_record(*, family_id: str) -> None:
    """Note that a token of the family was just used (api.revocation keeps this to once a minute
    per family). With the database unreachable the note is skipped, logged, not raised: a bearer
    request needs no database to be answered, so an outage must not refuse it for a timestamp."""
    try:
        TokenFamily.objects.filter(pk=family_id).update(last_used_at=clock.now())
    except DATABASE_UNREACHABLE:
        logger.warning("family %s: last use not recorded, the database is unreachable", family_id)


@transaction.atomic
def access_token_forms_issue(
    *, user: Any, name: str = "Signed and encrypted forms", jkt: str = ""
) -> AccessTokenForms:
    """One access token of a new family, in both forms: the signed JWT, and the same JWT
    encrypted (a nested JWT) when there is an encryption key. Both authenticate; the family shows
    on the tokens page. With `jkt`, the token is bound to that DPoP key."""
    now = clock.now()
    family = TokenFamily(
        user=user,
        origin=TokenFamily.Origin.SESSION,
        name=name,
        dpop_jkt=jkt,
        created_at=now,
        expires_at=now,
    )
    access = AccessToken.for_user(user)
    access["fid"] = family.id.hex
    if jkt:
        access[CONFIRMATION_CLAIM] = {"jkt": jkt}
    family.expires_at = datetime_from_epoch(access["exp"])
    User.objects.select_for_update().filter(pk=user.pk).first()
    family.save(force_insert=True)
    revocation.user_marks_keep(user_id=str(user.pk))
    _families_over_limit_evict(family=family, now=now)
    signed = str(access)
    encrypted = token_encrypt(signed=signed) if encryption_configured() else None
    return AccessTokenForms(claims=AccessToken(signed).payload, signed=signed, encrypted=encrypted)


def note_create(*, owner_id: int, title: str, body: str = "") -> Note:
    return Note.objects.create(owner_id=owner_id, title=title, body=body)


def note_update(*, note: Note, title: str | None = None, body: str | None = None) -> Note:
    fields = {"title": title, "body": body}
    changed = [field for field, value in fields.items() if value is not None]
    for field in changed:
        setattr(note, field, fields[field])
    if changed:
        note.save(update_fields=[*changed, "updated_at"])
    return note


def note_delete(*, note: Note) -> None:
    note.delete()
