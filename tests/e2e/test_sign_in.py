"""Sign in with GitHub and Google in a real browser, through the emulators' consent pages."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("emulator")]


@pytest.mark.parametrize(
    ("provider", "person", "email"),
    [("GitHub", "Ada Lovelace", "ada@example.com"), ("Google", "Alan Turing", "alan@example.com")],
)
def test_click_the_button_consent_and_land_signed_in_with_the_flow_recorded(
    live_server, page, console_errors, emulator, provider, person, email
):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_role("button", name=f"Sign in with {provider} (local emulator)").click()

    expect(page).to_have_url(re.compile("^" + re.escape(emulator)))
    page.get_by_role("button", name=re.compile(person)).click()

    expect(page).to_have_url(live_server.url + "/accounts/profile/")
    expect(page.get_by_test_id("signed-in-as")).to_have_text(f"Signed in as {email}")
    expect(page.get_by_test_id("sign-in-method")).to_have_text(f"{provider} (local emulator)")
    steps = page.get_by_test_id("flow-steps").locator("li.flow-step")
    expect(steps.first).to_contain_text("1. Register the application")
    expect(steps).to_have_count(7)
    expect(steps.nth(6)).to_contain_text("7. Call the provider's API with the access token")
    assert console_errors == []

    # The answer shows where the button is, not at the top of a page thousands of pixels long.
    page.get_by_role("button", name="Call the provider's API with it").click()
    expect(page).to_have_url(live_server.url + "/accounts/profile/#provider-api")
    answer = page.get_by_test_id("provider-api-call")
    expect(answer).to_contain_text("Answer: HTTP 200")
    expect(answer).to_be_in_viewport()


def test_cancelling_on_the_provider_page_says_so(live_server, page):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_role("button", name="Sign in with GitHub (local emulator)").click()
    page.get_by_role("button", name="Cancel").click()

    expect(page.get_by_role("heading", name="You cancelled the sign-in")).to_be_visible()
    expect(page.get_by_test_id("signed-in-as")).to_have_text("Not signed in")
    page.get_by_role("link", name="Try again").click()
    expect(page).to_have_url(live_server.url + "/accounts/login/")


def test_a_provider_that_fails_ends_on_a_page_that_says_what_went_wrong(live_server, page):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_role("button", name="Sign in with Google (local emulator)").click()
    page.get_by_role("button", name=re.compile("token-500")).click()

    expect(page.get_by_test_id("sign-in-error")).to_contain_text("did not give this site")
    expect(page.get_by_test_id("signed-in-as")).to_have_text("Not signed in")
