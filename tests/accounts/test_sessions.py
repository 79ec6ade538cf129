"""/accounts/sessions/: your open sessions, and signing one or all others out."""

from http import HTTPStatus

import pytest
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.test import Client

pytestmark = pytest.mark.django_db


def signed_in_client(user, password, agent: str) -> Client:
    client = Client(HTTP_USER_AGENT=agent, REMOTE_ADDR="203.0.113.7")
    client.post("/accounts/login/", {"login": user.email, "password": password})
    return client


LAPTOP = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.2 Mobile/15E148 Safari/604.1"
)


def test_the_sessions_page_lists_each_open_session_with_device_ip_and_last_seen(user, password):
    laptop = signed_in_client(user, password, LAPTOP)
    signed_in_client(user, password, PHONE)
    signed_in_client(user, password, "Laptop Browser/1.0")

    html = laptop.get("/accounts/sessions/").content.decode()

    agent_cell = '<td data-label="Browser and system" class="user-agent" title="{}">{}</td>'
    assert agent_cell.format(LAPTOP, "Chrome 120 on Windows 10") in html
    assert ">Mobile Safari 17 on iOS 17.2</td>" in html
    assert agent_cell.format("Laptop Browser/1.0", "(unknown)") in html
    assert "203.0.113.7" in html
    assert "This browser" in html


def test_signing_out_another_session_ends_it_at_once(user, password):
    laptop = signed_in_client(user, password, "Laptop")
    phone = signed_in_client(user, password, "Phone")
    phone_session = UserSession.objects.get(user=user, user_agent="Phone")

    response = laptop.post(f"/accounts/sessions/{phone_session.pk}/end/")

    assert response.status_code == HTTPStatus.FOUND
    assert phone.get("/accounts/profile/").status_code == HTTPStatus.FOUND
    assert laptop.get("/accounts/profile/").status_code == HTTPStatus.OK


def test_sign_out_all_other_sessions(user, password):
    laptop = signed_in_client(user, password, "Laptop")
    phone = signed_in_client(user, password, "Phone")
    tablet = signed_in_client(user, password, "Tablet")

    laptop.post("/accounts/sessions/")

    assert phone.get("/accounts/profile/").status_code == HTTPStatus.FOUND
    assert tablet.get("/accounts/profile/").status_code == HTTPStatus.FOUND
    assert laptop.get("/accounts/profile/").status_code == HTTPStatus.OK


def test_nobody_can_end_someone_elses_session(user, password):
    from tests.factories import UserFactory

    other = UserFactory()
    signed_in_client(other, password, "Other")
    theirs = UserSession.objects.get(user=other)
    mine = signed_in_client(user, password, "Mine")

    response = mine.post(f"/accounts/sessions/{theirs.pk}/end/")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert UserSession.objects.filter(pk=theirs.pk).exists()


def test_ending_a_session_needs_a_post_with_csrf(user, password):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    session = UserSession.objects.create(
        user=user, ip="127.0.0.1", session_key="k" * 32, user_agent="x"
    )

    assert client.get(f"/accounts/sessions/{session.pk}/end/").status_code == 405
    assert client.post(f"/accounts/sessions/{session.pk}/end/").status_code == 403


def test_with_sessions_in_the_cache_the_list_costs_the_same_queries_for_one_or_many(
    user, password, redis_caches, django_assert_max_num_queries
):
    """allauth checks each listed session against the session store; with production's store (Redis)
    it costs no query per row. Development's database store costs two per row."""
    laptop = signed_in_client(user, password, "Laptop")
    with django_assert_max_num_queries(10) as alone:
        assert laptop.get("/accounts/sessions/").content.decode().count("data-session=") == 1
    for n in range(5):
        signed_in_client(user, password, f"Device {n}")

    with django_assert_max_num_queries(10) as six:
        response = laptop.get("/accounts/sessions/")

    assert response.status_code == HTTPStatus.OK
    assert response.content.decode().count("data-session=") == 6
    assert len(six.captured_queries) == len(alone.captured_queries)


def test_a_session_ended_elsewhere_is_purged_from_the_list(user, password):
    laptop = signed_in_client(user, password, "Laptop")
    phone = signed_in_client(user, password, "Phone")
    # The session store forgets the phone's session (expiry, a flush) behind allauth's back.
    Session.objects.filter(session_key=phone.session.session_key).delete()
    assert UserSession.objects.filter(user=user).count() == 2

    html = laptop.get("/accounts/sessions/").content.decode()

    assert html.count("data-session=") == 1
    assert UserSession.objects.filter(user=user).count() == 1
