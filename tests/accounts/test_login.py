"""The sign-in page: how to sign in, flows started only by POST, `next` never leaves the site."""

from http import HTTPStatus

import pytest

pytestmark = pytest.mark.django_db

EVIL_NEXT = ["https://evil.example", "//evil.example", "/\\evil.example", "https:evil.example"]


def test_the_login_page_offers_each_provider_as_a_csrf_protected_post_and_the_local_form(client):
    html = client.get("/accounts/login/").content.decode()

    for provider in ("github", "google"):
        action = f'<form method="post" action="/accounts/{provider}/login/?process=login">'
        assert action in html
    assert "GitHub (local emulator)" in html
    assert "Google (local emulator)" in html
    assert html.count('name="csrfmiddlewaretoken"') >= 3
    assert 'name="password"' in html


def test_a_cross_site_get_never_starts_a_flow(client):
    """RFC 9700 §4.7 / allauth: a GET shows a confirmation page and redirects nowhere."""
    response = client.get("/accounts/github/login/")

    assert response.status_code == HTTPStatus.OK
    assert "Location" not in response
    stored = list(client.session.keys())
    assert not [key for key in stored if key.startswith("socialaccount_state")]


def test_a_post_without_the_csrf_token_never_starts_a_flow():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/accounts/github/login/")

    assert response.status_code == HTTPStatus.FORBIDDEN


def test_a_post_starts_the_flow_with_state_and_pkce(client, settings):
    response = client.post("/accounts/github/login/", {"process": "login"})

    assert response.status_code == HTTPStatus.FOUND
    location = response["Location"]
    assert location.startswith(f"{settings.EMULATOR_URL}/github/login/oauth/authorize?")
    assert "state=" in location
    assert "code_challenge_method=S256" in location
    assert "redirect_uri=http%3A%2F%2Ftestserver%2Faccounts%2Fgithub%2Flogin%2Fcallback%2F" in (
        location
    )


@pytest.mark.parametrize("evil", EVIL_NEXT)
def test_next_pointing_elsewhere_never_leaves_the_site_after_password_sign_in(
    client, user, password, evil
):
    """RFC 9700 §4.11: no open redirector."""
    response = client.post(
        "/accounts/login/", {"login": user.email, "password": password, "next": evil}
    )

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/accounts/profile/"


def test_the_session_id_changes_at_sign_in(client, user, password):
    """OWASP ASVS V7: a new session identifier at authentication (no session fixation)."""
    client.get("/accounts/login/")
    client.session["probe"] = 1
    session = client.session
    session.save()
    before = session.session_key

    client.post("/accounts/login/", {"login": user.email, "password": password})

    assert client.session.session_key != before
    assert client.session["_auth_user_id"] == str(user.pk)


def test_the_policy_lets_provider_buttons_reach_only_their_authorization_endpoints(
    client, settings
):
    """CSP form-action also governs the redirect after a form's POST (here, to the provider)."""
    login_policy = client.get("/accounts/login/")["Content-Security-Policy"]
    home_policy = client.get("/")["Content-Security-Policy"]

    assert f"form-action 'self' {settings.EMULATOR_URL}" in login_policy
    assert "form-action 'self';" in home_policy + ";"
