"""The API docs page in a real browser: Swagger UI runs under the strict CSP (no inline script
or style, no CDN), and a bearer token typed into its Authorize dialog is sent with "Try it out"."""

import re

import pytest
from playwright.sync_api import expect

from api.models import TokenFamily
from api.services import token_pair_issue
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_swagger_ui_renders_under_the_csp_with_no_console_errors(live_server, page, console_errors):
    outside = []
    page.on(
        "request",
        lambda request: request.url.startswith(live_server.url) or outside.append(request.url),
    )

    page.goto(live_server.url + "/api/docs/")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("signin-lab API")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()
    assert console_errors == []
    assert [url for url in outside if not url.startswith("data:")] == []


def test_a_bearer_token_authorizes_try_it_out(live_server, page, console_errors):
    user = UserFactory()
    access = token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD).access
    page.goto(live_server.url + "/api/docs/")

    page.get_by_role("button", name="Authorize").click()
    dialog = page.locator(".dialog-ux")
    bearer_form = dialog.locator("form").filter(has_text="bearerAuth (http, Bearer)")
    bearer_form.locator("input").fill(access)
    bearer_form.get_by_role("button", name="Apply credentials").click()
    expect(bearer_form.get_by_role("button", name="Remove authorization")).to_be_visible()
    bearer_form.get_by_role("button", name="Close").click()
    operation = page.locator("#operations-api-api_me_retrieve")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()

    response = operation.locator(".live-responses-table .response").first
    expect(response.locator(".response-col_status")).to_contain_text("200")
    expect(response.locator(".response-col_description")).to_contain_text(
        re.compile(r'"authenticated_by": "bearer"')
    )
    assert console_errors == []


def test_the_schema_link_opens_in_the_browser_and_the_site_is_one_link_away(
    live_server, page, console_errors
):
    page.goto(live_server.url + "/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("signin-lab API")
    operation = page.locator("#operations-api-api_auth_token_create")
    operation.locator(".opblock-summary").click()
    expect(operation).to_contain_text('"email": "api-demo@example.com"')
    expect(operation).to_contain_text('"token_type": "Bearer"')

    # Swagger UI opens its schema link in a new tab: shown there as text, not saved as a file.
    with page.expect_popup() as opened:
        page.locator(".swagger-ui .info .link").click()

    schema = opened.value
    expect(schema).to_have_url(live_server.url + "/api/schema/?format=json")
    expect(schema.locator("body")).to_contain_text('"title": "signin-lab API"')
    page.get_by_role("link", name="← signin-lab").click()
    expect(page).to_have_url(live_server.url + "/")
    assert console_errors == []
