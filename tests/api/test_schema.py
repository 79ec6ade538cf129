"""The OpenAPI schema and the Swagger UI page (drf-spectacular, from the sidecar's files)."""

import base64
import io
import json
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
    # Swagger UI's accessibility plugins, then the start-up script that names them.
    assert sources[2] == "/static/api/swagger-ui-accessible.js"
    assert sources[3].startswith("/api/docs/?")
    assert "script=" in sources[3]
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
    assert "persistAuthorization: false" in response.content.decode()


def decoded(token: str) -> tuple[dict, dict]:
    header, claims, _ = token.split(".")
    return tuple(json.loads(base64.urlsafe_b64decode(part + "==")) for part in (header, claims))


def test_the_token_examples_are_shaped_as_the_api_issues_them(api_client, pair):
    operations = api_client.get("/api/schema/?format=json").json()["paths"]
    obtain = operations["/api/auth/token/"]["post"]
    refresh = operations["/api/auth/token/refresh/"]["post"]

    (asked,) = obtain["requestBody"]["content"]["application/json"]["examples"].values()
    assert asked["value"]["email"] == "api-demo@example.com"
    (answered,) = obtain["responses"]["200"]["content"]["application/json"]["examples"].values()
    example = answered["value"]
    assert set(example) == {
        "token_type",
        "access",
        "refresh",
        "expires_in",
        "access_expires_at",
        "refresh_expires_at",
    }
    assert example["token_type"] == "Bearer"
    for kind in ("access", "refresh"):
        example_header, example_claims = decoded(example[kind])
        real_header, real_claims = decoded(getattr(pair, kind))
        assert set(example_header) == set(real_header)
        assert example_header["typ"] == real_header["typ"]
        assert set(example_claims) == set(real_claims)
        assert example_claims["iss"] == real_claims["iss"]
        assert example_claims["aud"] == real_claims["aud"]
    assert example["expires_in"] == 300
    (sent,) = refresh["requestBody"]["content"]["application/json"]["examples"].values()
    assert decoded(sent["value"]["refresh"])[1]["token_type"] == "refresh"


def test_the_docs_page_links_back_to_the_site_and_to_the_schema_as_json(client):
    html = client.get("/api/docs/").content.decode()
    script = client.get("/api/docs/?script=").content.decode()

    assert '<a href="/">← signin-lab</a>' in html
    assert '<a href="/accounts/tokens/">' in html
    assert '<a href="/api/schema/?format=json" data-testid="schema-link">' in html
    # Swagger UI loads and shows this URL (the start-up script escapes its "=" for JavaScript).
    assert 'url: "/api/schema/?format\\u003Djson"' in script


def test_the_schema_as_json_is_shown_inline_not_saved(client):
    response = client.get("/api/schema/?format=json")

    assert response["Content-Type"] == "application/vnd.oai.openapi+json"
    assert response["Content-Disposition"].startswith("inline")
    assert response.json()["info"]["title"] == "signin-lab API"
