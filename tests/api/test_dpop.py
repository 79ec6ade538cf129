"""DPoP end to end (RFC 9449): the token endpoint binds a device sign-in's tokens to the client's
key when its request carries a proof (always with the server's nonce), and the API then takes
the token only with the DPoP scheme and a fresh proof of that key for that very request."""

from http import HTTPStatus
from urllib.parse import urlencode

import jwt
import pytest
from django.test import Client as HttpClient

from api.exceptions import API_CHALLENGE
from api.models import TokenFamily
from tests.api.conftest import bearer
from tests.api.test_oauth import DEVICE_GRANT, FORM, approve, device_start
from tests.dpop import DpopSigner

TOKEN_URL = "http://testserver/oauth/token"
ME_URL = "http://testserver/api/me/"


def token_request(data: dict, proof: str | None = None):
    headers = {"HTTP_DPOP": proof} if proof is not None else {}
    return HttpClient().post("/oauth/token", urlencode(data), content_type=FORM, **headers)


def with_nonce(key: DpopSigner, data: dict):
    """A token request as a DPoP client makes it: the first answer names the nonce to use."""
    first = token_request(data, key.proof("POST", TOKEN_URL))
    assert first.status_code == HTTPStatus.BAD_REQUEST
    assert first.json()["error"] == "use_dpop_nonce"
    return token_request(data, key.proof("POST", TOKEN_URL, nonce=first["DPoP-Nonce"]))


@pytest.fixture
def key() -> DpopSigner:
    return DpopSigner()


@pytest.fixture
def bound(key, cli_client, user) -> dict:
    """A device sign-in approved by `user`, its tokens bound to `key`."""
    person = HttpClient()
    person.force_login(user)
    started = device_start()
    approve(person, started["user_code"])
    grant = {"grant_type": DEVICE_GRANT, "device_code": started["device_code"]}
    response = with_nonce(key, {**grant, "client_id": cli_client.pk})
    assert response.status_code == HTTPStatus.OK, response.content
    assert response["DPoP-Nonce"]
    return response.json()


def me(token: str, proof: str | None, scheme: str = "DPoP", query: str = ""):
    headers = {"HTTP_AUTHORIZATION": f"{scheme} {token}"}
    if proof is not None:
        headers["HTTP_DPOP"] = proof
    return HttpClient().get(f"/api/me/{query}", **headers)


@pytest.mark.django_db
def test_the_token_endpoint_binds_the_tokens_to_the_proofs_key(bound, key, user):
    assert bound["token_type"] == "DPoP"
    claims = jwt.decode(bound["access_token"], options={"verify_signature": False})
    assert claims["cnf"] == {"jkt": key.jkt}
    assert TokenFamily.objects.get().dpop_jkt == key.jkt
    metadata = HttpClient().get("/.well-known/oauth-authorization-server").json()
    assert "ES256" in metadata["dpop_signing_alg_values_supported"]


@pytest.mark.django_db
def test_the_api_takes_a_bound_token_with_a_fresh_proof_of_its_key(bound, key, user):
    token = bound["access_token"]

    response = me(token, key.proof("GET", ME_URL, access_token=token))

    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["id"] == user.pk
    assert response.json()["authenticated_by"] == "dpop"


@pytest.mark.django_db
@pytest.mark.parametrize("cache", ["local memory", "redis"])
def test_a_replayed_proof_is_refused(bound, key, cache, request):
    if cache == "redis":
        request.getfixturevalue("redis_caches")
    token = bound["access_token"]
    proof = key.proof("GET", ME_URL, access_token=token)
    assert me(token, proof).status_code == HTTPStatus.OK

    replayed = me(token, proof)

    assert replayed.status_code == HTTPStatus.UNAUTHORIZED
    assert replayed.json()["error"]["code"] == "invalid_dpop_proof"
    assert replayed["WWW-Authenticate"].startswith(
        'DPoP algs="ES256 PS256 RS256 Ed25519", error="invalid_dpop_proof", '
        'error_description="The DPoP proof was used before."'
    )
    assert me(token, key.proof("GET", ME_URL, access_token=token)).status_code == HTTPStatus.OK


@pytest.mark.django_db
@pytest.mark.parametrize(
    "case",
    ["no proof", "another URL", "another method", "another key", "another token", "query kept"],
)
def test_a_proof_that_is_not_for_this_request_by_this_key_is_refused(bound, key, case):
    token = bound["access_token"]
    proof = {
        "no proof": None,
        "another URL": key.proof("GET", "http://testserver/api/notes/", access_token=token),
        "another method": key.proof("POST", ME_URL, access_token=token),
        "another key": DpopSigner().proof("GET", ME_URL, access_token=token),
        "another token": key.proof("GET", ME_URL, access_token=token + "x"),
        "query kept": key.proof("GET", ME_URL, access_token=token),
    }[case]
    if case == "query kept":  # the request's query is not part of htu: this one is accepted
        assert me(token, proof, query="?page=1").status_code == HTTPStatus.OK
        return

    response = me(token, proof)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"]["code"] == "invalid_dpop_proof"
    assert 'error="invalid_dpop_proof"' in response["WWW-Authenticate"]
    assert 'Bearer realm="api"' in response["WWW-Authenticate"]


@pytest.mark.django_db
def test_a_bound_token_sent_as_a_bearer_token_is_refused(bound):
    response = HttpClient().get("/api/me/", **bearer(bound["access_token"]))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"]["code"] == "token_dpop_bound"
    assert response["WWW-Authenticate"].startswith('Bearer realm="api", error="invalid_token"')
    assert response["WWW-Authenticate"].endswith(API_CHALLENGE.split(", ", 1)[1])


