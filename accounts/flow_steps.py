"""The seven steps of a third-party sign-in, and the steps one flow has taken so far."""

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
        now = time.time()
        self.steps.append(
            {
                "number": number,
                "title": STEP_TITLES[number],
                "at": now,
                "elapsed_ms": round((now - self.started_at) * 1000, 1),
                "duration_ms": None if duration_ms is None else round(duration_ms, 1),
                "detail": detail,
            }
        )
