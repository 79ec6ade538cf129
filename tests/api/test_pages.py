"""The tokens page: make a token from the session (shown once), list, revoke one, revoke all."""

import re
from http import HTTPStatus

import pytest
from django.core.cache import cache
from django.test import Client

from api.models import TokenFamily
from api.services import token_pair_issue
from tests.api.conftest import bearer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAGE = "/accounts/tokens/"


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def test_the_page_needs_a_signed_in_person(client):
    response = client.get(PAGE)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/login/")


def test_someone_without_a_password_makes_a_token_shown_once(signed_in, user, api_client):
    user.set_unusable_password()
    user.save()
    signed_in.force_login(user)

    response = signed_in.post(PAGE, {"name": "backup script"})

    assert response.status_code == HTTPStatus.OK
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    access = re.search(r'data-testid="new-access">([^<]+)<', html).group(1)
    refresh = re.search(r'data-testid="new-refresh">([^<]+)<', html).group(1)
    assert api_client.get("/api/me/", **bearer(access)).json()["id"] == user.pk
    assert (
        api_client.post("/api/auth/token/refresh/", {"refresh": refresh}).status_code
        == HTTPStatus.OK
    )
    family = TokenFamily.objects.get()
    assert (family.name, family.origin) == ("backup script", TokenFamily.Origin.SESSION)
    again = signed_in.get(PAGE).content.decode()
    assert access not in again
    assert "backup script" in again


def test_the_copy_buttons_are_real_buttons_a_script_file_shows(signed_in):
    html = signed_in.post(PAGE, {"name": "laptop"}).content.decode()

    assert '<script src="/static/api/tokens.js" defer></script>' in html
    for kind in ("access", "refresh"):
        # Hidden until the script runs: without JavaScript the text is copied by hand.
        assert (
            f'<button type="button" data-copy="new-{kind}" data-copy-status="new-{kind}-status" '
            f"hidden>Copy the {kind} token</button>"
        ) in html
        assert f'<span id="new-{kind}-status" role="status"></span>' in html


