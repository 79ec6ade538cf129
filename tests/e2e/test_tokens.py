"""The tokens page in a real browser: its copy buttons put each new token on the clipboard, under
the strict CSP (a static script file), and are real buttons with names a screen reader says."""

import pytest
from playwright.sync_api import expect

from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tokens_page(live_server, context, page, user, console_errors):
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("laptop")
    page.get_by_role("button", name="Make a token").click()
    expect(page.get_by_test_id("new-token")).to_be_visible()
    yield page
    assert console_errors == []


@pytest.mark.parametrize("kind", ["access", "refresh"])
def test_each_copy_button_puts_its_token_on_the_clipboard(tokens_page, kind):
    page = tokens_page
    field = f"new-{kind}"
    token = page.get_by_test_id(field).input_value()

    page.get_by_role("button", name=f"Copy the {kind} token").click()

    expect(page.locator(f"#{field}-status")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == token
