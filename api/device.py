"""The device authorization grant (RFC 8628): a command-line tool gets a token pair that a
person approves in a browser.

1. The tool posts its `client_id` to the device authorization endpoint and gets a `device_code`
   (its secret), a short `user_code` and the URL to open (`device_authorization_start`).
2. The person opens the URL, signed in to the site (with their second factor, if they have one),
   types the code, sees which client asks, and approves or denies (`device_request_find`,
   `device_request_decide`).
3. The tool polls the token endpoint with its device code every `interval` seconds and, once
   approved, receives a new token family issued to the client (`device_code_exchange`): the same
   families, rotation, revocation and tokens page as every other token.

State lives in the shared store (the default cache, Redis in production), as the revocation marks
do: one entry per request under the SHA-256 of its device code (the store never holds a usable
code), and the user code pointing at it. Each step is one atomic cache operation, so any number
of processes agree:
- a user code is taken with `add` (a collision draws again);
- polling faster than the interval is refused by an `add` that lives `interval` seconds;
- an approved request is claimed by the one poll whose `delete` removed it: a device code yields
  at most one token family, however many polls race.

User codes are allauth's: 8 characters from the 20 consonants of RFC 8628 section 6.1 (34.5 bits),
shown as XXXX-XXXX and compared without case, dashes or spaces; entering them is rate limited
per account and per client address (api.pages), and they live DEVICE_CODE_SECONDS.
"""

import contextlib
import datetime as dt
import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from allauth.idp.oidc.adapter import get_adapter as oidc_adapter
from allauth.idp.oidc.models import Client
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache

from accounts.flow_recording import mask
from accounts.flow_steps import DEVICE_PROCESS, DEVICE_STEP_TITLES, FlowInProgress, step_record
from accounts.services import oauth_flow_record_save
from api import clock
from api.clients import DEVICE_CODE_GRANT, OAuthError
from api.exceptions import InvalidCredentialsError
from api.models import TokenFamily
from api.services import TokenPair, token_pair_issue

# After expiry, polls are told `expired_token` for this long, then the code is unknown.
EXPIRED_KEPT_SECONDS = 600
# How many times a user code is drawn again when the one drawn is in use.
USER_CODE_DRAWS = 5


@dataclass(frozen=True)
class DeviceAuthorization:
    """The device authorization response (RFC 8628 section 3.2)."""

    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_in: int
    interval: int


@dataclass(frozen=True)
class DeviceRequest:
    """A pending request, as the approval page shows it."""

    user_code: str
    client_id: str
    client_name: str
    expires_at: int


def _step(number: int, *, started_at: float, detail: dict[str, Any]) -> dict[str, Any]:
    """One recorded step of the device grant, now."""
    return step_record(
        number=number,
        title=DEVICE_STEP_TITLES[number],
        at=time.time(),
        started_at=started_at,
        detail=detail,
    )


def user_code_normalize(code: str) -> str:
    """Upper case, letters and digits only: what a person types, however they type it."""
    return re.sub(r"[^A-Z0-9]", "", code.upper())[:32]


def _state_key(device_code: str) -> str:
    return "oauth:device:" + hashlib.sha256(device_code.encode()).hexdigest()


def _user_code_key(user_code: str) -> str:
    return "oauth:user-code:" + user_code_normalize(user_code)


def device_authorization_start(*, client: Client, verification_uri: str) -> DeviceAuthorization:
    """A new request for `client`: its device code, user code and where to approve it."""
    seconds = settings.OAUTH_DEVICE_CODE_SECONDS
    device_code = secrets.token_urlsafe(32)
    state_key = _state_key(device_code)
    for _ in range(USER_CODE_DRAWS):
        user_code = oidc_adapter().generate_user_code()
        if cache.add(_user_code_key(user_code), state_key, timeout=seconds):
            break
    else:
        raise OAuthError("temporarily_unavailable", "No free user code: try again.", status=503)
    started = DeviceAuthorization(
        device_code=device_code,
        user_code=user_code,
        verification_uri=verification_uri,
        verification_uri_complete=f"{verification_uri}?user_code={user_code}",
        expires_in=seconds,
        interval=settings.OAUTH_DEVICE_POLL_SECONDS,
    )
    started_at = time.time()
    asked = {
        "request": {"client_id": client.pk},
        "answer": {
            "device_code": mask(device_code),
            "user_code": user_code,
            "verification_uri": verification_uri,
            "expires_in": seconds,
            "interval": started.interval,
        },
    }
    timeout = seconds + EXPIRED_KEPT_SECONDS
    cache.set(
        state_key,
        {
            "client_id": client.pk,
            "client_name": client.name,
            "user_code": user_code,
            "expires_at": int(clock.now().timestamp()) + seconds,
            "decision": None,
            "user_id": None,
            "auth_hash": None,
            # What the person's profile shows once the app has its tokens.
            "started_at": started_at,
            "steps": [_step(1, started_at=started_at, detail=asked)],
        },
        timeout=timeout,
    )
    # How many polls were told to wait, and to slow down.
    cache.set_many({state_key + ":pending": 0, state_key + ":slowed": 0}, timeout=timeout)
    return started