@pytest.mark.django_db
def test_a_bearer_token_sent_with_the_dpop_scheme_is_refused(user, key):
    from api import services

    token = services.token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD).access

    response = me(token, key.proof("GET", ME_URL, access_token=token))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"]["code"] == "token_not_dpop_bound"
    assert response["WWW-Authenticate"].startswith('DPoP algs="ES256 PS256 RS256 Ed25519", error=')


@pytest.mark.django_db
def test_a_revoked_bound_token_is_refused_with_its_proof(bound, key):
    token = bound["access_token"]
    HttpClient().post("/api/auth/token/revoke/", {"token": token}, content_type="application/json")

    response = me(token, key.proof("GET", ME_URL, access_token=token))

    assert response.json()["error"]["code"] == "token_revoked"


@pytest.mark.django_db
def test_the_api_demands_the_servers_nonce_when_configured(bound, key, settings):
    settings.DPOP_API_NONCE = True
    token = bound["access_token"]

    asked = me(token, key.proof("GET", ME_URL, access_token=token))

    assert asked.status_code == HTTPStatus.UNAUTHORIZED
    assert asked.json()["error"]["code"] == "use_dpop_nonce"
    assert 'error="use_dpop_nonce"' in asked["WWW-Authenticate"]
    nonce = asked["DPoP-Nonce"]
    answered = me(token, key.proof("GET", ME_URL, access_token=token, nonce=nonce))
    assert answered.status_code == HTTPStatus.OK


@pytest.mark.django_db
def test_a_bound_family_refreshes_only_with_a_proof_of_its_key(bound, key, cli_client):
    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": bound["refresh_token"],
        "client_id": cli_client.pk,
    }

    without = token_request(refresh)
    assert without.status_code == HTTPStatus.BAD_REQUEST
    assert without.json()["error"] == "invalid_grant"
    other = with_nonce(DpopSigner(), refresh)
    assert other.json()["error"] == "invalid_grant"
    assert TokenFamily.objects.get().revoked_at is None

    rotated = with_nonce(key, refresh)

    assert rotated.status_code == HTTPStatus.OK, rotated.content
    assert rotated.json()["token_type"] == "DPoP"


@pytest.mark.django_db
def test_a_token_endpoint_proof_is_used_once(key, cli_client, user):
    person = HttpClient()
    person.force_login(user)
    started = device_start()
    approve(person, started["user_code"])
    data = {
        "grant_type": DEVICE_GRANT,
        "device_code": started["device_code"],
        "client_id": cli_client.pk,
    }
    nonce = token_request(data, key.proof("POST", TOKEN_URL))["DPoP-Nonce"]
    proof = key.proof("POST", TOKEN_URL, nonce=nonce, claims={"jti": "the-same-jti"})
    token_request({**data, "device_code": "unknown"}, proof)

    replayed = token_request(data, proof)

    assert replayed.status_code == HTTPStatus.BAD_REQUEST
    assert replayed.json() == {
        "error": "invalid_dpop_proof",
        "error_description": "The DPoP proof was used before.",
    }
    assert not TokenFamily.objects.exists()


def json_token_request(path: str, body: dict, key: DpopSigner):
    """A JSON token request with a DPoP proof, after the nonce the first answer names."""
    url = f"http://testserver{path}"
    client = HttpClient()
    first = client.post(
        path, body, content_type="application/json", HTTP_DPOP=key.proof("POST", url)
    )
    assert first.status_code == HTTPStatus.BAD_REQUEST
    assert first.json()["error"]["code"] == "use_dpop_nonce"
    proof = key.proof("POST", url, nonce=first["DPoP-Nonce"])
    return client.post(path, body, content_type="application/json", HTTP_DPOP=proof)


@pytest.mark.django_db
def test_the_json_endpoints_bind_and_refresh_with_proofs(user, password, key):
    login = {"username": user.username, "password": password}

    obtained = json_token_request("/api/auth/token/", login, key)

    assert obtained.status_code == HTTPStatus.OK, obtained.content
    pair = obtained.json()
    assert pair["token_type"] == "DPoP"
    token = pair["access"]
    assert me(token, key.proof("GET", ME_URL, access_token=token)).status_code == HTTPStatus.OK
    without = HttpClient().post(
        "/api/auth/token/refresh/", {"refresh": pair["refresh"]}, content_type="application/json"
    )
    assert without.status_code == HTTPStatus.UNAUTHORIZED
    assert without.json()["error"]["code"] == "token_dpop_key_mismatch"
    refreshed = json_token_request("/api/auth/token/refresh/", {"refresh": pair["refresh"]}, key)
    assert refreshed.status_code == HTTPStatus.OK
    assert refreshed.json()["token_type"] == "DPoP"


@pytest.mark.django_db
def test_a_bad_proof_at_a_json_token_endpoint_checks_no_password(user, password, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "token_account_address": "3/15min",
        },
    }
    wrong = {"username": user.username, "password": "not the password"}
    proof = DpopSigner().proof("GET", "http://testserver/api/auth/token/")

    answers = [
        HttpClient().post(
            "/api/auth/token/", wrong, content_type="application/json", HTTP_DPOP=proof
        )
        for _ in range(5)
    ]

    assert {answer.status_code for answer in answers} == {HTTPStatus.BAD_REQUEST}
    assert answers[0].json()["error"]["code"] == "invalid_dpop_proof"
    assert "WWW-Authenticate" not in answers[0]
    # No wrong password was counted: the owner is not held back.
    login = {"username": user.username, "password": password}
    assert (
        HttpClient().post("/api/auth/token/", login, content_type="application/json").status_code
        == HTTPStatus.OK
    )
