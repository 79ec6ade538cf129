"""The comparison page in a real browser: each demonstration clicked, what it shows checked."""

import re

import pytest
from playwright.sync_api import expect

from api.models import Note, TokenFamily
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def compare_page(live_server, page, user, console_errors):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("link", name="Sessions vs JWT").click()
    expect(
        page.get_by_role("heading", name="Your session and your JWT, side by side")
    ).to_be_visible()
    yield page
    assert console_errors == []


@pytest.fixture
def holding_a_token(compare_page):
    compare_page.get_by_role("button", name="Make my demo token").click()
    expect(compare_page.get_by_test_id("jwt-algorithm")).to_be_visible()
    return compare_page


def test_the_demo_token_is_made_by_a_click_not_by_a_visit(compare_page, user):
    page = compare_page
    expect(page.get_by_test_id("no-demo-token")).to_be_visible()
    page.reload()
    assert not TokenFamily.objects.filter(user=user).exists()

    page.get_by_role("button", name="Make my demo token").click()

    expect(page).to_have_url(re.compile(r"/compare/#side-by-side$"))
    expect(page.get_by_test_id("jwt-algorithm")).to_contain_text("RS256")
    expect(page.get_by_test_id("no-demo-token")).to_have_count(0)
    assert TokenFamily.objects.filter(user=user).count() == 1


def test_live_values_and_what_scripts_can_read(holding_a_token, settings):
    page = holding_a_token
    expect(page.get_by_test_id("session-bytes")).to_have_text(
        re.compile(r'^\d+ bytes \(\+ "Cookie: "\)$')
    )
    expect(page.get_by_test_id("jwt-algorithm")).to_contain_text("RS256")
    countdown = page.get_by_test_id("jwt-countdown")
    first = countdown.inner_text()
    expect(countdown).not_to_have_text(first, timeout=3000)
    cookies = page.get_by_test_id("script-sees-cookies")
    expect(cookies).to_contain_text(settings.CSRF_COOKIE_NAME)
    expect(cookies).not_to_contain_text(settings.SESSION_COOKIE_NAME)


def test_revoking_a_session_and_a_token(compare_page):
    page = compare_page
    page.get_by_role("button", name="Open a second session, then sign it out").click()
    session_demo = page.get_by_test_id("session-revocation")
    expect(session_demo.locator(".exchange")).to_have_count(2)
    expect(session_demo.locator(".exchange").first).to_have_attribute("data-status", "200")
    expect(session_demo.locator(".exchange").last).to_have_attribute("data-status", "401")
    expect(session_demo.locator(".error-code")).to_have_text("not_authenticated")

    page.get_by_role("button", name="Issue a token, then revoke it").click()
    token_demo = page.get_by_test_id("token-revocation")
    expect(token_demo.locator(".exchange").last).to_have_attribute("data-status", "401")
    expect(token_demo.locator(".error-code")).to_have_text("token_revoked")
    expect(token_demo).to_contain_text('error="invalid_token"')
    expect(page.get_by_test_id("stateless-verdict")).to_contain_text("still accepts")


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("Change sub (the user id) to someone else's", "token_signature_invalid"),
        ("Set alg to none and drop the signature", "token_algorithm_not_allowed"),
        ("Genuinely signed by us, but for another audience", "token_audience_invalid"),
        ("Genuinely signed by us, but already expired", "token_expired"),
    ],
)
def test_editing_the_token_shows_why_it_is_refused(compare_page, label, code):
    page = compare_page
    page.get_by_label("Edit").select_option(label=label)
    page.get_by_role("button", name="Send the edited token to /api/me/").click()

    tampering = page.get_by_test_id("tampering")
    expect(tampering).to_contain_text("HTTP 401")
    # What the edit touched is marked in words, not only in colour.
    expect(tampering.locator("tr.edited mark").first).to_have_text("changed")
    expect(tampering.locator(".error-code")).to_have_text(code)
    expect(tampering).to_contain_text('WWW-Authenticate: Bearer realm="api", error="invalid_token"')


def test_signed_and_encrypted_forms(holding_a_token):
    forms = holding_a_token.get_by_test_id("encrypted-forms")
    expect(forms).to_contain_text("3 parts")
    expect(forms).to_contain_text("5 parts")


def test_cookies_without_a_csrf_token_are_refused_and_a_bearer_call_writes(compare_page, user):
    page = compare_page
    name = "Write a note with your cookies alone, then with a bearer token"
    page.get_by_role("button", name=name).click()

    answers = page.get_by_test_id("csrf-demo").locator(".exchange")
    expect(answers.first).to_have_attribute("data-status", "403")
    expect(answers.first.locator(".error-code")).to_have_text("csrf_failed")
    expect(answers.last).to_have_attribute("data-status", "201")
    cleanup = page.get_by_test_id("csrf-cleanup").locator(".exchange")
    expect(cleanup).to_have_attribute("data-status", "204")
    verdict = page.get_by_test_id("csrf-verdict")
    expect(verdict).to_contain_text(re.compile(r"the API created note\s+\d+\s+\(HTTP 201\)"))
    expect(verdict).to_contain_text("a second request deleted it (HTTP 204).")
    assert not Note.objects.filter(owner=user).exists()


def test_measuring_draws_the_bar_chart(compare_page):
    page = compare_page
    page.get_by_role("button", name="Measure on this server now").click()

    chart = page.get_by_test_id("measurements")
    expect(chart.locator("rect.chart-bar")).to_have_count(4)
    expect(chart).to_contain_text("queries")
    expect(page.get_by_test_id("revocation-cost")).to_contain_text(
        re.compile(r"being able to revoke costs\s+\d+\s+µs a request here")
    )


def test_the_page_has_no_inline_script(live_server, client, user):
    client.force_login(user)

    html = client.get("/compare/").content.decode()

    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert " style=" not in html


def test_a_stolen_bound_token_is_worth_nothing_without_the_key(compare_page):
    page = compare_page
    page.get_by_role("button", name="Steal a bearer token and a DPoP-bound token of mine").click()

    answers = page.get_by_test_id("stolen-token-demo").locator(".exchange")
    expect(answers).to_have_count(5)
    statuses = ["200", "200", "401", "401", "401"]
    for index, status in enumerate(statuses):
        expect(answers.nth(index)).to_have_attribute("data-status", status)
    expect(answers.nth(2).locator(".error-code")).to_have_text("token_dpop_bound")
    expect(answers.nth(4).locator(".error-code")).to_have_text("invalid_dpop_proof")
    expect(answers.nth(4)).to_contain_text("The DPoP proof was used before.")
    verdict = page.get_by_test_id("stolen-verdict")
    expect(verdict).to_contain_text("accepted: whoever holds it is you")
