"""The base layout and home page: navigation, the signed-in person, CSP-clean markup."""

import re
from http import HTTPStatus

import pytest

pytestmark = pytest.mark.django_db


def test_home_page_says_what_the_site_is_and_links_to_sign_in(client):
    response = client.get("/")

    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "Two ways to prove who you are" in html
    assert 'href="/accounts/login/"' in html
    assert "Not signed in" in html


def test_navigation_shows_who_is_signed_in(client, user):
    client.force_login(user)

    html = client.get("/").content.decode()

    assert f"Signed in as <strong>{user.email}</strong>" in html
    assert 'action="/accounts/logout/"' in html


def test_pages_carry_a_strict_content_security_policy_and_no_inline_code(client):
    response = client.get("/")

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "<style" not in html
    assert " style=" not in html


def test_static_files_are_served_by_whitenoise(client):
    response = client.get("/static/css/site.css")

    assert response.status_code == HTTPStatus.OK
    assert b"signin-lab" in b"".join(response.streaming_content)
