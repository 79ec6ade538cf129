"""/learn/ in a real browser, on a 390 px phone and a 1280 px screen: no sideways scrolling, with a
recorded GitHub sign-in and signed out, and no console error (the strict CSP included)."""

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("emulator")]

WIDTHS = [390, 1280]


def horizontal_overflow(page: Page) -> int:
    """How many pixels the page is wider than the viewport (0: no sideways scrolling)."""
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_after_a_github_sign_in_the_page_fits_the_screen(
    live_server, page, console_errors, emulator, width
):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_role("button", name="Sign in with GitHub (local emulator)").click()
    expect(page).to_have_url(re.compile("^" + re.escape(emulator)))
    page.get_by_role("button", name=re.compile("Ada Lovelace")).click()
    expect(page).to_have_url(live_server.url + "/accounts/profile/")

    page.get_by_role("link", name="Learn", exact=True).click()
    # Measured once its stylesheets are in: a click returns as the next page starts to arrive.
    page.wait_for_load_state("load")

    expect(page.get_by_test_id("learn-source")).to_contain_text("GitHub (local emulator)")
    expect(page.get_by_test_id("learn-misorder")).to_contain_text("characters, masked")
    expect(page.get_by_role("columnheader", name="Access token")).to_be_attached()
    assert horizontal_overflow(page) <= 0
    page.get_by_role("link", name="Receive the authorization code at the callback").click()
    expect(page).to_have_url(live_server.url + "/accounts/profile/#step-4")
    expect(page.locator("#step-4")).to_be_in_viewport()
    assert console_errors == []


@pytest.mark.parametrize("width", WIDTHS)
def test_signed_out_the_page_fits_the_screen(live_server, page, console_errors, width):
    page.set_viewport_size({"width": width, "height": 900})

    page.goto(live_server.url + "/learn/")

    expect(page.get_by_test_id("learn-first")).to_contain_text("sign in with GitHub or Google")
    assert horizontal_overflow(page) <= 0
    assert console_errors == []
