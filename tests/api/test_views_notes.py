"""`/api/notes/`: each person's own notes, paged; nobody reads or changes another's."""

from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.exceptions import API_CHALLENGE
from api.models import Note, TokenFamily
from api.services import token_pair_issue
from tests.api.conftest import bearer
from tests.factories import NoteFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def headers(pair):
    return bearer(pair.access)


def test_create_then_read_update_delete(api_client, user, headers):
    created = api_client.post("/api/notes/", {"title": "Milk", "body": "2 litres"}, **headers)

    assert created.status_code == HTTPStatus.CREATED
    note = created.json()
    assert created["Location"] == f"/api/notes/{note['id']}/"
    assert Note.objects.get().owner == user
    read = api_client.get(f"/api/notes/{note['id']}/", **headers)
    assert read.json()["title"] == "Milk"
    updated = api_client.patch(f"/api/notes/{note['id']}/", {"body": "3 litres"}, **headers)
    assert updated.json()["body"] == "3 litres"
    assert updated.json()["title"] == "Milk"
    deleted = api_client.delete(f"/api/notes/{note['id']}/", **headers)
    assert deleted.status_code == HTTPStatus.NO_CONTENT
    assert not Note.objects.exists()


def test_the_list_shows_only_my_notes_newest_first_in_pages(api_client, user, headers):
    mine = NoteFactory.create_batch(25, owner=user)
    NoteFactory.create_batch(3)

    first = api_client.get("/api/notes/", **headers).json()
    second = api_client.get("/api/notes/?page=2", **headers).json()
    big = api_client.get("/api/notes/?page_size=500", **headers).json()

    assert first["count"] == 25
    assert [n["id"] for n in first["results"]] == [n.pk for n in reversed(mine)][:20]
    assert len(second["results"]) == 5
    assert second["next"] is None
    assert len(big["results"]) == 25


def test_listing_costs_two_queries_whatever_the_page_size(
    api_client, user, headers, django_assert_num_queries
):
    """A count and a page, and no transaction around them; the bearer check reads no table."""
    api_client.get("/api/me/", **headers)  # the family's first use is written once
    NoteFactory.create_batch(30, owner=user)

    with django_assert_num_queries(2) as captured:
        response = api_client.get("/api/notes/?page_size=30", **headers)

    assert len(response.json()["results"]) == 30
    assert all('FROM "api_note"' in query["sql"] for query in captured.captured_queries)


def test_listing_with_a_session_costs_the_same_for_5_notes_as_for_30(client, user):
    client.force_login(user)
    client.get("/api/notes/")
    NoteFactory.create_batch(5, owner=user)
    with CaptureQueriesContext(connection) as five:
        client.get("/api/notes/")
    NoteFactory.create_batch(25, owner=user)
    with CaptureQueriesContext(connection) as thirty:
        response = client.get("/api/notes/?page_size=30")

    assert len(response.json()["results"]) == 30
    assert len(thirty) == len(five)


def test_someone_elses_note_answers_exactly_as_a_missing_one(api_client, headers):
    theirs = NoteFactory()

    responses = {
        method: (
            getattr(api_client, method)(f"/api/notes/{theirs.pk}/", **headers),
            getattr(api_client, method)("/api/notes/999999/", **headers),
        )
        for method in ("get", "patch", "delete")
    }

    for other, missing in responses.values():
        assert other.status_code == missing.status_code == HTTPStatus.NOT_FOUND
        assert (
            other.json()
            == missing.json()
            == {"error": {"code": "not_found", "message": "Not found."}}
        )
    assert Note.objects.filter(pk=theirs.pk).exists()


def test_notes_of_another_token_of_mine_are_mine_too(api_client, user, headers):
    other = token_pair_issue(user=user, origin=TokenFamily.Origin.SESSION)
    api_client.post("/api/notes/", {"title": "one"}, **bearer(other.access))

    assert api_client.get("/api/notes/", **headers).json()["count"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": ""},
        {"title": "x" * 201},
        {"title": 7 * [1]},
        {"title": "t", "body": "b" * 10_001},
    ],
)
def test_invalid_notes_are_refused_field_by_field(api_client, headers, body):
    response = api_client.post("/api/notes/", body, **headers)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert set(error["fields"]) <= {"title", "body"}


def test_put_is_not_an_update_here(api_client, headers, user):
    note = NoteFactory(owner=user)

    response = api_client.put(f"/api/notes/{note.pk}/", {"title": "x"}, **headers)

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_notes_need_authentication(api_client):
    response = api_client.get("/api/notes/")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"] == API_CHALLENGE


def test_an_unknown_page_is_a_404_in_the_error_shape(api_client, headers):
    response = api_client.get("/api/notes/?page=9", **headers)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["error"]["code"] == "not_found"


def test_a_second_person_sees_an_empty_list(api_client, user, headers):
    NoteFactory.create_batch(2, owner=user)
    someone = UserFactory()
    theirs = token_pair_issue(user=someone, origin=TokenFamily.Origin.PASSWORD)

    assert api_client.get("/api/notes/", **bearer(theirs.access)).json()["count"] == 0
