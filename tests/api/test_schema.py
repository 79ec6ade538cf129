"""The OpenAPI schema and the Swagger UI page (drf-spectacular, from the sidecar's files)."""

import io
import re
from http import HTTPStatus

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_schema_generates_without_a_warning():
    call_command("spectacular", "--fail-on-warn", "--file", "/dev/null", stdout=io.StringIO())


def test_the_schema_lists_every_endpoint_and_both_ways_to_authenticate(api_client):
    schema = api_client.get("/api/schema/?format=json").json()

    assert set(schema["paths"]) == {
        "/.well-known/jwks.json",
        "/api/auth/token/",
        "/api/auth/token/refresh/",
        "/api/auth/token/verify/",
        "/api/auth/token/revoke/",
        "/api/auth/token/revoke-all/",
        "/api/me/",
        "/api/notes/",
        "/api/notes/{note_id}/",
    }
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["cookieAuth"]["in"] == "cookie"
    assert schema["paths"]["/api/auth/token/"]["post"]["security"] == [{}]
    assert "401" in schema["paths"]["/api/me/"]["get"]["responses"]


def test_the_schema_refuses_the_bodies_a_request_serializer_refuses(api_client):
    """api.schema.RequestSerializer: a closed one takes its own fields and no other, and with
    one_of_fields exactly one of them; each beside the fields its serializer declares."""
    schemas = api_client.get("/api/schema/?format=json").json()["components"]["schemas"]

    note_create = schemas["NoteCreateInputRequest"]
    note_update = schemas["PatchedNoteUpdateInputRequest"]
    token_obtain = schemas["TokenObtainInputRequest"]
    assert note_create["additionalProperties"] is False
    assert set(note_create["properties"]) == {"title", "body"}
    assert note_update["additionalProperties"] is False
    assert set(note_update["properties"]) == {"title", "body"}
    assert token_obtain["oneOf"] == [{"required": ["username"]}, {"required": ["email"]}]
    assert set(token_obtain["properties"]) == {"username", "email", "password", "name"}
    assert "additionalProperties" not in token_obtain
    assert "oneOf" not in schemas["TokenRefreshInputRequest"]
    assert set(schemas["TokenRefreshInputRequest"]["properties"]) == {"refresh"}


def test_the_docs_page_loads_swagger_ui_from_our_own_static_files(client):
    response = client.get("/api/docs/")

    html = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    sources = re.findall(r'<script src="([^"]+)"', html)
    assert sources[:2] == [
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-standalone-preset.js",
    ]
    assert sources[2].startswith("/api/docs/?")
    assert "script=" in sources[2]
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "<style" not in html
    assert "cdn." not in html
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_the_start_up_script_is_served_apart_and_only_to_this_site(client):
    response = client.get("/api/docs/?script=")

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert "SwaggerUIBundle" in response.content.decode()
    assert '"persistAuthorization": false' in response.content.decode()
