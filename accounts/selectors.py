"""Reads about people: what the account pages show."""

from dataclasses import dataclass
from importlib import import_module
from typing import Any

from allauth.account.authentication import get_authentication_records
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialAccount
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore
from django.core.cache import caches
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.flow_recording import PROVIDER_TOKEN_SESSION_KEY, STEP_TITLES
from accounts.models import OAuthFlowRecord, User


@dataclass(frozen=True)
class ConnectedAccount:
    account: SocialAccount
    provider_name: str
    display: str


def sign_in_method_current(*, request: HttpRequest) -> dict[str, Any] | None:
    """How this session was signed in (allauth records each authentication in the session)."""
    records = get_authentication_records(request, request.user)
    if not records:
        return None
    record = records[-1]
    if record.get("method") == "socialaccount":
        provider = get_adapter().get_provider(request, record["provider"])
        name = (provider.app.name if provider.app else "") or provider.name
        return {"method": "provider", "provider": name, "at": record.get("at")}
    return {"method": record.get("method", "unknown"), "at": record.get("at")}


def connected_accounts(*, request: HttpRequest, user: User) -> list[ConnectedAccount]:
    return [
        ConnectedAccount(
            account=account,
            provider_name=account.get_provider(request).name,
            display=account.get_provider_account().to_str(),
        )
        for account in SocialAccount.objects.filter(user=user).order_by("provider", "pk")
    ]


def oauth_flow_latest(*, user: User) -> OAuthFlowRecord | None:
    return OAuthFlowRecord.objects.filter(user=user).first()


def flow_step_order(*, user: User) -> list[str]:
    """The seven step titles in the order this person's latest flow recorded them."""
    latest = oauth_flow_latest(user=user)
    if latest is None:
        return [STEP_TITLES[number] for number in sorted(STEP_TITLES)]
    seen: list[str] = []
    for step in latest.steps:
        if step["title"] not in seen:
            seen.append(step["title"])
    return seen


def provider_token_in_session(*, request: HttpRequest) -> dict[str, str] | None:
    return request.session.get(PROVIDER_TOKEN_SESSION_KEY)


def user_sessions_open(*, user: User) -> list[UserSession]:
    """The person's sessions that still sign them in, oldest first; ended ones are purged.

    allauth's `purge_and_list` checks each session against the store one at a time (two or three
    queries per row); this reads them all in one query, or one cache `get_many`.
    """
    sessions = list(UserSession.objects.filter(user_id=user.pk).order_by("created_at"))
    stored = _session_data(keys=[session.session_key for session in sessions])
    open_sessions = [s for s in sessions if _signs_in(stored.get(s.session_key), user)]
    ended = [s.pk for s in sessions if s not in open_sessions]
    if ended:
        UserSession.objects.filter(pk__in=ended).delete()
    return open_sessions


def _session_data(*, keys: list[str]) -> dict[str, dict]:
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    if not keys:
        return {}
    if issubclass(store_class, CacheSessionStore):
        prefix = store_class.cache_key_prefix
        found = caches[settings.SESSION_CACHE_ALIAS].get_many([prefix + key for key in keys])
        return {key.removeprefix(prefix): data for key, data in found.items()}
    rows = (
        store_class.get_model_class()
        .objects.filter(session_key__in=keys, expire_date__gt=timezone.now())
        .values_list("session_key", "session_data")
    )
    decoder = store_class()
    return {key: decoder.decode(data) for key, data in rows}


def _signs_in(data: dict | None, user: User) -> bool:
    """What django.contrib.auth checks: this user's id, and a hash of their current password."""
    if not data or data.get(SESSION_KEY) != str(user.pk):
        return False
    session_hash = data.get(HASH_SESSION_KEY) or ""
    return any(
        constant_time_compare(session_hash, user._get_session_auth_hash(secret=secret))
        for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    )
