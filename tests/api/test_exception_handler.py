"""One JSON error shape for every API error, whatever raised it; no input makes a 500."""

from http import HTTPStatus

import pytest

from tests.api.conftest import bearer

pytestmark = pytest.mark.django_db


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message"} <= set(body["error"])
    return body["error"]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("get", "/api/auth/token/", {}, HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed"),
        (
            "delete",
            "/.well-known/jwks.json",
            {},
            HTTPStatus.METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        ("get", "/api/nowhere/", {}, HTTPStatus.NOT_FOUND, "not_found"),
        ("post", "/api/auth/token", {}, HTTPStatus.NOT_FOUND, "not_found"),
        ("get", "/api/me/", {}, HTTPStatus.UNAUTHORIZED, "not_authenticated"),
        (
            "post",
            "/api/auth/token/",
            {"data": "{not json", "content_type": "application/json"},
            HTTPStatus.BAD_REQUEST,
            "parse_error",
        ),
        (
            "post",
            "/api/auth/token/",
            {"data": "username=a", "content_type": "application/x-www-form-urlencoded"},
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "post",
            "/api/auth/token/",
            {"data": "{}", "content_type": "application/json; charset=bz2_codec"},
            HTTPStatus.BAD_REQUEST,
            "parse_error",
        ),
        (
            "get",
            "/api/me/",
            {"HTTP_ACCEPT": "text/html"},
            HTTPStatus.NOT_ACCEPTABLE,
            "not_acceptable",
        ),
    ],
)
def test_errors_share_one_shape(api_client, method, path, kwargs, status, code):
    response = getattr(api_client, method)(path, **kwargs)

    assert response.status_code == status
    assert error_of(response)["code"] == code


def test_validation_errors_name_each_field(api_client):
    response = api_client.post("/api/auth/token/", {"username": 7 * ["x"]})

    error = error_of(response)
    assert error["code"] == "invalid_input"
    assert error["fields"]["username"] == [{"message": "Not a valid string.", "code": "invalid"}]
    assert error["fields"]["password"][0]["code"] == "required"


@pytest.mark.parametrize("body", ["[]", '"a string"', "null", "42", '{"username": {"a": 1}}'])
def test_wrong_json_types_are_validation_errors(api_client, body):
    response = api_client.post("/api/auth/token/", body, content_type="application/json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert error_of(response)["code"] == "invalid_input"


def test_a_huge_body_is_refused_unread(api_client):
    body = '{"username": "' + "a" * 200_000 + '", "password": "x"}'

    response = api_client.post("/api/auth/token/", body, content_type="application/json")

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert error_of(response)["code"] == "request_too_large"


def test_deeply_nested_json_is_a_parse_error(api_client, pair):
    body = "[" * 50_000 + "]" * 50_000

    response = api_client.post(
        "/api/notes/", body, content_type="application/json", **bearer(pair.access)
    )

    assert response.status_code in (HTTPStatus.BAD_REQUEST, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    error_of(response)


def test_non_ascii_input_is_fine(api_client, pair):
    response = api_client.post(
        "/api/notes/", {"title": "Café ☕ — 東京", "body": "🔐"}, **bearer(pair.access)
    )

    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["title"] == "Café ☕ — 東京"


def test_non_ascii_credentials_are_an_ordinary_failure(api_client):
    response = api_client.post("/api/auth/token/", {"username": "ünïcødé", "password": "пароль"})

    assert error_of(response)["code"] == "invalid_credentials"