def _pending(user_code: str) -> tuple[str, dict[str, Any]] | None:
    state_key = cache.get(_user_code_key(user_code)) if user_code_normalize(user_code) else None
    state = cache.get(state_key) if state_key else None
    if state is None or state["decision"] is not None:
        return None
    if state["expires_at"] <= clock.now().timestamp():
        return None
    return state_key, state


def device_request_find(*, user_code: str) -> DeviceRequest | None:
    """The pending request `user_code` names, or None (unknown, expired or decided)."""
    found = _pending(user_code)
    if found is None:
        return None
    state = found[1]
    return DeviceRequest(
        user_code=state["user_code"],
        client_id=state["client_id"],
        client_name=state["client_name"],
        expires_at=state["expires_at"],
    )


def device_request_decide(*, user_code: str, user: Any, approve: bool) -> bool:
    """Record `user`'s answer to the pending request `user_code`, once: the answer that removes
    the user code is the one recorded. False if there is no such request (any more)."""
    found = _pending(user_code)
    if found is None or not cache.delete(_user_code_key(user_code)):
        return False
    state_key, state = found
    decision = "approved" if approve else "denied"
    state.update(
        decision=decision,
        user_id=user.pk,
        # A password change between approval and the token answers `access_denied`.
        auth_hash=user.get_session_auth_hash(),
    )
    state["steps"].append(
        _step(
            2,
            started_at=state["started_at"],
            detail={
                "page": "/device/",
                "user_code": state["user_code"],
                "signed_in_as": user.get_username(),
                "decision": decision,
            },
        )
    )
    remaining = max(1, state["expires_at"] - int(clock.now().timestamp()))
    cache.set(state_key, state, timeout=remaining + EXPIRED_KEPT_SECONDS)
    return True


def device_code_exchange(*, client: Client, device_code: str, jkt: str = "") -> TokenPair:
    """The token pair for an approved request, once (bound to the DPoP key `jkt` if any);
    otherwise the RFC 8628 section 3.5 error."""
    state_key = _state_key(device_code)
    state = cache.get(state_key)
    if state is None or state["client_id"] != client.pk:
        raise OAuthError("invalid_grant", "Unknown or already used device code.")
    if state["expires_at"] <= clock.now().timestamp():
        raise OAuthError("expired_token", "The device code expired: start again.")
    if not cache.add(state_key + ":polled", 1, timeout=settings.OAUTH_DEVICE_POLL_SECONDS):
        _count(state_key + ":slowed")
        raise OAuthError("slow_down", "Polling too fast: wait longer between requests.")
    if state["decision"] is None:
        _count(state_key + ":pending")
        raise OAuthError("authorization_pending", "Not approved yet: keep polling.")
    if not cache.delete(state_key):
        raise OAuthError("invalid_grant", "Unknown or already used device code.")
    if state["decision"] != "approved":
        raise OAuthError("access_denied", "The person denied the request.")
    user = get_user_model().objects.filter(pk=state["user_id"], is_active=True).first()
    if user is None or user.get_session_auth_hash() != state["auth_hash"]:
        raise OAuthError(
            "access_denied", "The account changed since it approved the request."
        ) from None
    try:
        pair = token_pair_issue(
            user=user,
            origin=TokenFamily.Origin.DEVICE,
            name=client.name,
            client_id=client.pk,
            jkt=jkt,
        )
    except InvalidCredentialsError:  # the password changed or the account closed just now
        raise OAuthError(
            "access_denied", "The account changed since it approved the request."
        ) from None
    _flow_record(user=user, client=client, state=state, state_key=state_key, pair=pair)
    return pair


def _count(key: str) -> None:
    with contextlib.suppress(ValueError):  # the request expired meanwhile
        cache.incr(key)


def _flow_record(
    *, user: Any, client: Client, state: dict[str, Any], state_key: str, pair: TokenPair
) -> None:
    """Keep the device sign-in's steps, masked, for the person's profile."""
    counts = cache.get_many([state_key + ":pending", state_key + ":slowed"])
    started_at = state["started_at"]
    polled = {
        "request": {"grant_type": DEVICE_CODE_GRANT, "client_id": client.pk},
        "answers": {
            "authorization_pending": counts.get(state_key + ":pending", 0),
            "slow_down": counts.get(state_key + ":slowed", 0),
            "tokens": 1,
        },
    }
    answered = pair.masked()
    steps = [
        *state["steps"],
        _step(3, started_at=started_at, detail=polled),
        _step(4, started_at=started_at, detail=answered),
    ]
    oauth_flow_record_save(
        user=user,
        flow=FlowInProgress(
            provider_id=client.pk,
            provider_name=client.name,
            process=DEVICE_PROCESS,
            started_at=started_at,
            steps=steps,
        ),
        completed_at=dt.datetime.now(tz=dt.UTC),
    )
