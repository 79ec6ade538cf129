"""Reads about people: what the account pages show."""

import time
from dataclasses import dataclass
from typing import Any

from allauth.account.authentication import get_authentication_records
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialAccount
from django.http import HttpRequest
from ua_parser import parse_os, parse_user_agent

from accounts.flow_recording import PROVIDER_TOKEN_SESSION_KEY
from accounts.flow_steps import (
    APP_PROCESS,
    APP_STEP_EXPLANATIONS,
    APP_STEP_TITLES,
    DEVICE_PROCESS,
    DEVICE_STEP_EXPLANATIONS,
    DEVICE_STEP_TITLES,
    STEP_EXPLANATIONS,
    STEP_TITLES,
)
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


def second_factor_used(*, request: HttpRequest, within_seconds: float | None = None) -> bool:
    """Whether this session's person passed their second factor in it, signing in or
    reauthenticating (allauth records each authentication in the session), not merely whether
    they have one; with `within_seconds`, only a use that recent counts. A password never does."""
    records = get_authentication_records(request, request.user)
    since = None if within_seconds is None else time.time() - within_seconds
    return any(
        record.get("method") == "mfa" and (since is None or record.get("at", 0) >= since)
        for record in records
    )


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
    """The person's latest sign-in through a provider on this site (the seven steps)."""
    return (
        OAuthFlowRecord.objects.filter(user=user)
        .exclude(process__in=[DEVICE_PROCESS, APP_PROCESS])
        .first()
    )


def device_flow_latest(*, user: User) -> OAuthFlowRecord | None:
    """The person's latest device sign-in (RFC 8628, recorded by api.device)."""
    return OAuthFlowRecord.objects.filter(user=user, process=DEVICE_PROCESS).first()


def app_flow_latest(*, user: User) -> OAuthFlowRecord | None:
    """The person's latest app sign-in with a provider token (recorded by api.headless)."""
    return OAuthFlowRecord.objects.filter(user=user, process=APP_PROCESS).first()


@dataclass(frozen=True)
class FlowStepShown:
    """One of the seven steps as the profile shows it, under one number: every exchange the flow
    recorded for it (GitHub's step 7 is two API calls), or none when the flow skipped it."""

    number: int
    title: str
    explanation: str
    exchanges: list[dict[str, Any]]

    @property
    def skipped(self) -> bool:
        return not self.exchanges

    @property
    def elapsed_ms(self) -> float | None:
        return self.exchanges[0]["elapsed_ms"] if self.exchanges else None

    @property
    def duration_ms(self) -> float | None:
        durations = [e["duration_ms"] for e in self.exchanges if e["duration_ms"] is not None]
        return sum(durations) if durations else None


# The one step a completed flow may skip: an OpenID Connect provider's ID token (step 6) already
# says who the person is.
OPTIONAL_STEP = 7


def oauth_flow_steps(*, flow: OAuthFlowRecord) -> list[FlowStepShown]:
    """The seven steps of a recorded flow in order, one entry per number."""
    by_number: dict[int, list[dict[str, Any]]] = {}
    for step in flow.steps:
        by_number.setdefault(step["number"], []).append(step)
    by_number.setdefault(OPTIONAL_STEP, [])
    return [
        FlowStepShown(
            number=number,
            title=STEP_TITLES[number],
            explanation=STEP_EXPLANATIONS[number],
            exchanges=exchanges,
        )
        for number, exchanges in sorted(by_number.items())
    ]


def _numbered_steps(
    flow: OAuthFlowRecord, titles: dict[int, str], explanations: dict[int, str]
) -> list[FlowStepShown]:
    return [
        FlowStepShown(
            number=number,
            title=titles[number],
            explanation=explanations[number],
            exchanges=[step for step in flow.steps if step["number"] == number],
        )
        for number in sorted(titles)
    ]


def device_flow_steps(*, flow: OAuthFlowRecord) -> list[FlowStepShown]:
    """The four steps of a recorded device sign-in, in order."""
    return _numbered_steps(flow, DEVICE_STEP_TITLES, DEVICE_STEP_EXPLANATIONS)


def app_flow_steps(*, flow: OAuthFlowRecord) -> list[FlowStepShown]:
    """The four steps of a recorded app sign-in with a provider token, in order."""
    return _numbered_steps(flow, APP_STEP_TITLES, APP_STEP_EXPLANATIONS)


def flow_step_order(*, user: User) -> list[str]:
    """The seven step titles in the order this person's latest flow took them; a step it
    skipped (step 7, after an ID token) stands where it would have been."""
    latest = oauth_flow_latest(user=user)
    if latest is None:
        return [STEP_TITLES[number] for number in sorted(STEP_TITLES)]
    seen: list[str] = []
    for step in latest.steps:
        if step["title"] not in seen:
            seen.append(step["title"])
    return seen + [STEP_TITLES[n] for n in sorted(STEP_TITLES) if STEP_TITLES[n] not in seen]


def provider_token_in_session(*, request: HttpRequest) -> dict[str, str] | None:
    return request.session.get(PROVIDER_TOKEN_SESSION_KEY)


@dataclass(frozen=True)
class ReadableUserAgent:
    """A User-Agent header as people name what it describes: "Chrome 120 on Windows 10"."""

    browser: str
    system: str
    header: str

    @property
    def label(self) -> str:
        if self.browser and self.system:
            return f"{self.browser} on {self.system}"
        return self.browser or self.system or "(unknown)"


def _named(family: str, *versions: str | None) -> str:
    known = [part for part in versions if part]
    return " ".join([family, ".".join(known)]) if known else family


def user_agent_readable(*, user_agent: str) -> ReadableUserAgent:
    """The browser and the system a User-Agent header names, from ua-parser's maintained rules
    (browser with its major version, system with major and minor); empty when unknown."""
    browser = parse_user_agent(user_agent) if user_agent else None
    system = parse_os(user_agent) if user_agent else None
    return ReadableUserAgent(
        browser=_named(browser.family, browser.major) if browser else "",
        system=_named(system.family, system.major, system.minor) if system else "",
        header=user_agent,
    )
