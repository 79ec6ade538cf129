"""axe-core on every page a person meets: no WCAG 2.1 A or AA violation.

The site's pages, the API docs, the emulators' consent pages and Django admin are each opened in
a real browser, axe-core (tests/e2e/package.json, installed by `make install` with `npm ci`) is
injected, and `axe.run` must report nothing under the tags below. Each violation is printed with
its rule, impact and the elements it names, so a failure says what to fix.

`add_script_tag` puts axe's source into the page as an inline script, which the site's
Content-Security-Policy forbids (as it should); these tests alone open their pages with
Playwright's `bypass_csp`, so the policy the other browser tests check stays as it is.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import totp_code
from tests.e2e.site_pages import PAGES_PEOPLE_MEET, Site, open_page
from tests.factories import DEFAULT_PASSWORD

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("emulator", "cli_client"),
    pytest.mark.browser_context_args(bypass_csp=True),
]


@pytest.fixture(autouse=True)
def axe_installed() -> None:
    if AXE.exists():
        return
    message = f"no axe-core at {AXE}: `make install` runs `npm ci` in tests/e2e (needs npm)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def axe_violations(page: Page) -> list[str]:
    """One line per element axe-core finds in violation: rule, impact, element, help."""
    page.add_script_tag(path=str(AXE))
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_21_AA
    )
    return [
        f"{violation['id']} ({violation['impact']}) at {node['target']}: {violation['help']}"
        for violation in results["violations"]
        for node in violation["nodes"]
    ]


def assert_no_violations(page: Page) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{page.url}:\n" + "\n".join(violations)


@pytest.fixture
def site(live_server, emulator) -> Site:
    return Site(url=live_server.url, emulator=emulator)


@pytest.mark.parametrize("name", PAGES_PEOPLE_MEET)
def test_the_site_pages_have_no_violations(page, site, name):
    open_page(name, page, site)

    assert_no_violations(page)


def test_the_api_docs_have_no_violations_tried_out_and_authorizing(page, site):
    """Swagger UI past its first screen: every operation open, one tried out, then the
    Authorize dialog (the plugins of static/api/swagger-ui-accessible.js label these)."""
    page.goto(site.url + "/api/docs/")
    summaries = page.locator(".opblock-summary-control")
    expect(summaries.first).to_be_visible()
    for index in range(summaries.count()):
        summaries.nth(index).click()
    operation = page.locator("#operations-api-api_me_retrieve")
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    expect(operation.locator(".live-responses-table .response").first).to_be_visible()
    assert_no_violations(page)

    page.get_by_role("button", name="Authorize", exact=True).click()
    expect(page.locator(".dialog-ux")).to_be_visible()

    assert_no_violations(page)


@pytest.mark.parametrize("provider", ["GitHub", "Google"])
def test_the_emulator_consent_pages_have_no_violations(page, site, provider):
    page.goto(site.url + "/accounts/login/")
    page.get_by_role("button", name=f"Sign in with {provider} (local emulator)").click()
    expect(page).to_have_url(re.compile("^" + re.escape(site.emulator)))

    assert_no_violations(page)


@pytest.fixture
def admin_page(page, site, admin_user, settings) -> Page:
    """Signed in as staff in the browser (the password, then the authenticator's code), after
    saving one user: the admin's recent actions and its message name it, with links."""
    settings.MFA_TOTP_TOLERANCE = 1
    page.goto(site.url + "/accounts/login/")
    page.get_by_label("Email").fill(admin_user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.locator("input[name=code]").fill(totp_code(admin_user.totp_secret))
    page.get_by_role("button", name="Sign In").click()
    page.goto(site.url + f"/admin/accounts/user/{admin_user.pk}/change/")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist .success")).to_contain_text("was changed successfully")
    return page


def test_the_admin_change_list_with_its_message_has_no_violations(admin_page):
    assert_no_violations(admin_page)


@pytest.mark.parametrize("path", ["/admin/", "/admin/accounts/auditevent/"])
def test_the_admin_pages_have_no_violations(admin_page, site, path):
    admin_page.goto(site.url + path)
    expect(admin_page.locator("#site-name")).to_contain_text("signin-lab administration")

    assert_no_violations(admin_page)
