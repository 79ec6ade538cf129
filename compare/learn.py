"""The learner's page (/learn/): its answers pointed at the person's own newest recorded sign-in.

Reads one accounts.models.OAuthFlowRecord (already masked when it was saved: nothing here sees a
secret) and turns its seven steps into the values each answer cites: the endpoints, the code and
the token, their timings, the scopes, PKCE. A person with no record gets `flow=None`; the page
then teaches from the protocol alone.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from allauth.socialaccount.providers.github.views import GitHubOAuth2Adapter
from allauth.socialaccount.providers.google.views import GoogleOAuth2Adapter
from django.conf import settings
from rest_framework_simplejwt import settings as jwt_settings

from accounts.flow_steps import STEP_TITLES
from accounts.models import OAuthFlowRecord, User
from accounts.selectors import oauth_flow_latest
from compare.demos import Lifetimes, lifetimes

# The provider's user-info URL (from the settings allauth reads: real or emulated), for a flow
# that did not call it: an OpenID Connect sign-in whose ID token already said who the person is.
USER_INFO_URLS = {
    "github": GitHubOAuth2Adapter.profile_url,
    "google": GoogleOAuth2Adapter.identity_url,
}
# Where a person takes back what they granted; the emulators keep nothing to take back.
REVOKE_URLS = {
    "github": "https://github.com/settings/applications",
    "google": "https://myaccount.google.com/permissions",
}
REVOKE_PATHS = {
    "github": "GitHub: Settings > Applications > Authorized OAuth Apps",
    "google": "Google Account: Security > Your connections to third-party apps",
}


@dataclass(frozen=True)
class StepTiming:
    """One of the seven steps as this person's flow took it (`recorded` false: skipped)."""

    number: int
    title: str
    recorded: bool
    elapsed_ms: float | None
    duration_ms: float | None


@dataclass(frozen=True)
class ApiCall:
    """One recorded call of step 7: the request line, its answer's status and field names."""

    request: str
    status: int | None
    fields: list[str]


@dataclass(frozen=True)
class FlowFacts:
    """The values of one recorded flow that the page's answers cite, masked as recorded."""

    provider_id: str
    provider_name: str
    completed_at: dt.datetime
    duration_ms: float
    emulated: bool
    steps: list[StepTiming]
    client_id: str | None
    client_secret_recorded: bool
    registered_in: str | None
    authorization_endpoint: str | None
    redirect_uri: str | None
    scopes_requested: list[str]
    scopes_granted: list[str]
    code: str | None
    code_at_ms: float | None
    code_spent_at_ms: float | None
    token_endpoint: str | None
    client_authentication: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    code_verifier: str | None
    access_token: str | None
    token_type: str | None
    token_at_ms: float | None
    expires_in: int | None
    refresh_token: str | None
    id_token_header: dict[str, Any] | None
    api_calls: list[ApiCall]
    api_endpoint: str | None
    password_seen: bool
    revoke_url: str | None
    revoke_path: str | None

    @property
    def code_held_ms(self) -> float | None:
        """How long the code waited at this site between its arrival and its exchange."""
        if self.code_at_ms is None or self.code_spent_at_ms is None:
            return None
        return round(self.code_spent_at_ms - self.code_at_ms, 1)

    @property
    def api_called(self) -> bool:
        return bool(self.api_calls)


@dataclass(frozen=True)
class LearnFacts:
    """Everything /learn/ shows: the person's flow when there is one, and this site's settings."""

    flow: FlowFacts | None
    step_titles: list[str]
    jwt_algorithm: str
    jwt_lifetimes: Lifetimes
    encrypted_tokens_issued: bool


def _scopes(value: Any) -> list[str]:
    """Scopes as the provider spelt them: GitHub answers comma-separated, others space-separated."""
    if not isinstance(value, str):
        return []
    return [scope for scope in value.replace(",", " ").split() if scope]


def _url_of(request_line: str | None) -> str | None:
    """`POST https://host/path` -> `https://host/path`."""
    if not request_line:
        return None
    return request_line.split(" ", 1)[-1]


