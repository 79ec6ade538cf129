"""The home page in a real browser: it loads, obeys the CSP, and leads to sign-in."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_home_page_loads_with_its_stylesheet_and_no_console_errors(
    live_server, page, console_errors
):
    page.goto(live_server.url + "/")

    expect(page).to_have_title("Home · signin-lab")
    expect(page.get_by_role("heading", name="Two ways to prove who you are")).to_be_visible()
    expect(page.get_by_test_id("signed-in-as")).to_have_text("Not signed in")
    # The stylesheet applied: the header's navigation is laid out as a flex row.
    assert page.locator("nav.nav").evaluate("el => getComputedStyle(el).display") == "flex"
    assert console_errors == []


def test_sign_in_with_a_password_shows_who_is_signed_in(live_server, page, user, password):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()

    expect(page.get_by_test_id("signed-in-as")).to_have_text(f"Signed in as {user.email}")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_test_id("signed-in-as")).to_have_text("Not signed in")
