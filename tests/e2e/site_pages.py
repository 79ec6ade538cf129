"""The pages a person meets on the site, each opened in the state that shows the most of it.

The width and accessibility tests share these: a page is named once here and both walk it. Pages
that need a signed-in person sign in with GitHub through the emulator, so the profile, the
exercise and /learn/ show a recorded flow; the tokens page shows a token just made.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from playwright.sync_api import Page, expect


@dataclass(frozen=True)
class Site:
    """Where the site and the provider emulators listen, for one test."""

    url: str
    emulator: str


def sign_in_with_github(page: Page, site: Site) -> None:
    """The whole flow in the browser: the site's button, the emulator's consent, the profile."""
    page.goto(site.url + "/accounts/login/")
    page.get_by_role("button", name="Sign in with GitHub (local emulator)").click()
    expect(page).to_have_url(re.compile("^" + re.escape(site.emulator)))
    page.get_by_role("button", name=re.compile("Ada Lovelace")).click()
    expect(page).to_have_url(site.url + "/accounts/profile/")


def open_home(page: Page, site: Site) -> None:
    page.goto(site.url + "/")


def open_sign_in(page: Page, site: Site) -> None:
    page.goto(site.url + "/accounts/login/")


def open_sign_up(page: Page, site: Site) -> None:
    page.goto(site.url + "/accounts/signup/")


def open_profile(page: Page, site: Site) -> None:
    """The recorded flow, and the provider's answer to the live API call under it."""
    sign_in_with_github(page, site)
    page.get_by_role("button", name="Call the provider's API with it").click()
    expect(page.get_by_test_id("provider-api-call")).to_contain_text("Answer: HTTP 200")


def open_flow_exercise(page: Page, site: Site) -> None:
    """The exercise after a wrong answer: its result table is on the page."""
    sign_in_with_github(page, site)
    page.get_by_role("link", name="Put the seven steps in order yourself").click()
    selects = page.locator("form.exercise select")
    for index in range(selects.count()):
        selects.nth(index).select_option(str(index + 1))
    page.get_by_role("button", name="Check my order").click()
    expect(page.get_by_test_id("exercise-result")).to_be_visible()


def open_sessions(page: Page, site: Site) -> None:
    sign_in_with_github(page, site)
    page.get_by_role("link", name="Sessions", exact=True).click()
    expect(page.get_by_test_id("sessions")).to_be_visible()


def open_tokens(page: Page, site: Site) -> None:
    """A token just made: both its halves are on the page, with their copy buttons."""
    sign_in_with_github(page, site)
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("laptop")
    page.get_by_role("button", name="Make a token").click()
    expect(page.get_by_test_id("new-token")).to_be_visible()


def open_learn(page: Page, site: Site) -> None:
    sign_in_with_github(page, site)
    page.get_by_role("link", name="Learn", exact=True).click()
    expect(page.get_by_test_id("learn-source")).to_be_visible()


def open_api_docs(page: Page, site: Site) -> None:
    """Swagger UI with one operation opened, its schema and example shown."""
    page.goto(site.url + "/api/docs/")
    operation = page.locator("#operations-api-api_auth_token_create")
    operation.locator(".opblock-summary").click()
    expect(operation).to_contain_text('"token_type": "Bearer"')


def open_compare(page: Page, site: Site) -> None:
    sign_in_with_github(page, site)
    page.get_by_role("link", name="Sessions vs JWT").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your session and your JWT, side by side"
    )


def open_device(page: Page, site: Site) -> None:
    """A device's request waiting for the person's answer (the built-in client must exist)."""
    started = page.request.post(
        site.url + "/oauth/device_authorization", form={"client_id": "signin-lab-cli"}
    ).json()
    sign_in_with_github(page, site)
    page.goto(started["verification_uri_complete"])
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_test_id("device-user-code")).to_have_text(started["user_code"])


OPENERS: dict[str, Callable[[Page, Site], None]] = {
    "home": open_home,
    "sign-in": open_sign_in,
    "sign-up": open_sign_up,
    "profile": open_profile,
    "flow-exercise": open_flow_exercise,
    "sessions": open_sessions,
    "tokens": open_tokens,
    "learn": open_learn,
    "api-docs": open_api_docs,
    "compare": open_compare,
    "device": open_device,
}

# The pages the width and accessibility tests walk.
PAGES_PEOPLE_MEET = [
    "home",
    "sign-in",
    "sign-up",
    "profile",
    "flow-exercise",
    "sessions",
    "tokens",
    "learn",
    "api-docs",
    "compare",
    "device",
]


def open_page(name: str, page: Page, site: Site) -> None:
    """Open page `name` and wait until it has loaded, stylesheets included: a click returns once
    the next page starts to arrive, and a page measured before its CSS is applied is not the
    page a person sees (a table of three columns at 390 px overflowed only on slow runs)."""
    OPENERS[name](page, site)
    page.wait_for_load_state("load")