def _mentions_password(value: Any) -> bool:
    if isinstance(value, dict):
        return any("password" in str(key) or _mentions_password(v) for key, v in value.items())
    if isinstance(value, list):
        return any(_mentions_password(item) for item in value)
    return False


def flow_facts(*, record: OAuthFlowRecord) -> FlowFacts:
    """What one recorded flow says, step by step; absent steps give None, never an error."""
    first: dict[int, dict[str, Any]] = {}
    for step in record.steps:
        first.setdefault(step["number"], step)
    detail = {number: step.get("detail") or {} for number, step in first.items()}
    registered, _, redirect, callback, post, answer = (detail.get(n, {}) for n in range(1, 7))
    parameters = redirect.get("parameters") or {}
    posted = post.get("parameters") or {}
    tokens = answer.get("answer") if isinstance(answer.get("answer"), dict) else {}
    api_calls = [
        ApiCall(
            request=step["detail"].get("request", ""),
            status=step["detail"].get("status"),
            fields=_answer_fields(step["detail"].get("answer")),
        )
        for step in record.steps
        if step["number"] == 7
    ]
    expires_in = tokens.get("expires_in")
    return FlowFacts(
        provider_id=record.provider_id,
        provider_name=record.provider_name,
        completed_at=record.completed_at,
        duration_ms=record.duration_ms,
        emulated=registered.get("registered_in") == "local emulator",
        steps=[
            StepTiming(
                number=number,
                title=title,
                recorded=number in first,
                elapsed_ms=first[number]["elapsed_ms"] if number in first else None,
                duration_ms=first[number].get("duration_ms") if number in first else None,
            )
            for number, title in sorted(STEP_TITLES.items())
        ],
        client_id=registered.get("client_id"),
        client_secret_recorded=bool(registered.get("client_secret")),
        registered_in=registered.get("registered_in"),
        authorization_endpoint=redirect.get("redirect_to"),
        redirect_uri=parameters.get("redirect_uri"),
        scopes_requested=_scopes(parameters.get("scope")),
        scopes_granted=_scopes(tokens.get("scope")),
        code=callback.get("code"),
        code_at_ms=first[4]["elapsed_ms"] if 4 in first else None,
        code_spent_at_ms=first[5]["elapsed_ms"] if 5 in first else None,
        token_endpoint=_url_of(post.get("request")),
        client_authentication=post.get("client_authentication"),
        code_challenge=parameters.get("code_challenge"),
        code_challenge_method=parameters.get("code_challenge_method"),
        code_verifier=posted.get("code_verifier"),
        access_token=tokens.get("access_token"),
        token_type=tokens.get("token_type"),
        token_at_ms=first[6]["elapsed_ms"] if 6 in first else None,
        expires_in=expires_in if isinstance(expires_in, int) else None,
        refresh_token=tokens.get("refresh_token"),
        id_token_header=(answer.get("id_token") or {}).get("header"),
        api_calls=api_calls,
        api_endpoint=(
            _url_of(api_calls[0].request) if api_calls else USER_INFO_URLS.get(record.provider_id)
        ),
        password_seen=any(_mentions_password(step.get("detail")) for step in record.steps),
        revoke_url=REVOKE_URLS.get(record.provider_id),
        revoke_path=REVOKE_PATHS.get(record.provider_id),
    )


def _answer_fields(answer: Any) -> list[str]:
    """The names of what a provider's API answered (the values are the person's own profile)."""
    if isinstance(answer, dict):
        return list(answer)
    if isinstance(answer, list) and answer and isinstance(answer[0], dict):
        return list(answer[0])
    return []


def learn_facts(*, user: User | None) -> LearnFacts:
    """The page's data: `user`'s newest recorded sign-in (None when signed out), one query."""
    record = oauth_flow_latest(user=user) if user is not None else None
    return LearnFacts(
        flow=flow_facts(record=record) if record is not None else None,
        step_titles=[STEP_TITLES[number] for number in sorted(STEP_TITLES)],
        jwt_algorithm=jwt_settings.api_settings.ALGORITHM,
        jwt_lifetimes=lifetimes(),
        encrypted_tokens_issued=settings.JWT_ENCRYPT_ACCESS_TOKENS,
    )
