"""The seven steps of a third-party sign-in: their titles, what each does and why it comes where
it does, the steps one flow has taken so far, and a learner's order checked against a flow's."""

import time
from dataclasses import dataclass, field
from typing import Any

STEP_TITLES = {
    1: "Register the application",
    2: "Ask the person how to sign in",
    3: "Redirect to the provider's authorization endpoint",
    4: "Receive the authorization code at the callback",
    5: "Post the code to the provider's token endpoint",
    6: "Receive the access token",
    7: "Call the provider's API with the access token",
}

# One plain sentence per step, shown above its recorded data: what happened there, and why.
STEP_EXPLANATIONS = {
    1: "Before anyone signed in, this site was registered with the provider, which gave it a "
    "client id to name itself and a client secret to prove it, so the provider knows which "
    "application is asking.",
    2: "You chose the provider on this site's sign-in page, and your click sent a form carrying "
    "this site's CSRF token, so no other site can start a sign-in in your name.",
    3: "The site sent your browser to the provider's own page with its client id, a random state "
    "and a PKCE code challenge, so you sign in where the site never sees your password and the "
    "answer can be tied to this very request.",
    4: "Once you agreed, the provider sent your browser back to the site's callback with a "
    "one-time code and the same state, which the site checked against step 3 to know the answer "
    "belongs to the sign-in it started.",
    5: "The site posted that code to the provider directly, server to server, with its client "
    "secret and the PKCE code verifier, so a code stolen on its way through the browser is "
    "useless to anyone else.",
    6: "The provider answered with an access token (Google adds a signed ID token that says who "
    "you are): the key this site now holds to ask the provider about you.",
    7: "The site called the provider's API with that access token to learn who you are (your "
    "account id and email address), which is who it then signed you in as.",
}

# Why each step stands where it does, told about a step the learner put elsewhere: what it needs
# from the steps before it and what the steps after it need from it.
STEP_ORDER_REASONS = {
    1: "Step 1, registering the application, comes before any sign-in: every later request "
    "names the client id it gives.",
    2: "Step 2, asking you how to sign in, starts each sign-in: nothing goes to the provider "
    "until you choose it.",
    3: "Step 3, the redirect to the provider, needs your choice from step 2, and only on the "
    "provider's page do you get the code of step 4.",
    4: "Step 4, receiving the code at the callback, comes after the redirect of step 3 took you "
    "to the provider, and before that code can be posted in step 5.",
    5: "Step 5, posting the code to the token endpoint, needs the code that only step 4 brings "
    "back, and its answer is the access token of step 6.",
    6: "Step 6, receiving the access token, is the provider's answer to the post of step 5, and "
    "the API call of step 7 needs that token.",
    7: "Step 7, calling the API, needs the access token that only step 6 returns.",
}

STEP_NUMBERS = {title: number for number, title in STEP_TITLES.items()}

# The device authorization grant (RFC 8628, api.device), recorded under this process name: the
# steps of a command-line tool's sign-in, shown beside the seven above.
DEVICE_PROCESS = "device"
DEVICE_STEP_TITLES = {
    1: "The app asks for a device code",
    2: "You type the user code on this site and approve",
    3: "The app polls the token endpoint",
    4: "The app receives the token pair",
}
DEVICE_STEP_EXPLANATIONS = {
    1: "The app, which has no browser to redirect, posted its client id to the device "
    "authorization endpoint and got two codes: a long device code it keeps secret, and a short "
    "user code for you to type where you are already signed in.",
    2: "You opened this site's device page, typed the user code and approved, after seeing which "
    "app was asking: your password and your provider's page never went near the app.",
    3: "Meanwhile the app asked the token endpoint every few seconds with its device code, and "
    "was told to keep waiting (authorization_pending) until you had answered.",
    4: "Once you had approved, the next poll got this API's own access and refresh tokens: a new "
    "token family issued to the app, listed on your API tokens page, revocable there.",
}

# An app's sign-in through allauth headless with a provider token it already holds (api.headless),
# recorded under this process name.
APP_PROCESS = "app"
APP_STEP_TITLES = {
    1: "The app signs you in with the provider itself",
    2: "The app hands the provider's token to this site",
    3: "This site checks the token",
    4: "The app receives the token pair",
}
APP_STEP_EXPLANATIONS = {
    1: "The app ran the provider's own sign-in (its own client id, PKCE, its own redirect back "
    "into the app): the seven steps happened between the app and the provider, and this site "
    "took no part in them.",
    2: "The app posted what the provider gave it (Google's ID token, or a GitHub access token) "
    "with its client id to allauth headless: POST /_allauth/app/v1/auth/provider/token.",
    3: "A token someone hands over proves nothing until checked. Google's ID token is a signed "
    "JWT: its signature against Google's published keys, its issuer, its audience (this app's "
    "client id, registered here) and its expiry. A GitHub access token is opaque: only GitHub "
    "can say which app it was issued to, so this site asked GitHub's application-token API, as "
    "the app, before reading who you are.",
    4: "allauth signed you in and its token strategy issued this API's own access and refresh "
    "tokens: a new token family naming the app, listed on your API tokens page, revocable there.",
}


@dataclass
class FlowInProgress:
    """The steps of one flow so far, and the access token while the callback request runs."""

    provider_id: str
    provider_name: str
    process: str
    started_at: float
    steps: list[dict[str, Any]] = field(default_factory=list)
    access_token: str | None = field(default=None, repr=False)
    failed: bool = False

    def add(self, number: int, detail: dict[str, Any], duration_ms: float | None = None) -> None:
        self.steps.append(
            step_record(
                number=number,
                title=STEP_TITLES[number],
                at=time.time(),
                started_at=self.started_at,
                detail=detail,
                duration_ms=duration_ms,
            )
        )


def step_record(
    *,
    number: int,
    title: str,
    at: float | None,
    started_at: float,
    detail: dict[str, Any],
    duration_ms: float | None = None,
) -> dict[str, Any]:
    """One recorded step as the profile shows it, of any flow (the seven steps, the device
    grant's, an app's); `at` None for a step that ran where no clock of ours was."""
    return {
        "number": number,
        "title": title,
        "at": at,
        "elapsed_ms": None if at is None else round((at - started_at) * 1000, 1),
        "duration_ms": None if duration_ms is None else round(duration_ms, 1),
        "detail": detail,
    }


@dataclass(frozen=True)
class OrderRow:
    """One position of a learner's order: the step they put there, the step the flow took
    there, and, when those differ, why the learner's step cannot stand there."""

    position: int
    yours: str
    recorded: str
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.yours == self.recorded


def step_order_checked(*, answer: list[str], expected: list[str]) -> list[OrderRow]:
    """The learner's step titles, position by position, against the expected order."""
    return [
        OrderRow(
            position=position,
            yours=yours,
            recorded=recorded,
            reason=None if yours == recorded else STEP_ORDER_REASONS[STEP_NUMBERS[yours]],
        )
        for position, (yours, recorded) in enumerate(zip(answer, expected, strict=True), 1)
    ]
