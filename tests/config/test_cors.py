"""Cross-origin API use: only the configured origins, only the API, never with credentials."""

import pytest

APP = "https://app.example.com"


@pytest.fixture(autouse=True)
def one_allowed_origin(settings):
    settings.CORS_ALLOWED_ORIGINS = [APP]


def preflight(client, path: str, origin: str):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )


@pytest.mark.django_db
def test_a_configured_origin_may_call_the_api_with_a_bearer_token_but_no_cookies(client):
    answer = preflight(client, "/api/me/", APP)

    assert answer["Access-Control-Allow-Origin"] == APP
    assert "authorization" in answer["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in answer


@pytest.mark.django_db
def test_any_other_origin_gets_no_cors_permission(client):
    answer = preflight(client, "/api/me/", "https://evil.example")

    assert "Access-Control-Allow-Origin" not in answer


@pytest.mark.django_db
def test_the_site_pages_are_never_opened_to_other_origins(client):
    answer = preflight(client, "/accounts/login/", APP)

    assert "Access-Control-Allow-Origin" not in answer