def test_making_a_token_needs_the_csrf_token(user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    response = browser.post(PAGE, {"name": "x"})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not TokenFamily.objects.exists()


def test_a_name_is_required(signed_in):
    response = signed_in.post(PAGE, {"name": ""})

    assert response.status_code == HTTPStatus.OK
    assert not TokenFamily.objects.exists()
    assert "This field is required" in response.content.decode()


def test_the_list_shows_name_dates_and_state(signed_in, user, api_client):
    live = token_pair_issue(user=user, origin=TokenFamily.Origin.SESSION, name="laptop")
    gone = token_pair_issue(user=user, origin=TokenFamily.Origin.SESSION, name="old phone")
    api_client.post("/api/auth/token/revoke/", {"token": gone.refresh})
    api_client.get("/api/me/", **bearer(live.access))
    token_pair_issue(user=UserFactory(), origin=TokenFamily.Origin.SESSION, name="not mine")

    html = signed_in.get(PAGE).content.decode()

    made_here = r'\s*<span class="token-note" data-testid="token-origin">Made from a signed-in'
    assert re.search(r'token-state-active">\s*<td data-label="Name">laptop' + made_here, html)
    assert re.search(r'token-state-revoked">\s*<td data-label="Name">old phone' + made_here, html)
    assert "not mine" not in html
    assert "now" in html  # last used, in words


def test_a_family_bound_to_a_dpop_key_says_so(signed_in, user):
    token_pair_issue(user=user, origin=TokenFamily.Origin.APP, name="phone", jkt="k" * 43)
    token_pair_issue(user=user, origin=TokenFamily.Origin.SESSION, name="laptop")

    html = signed_in.get(PAGE).content.decode()

    assert html.count('data-testid="token-dpop"') == 1
    assert "Bound to the app's DPoP key (thumbprint <code>kkkkkkkkkkk…</code>)" in html


def test_the_list_costs_the_same_for_2_tokens_as_for_20(
    signed_in, user, django_assert_max_num_queries
):
    for n in range(2):
        token_pair_issue(user=user, origin=TokenFamily.Origin.SESSION, name=f"t{n}")
    signed_in.get(PAGE)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as two:
        signed_in.get(PAGE)
    for n in range(18):
        token_pair_issue(user=user, origin=TokenFamily.Origin.SESSION, name=f"u{n}")
    with django_assert_max_num_queries(len(two)):
        signed_in.get(PAGE)


def test_revoking_one_token(signed_in, user, api_client):
    pair = token_pair_issue(user=user, origin=TokenFamily.Origin.SESSION, name="laptop")

    response = signed_in.post(f"{PAGE}{pair.family.pk}/revoke/", follow=True)

    assert "“laptop” is revoked" in response.content.decode()
    assert api_client.get("/api/me/", **bearer(pair.access)).status_code == HTTPStatus.UNAUTHORIZED


def test_someone_elses_token_cannot_be_revoked(signed_in):
    theirs = token_pair_issue(user=UserFactory(), origin=TokenFamily.Origin.SESSION)

    response = signed_in.post(f"{PAGE}{theirs.family.pk}/revoke/")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert TokenFamily.objects.get().revoked_at is None


def test_revoking_needs_post(signed_in, user):
    pair = token_pair_issue(user=user, origin=TokenFamily.Origin.SESSION)

    assert (
        signed_in.get(f"{PAGE}{pair.family.pk}/revoke/").status_code
        == HTTPStatus.METHOD_NOT_ALLOWED
    )


def test_revoke_all_revokes_every_token_and_keeps_the_session(signed_in, user, api_client):
    pairs = [token_pair_issue(user=user, origin=TokenFamily.Origin.SESSION) for _ in range(3)]

    response = signed_in.post(f"{PAGE}revoke-all/", follow=True)

    assert "(3 were still active)" in response.content.decode()
    for pair in pairs:
        assert (
            api_client.get("/api/me/", **bearer(pair.access)).status_code == HTTPStatus.UNAUTHORIZED
        )
    assert signed_in.get(PAGE).status_code == HTTPStatus.OK


def test_the_page_has_no_inline_script_or_style_and_links_its_stylesheet(signed_in):
    html = signed_in.post(PAGE, {"name": "x"}).content.decode()

    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "<style" not in html
    assert " style=" not in html
    assert '<link rel="stylesheet" href="/static/api/tokens.css">' in html
    assert signed_in.get("/static/api/tokens.css").status_code == HTTPStatus.OK


def test_the_navigation_links_to_the_page(signed_in):
    html = signed_in.get("/").content.decode()

    assert f'href="{PAGE}"' in html
    assert 'href="/api/docs/"' in html


def test_past_the_limit_the_least_recently_used_token_is_evicted_and_the_page_says_so(
    signed_in, user, settings, api_client
):
    """The review's case: a person's "phone" token, used a moment ago, survives a burst of new
    grants; the forgotten ones go, answer `token_evicted`, and the page names the sign-in that
    took their place."""
    settings.API_MAX_LIVE_TOKEN_FAMILIES = 3
    phone, forgotten, _recent = (
        token_pair_issue(user=user, origin=TokenFamily.Origin.SESSION, name=name)
        for name in ("phone", "forgotten", "recent")
    )
    assert api_client.get("/api/me/", **bearer(phone.access)).status_code == HTTPStatus.OK

    html = signed_in.post(PAGE, {"name": "the fourth"}, follow=True).content.decode()

    assert "“forgotten” was revoked to make room: at most 3 of your tokens stay live" in html
    live = TokenFamily.objects.filter(user=user, revoked_at__isnull=True)
    assert sorted(live.values_list("name", flat=True)) == ["phone", "recent", "the fourth"]
    evicted = TokenFamily.objects.get(name="forgotten")
    assert evicted.revoked_reason == TokenFamily.RevokeReason.LIMIT
    assert evicted.evicted_by.name == "the fourth"
    refused = api_client.get("/api/me/", **bearer(forgotten.access))
    assert refused.status_code == HTTPStatus.UNAUTHORIZED
    assert refused.json()["error"]["code"] == "token_evicted"
    refresh = api_client.post("/api/auth/token/refresh/", {"refresh": forgotten.refresh})
    assert refresh.json()["error"]["code"] == "token_evicted"
    assert api_client.get("/api/me/", **bearer(phone.access)).status_code == HTTPStatus.OK
    page = signed_in.get(PAGE).content.decode()
    assert "Evicted by “the fourth”" in page


def test_an_evicted_familys_code_survives_a_cache_that_lost_its_marks(user, settings, api_client):
    settings.API_MAX_LIVE_TOKEN_FAMILIES = 1
    first = token_pair_issue(user=user, origin=TokenFamily.Origin.SESSION, name="first")
    token_pair_issue(user=user, origin=TokenFamily.Origin.SESSION, name="second")
    cache.clear()

    refused = api_client.get("/api/me/", **bearer(first.access))

    assert refused.json()["error"]["code"] == "token_evicted"


def test_a_window_answer_is_shown_on_the_page(signed_in, user, api_client):
    pair = token_pair_issue(user=user, origin=TokenFamily.Origin.SESSION, name="cli")
    for _ in range(2):
        api_client.post("/api/auth/token/refresh/", {"refresh": pair.refresh})

    page = signed_in.get(PAGE).content.decode()

    assert "answered from the reuse window" in page
