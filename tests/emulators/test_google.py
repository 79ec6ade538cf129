"""The Google emulator's happy path: discovery, code, token, signed ID token and userinfo."""

import base64
import hashlib
import time

import jwt
import pytest
import requests
from cryptography import x509

from tests.emulators.oauth import (
    GOOGLE,
    TIMEOUT,
    access_token,
    approve,
    authorize_params,
    callback,
    exchange,
    query_of,
)

EMAIL_SCOPE = "https://www.googleapis.com/auth/userinfo.email"
PROFILE_SCOPE = "https://www.googleapis.com/auth/userinfo.profile"


def token_response(base: str, identity: str = "alan", **changes: str) -> dict:
    response = exchange(base, approve(base, GOOGLE, identity, **changes))
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


def decode(base: str, id_token: str, key: object) -> dict:
    return jwt.decode(
        id_token,
        key=key,
        algorithms=["RS256"],
        audience=GOOGLE.client["client_id"],
        issuer=f"{base}/google",
    )


def test_discovery_document_describes_the_emulator(emulator):
    issuer = f"{emulator}/google"

    config = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=TIMEOUT).json()

    assert config["issuer"] == issuer
    assert config["authorization_endpoint"] == f"{issuer}/o/oauth2/v2/auth"
    assert config["token_endpoint"] == f"{issuer}/token"
    assert config["userinfo_endpoint"] == f"{issuer}/oauth2/v3/userinfo"
    assert config["jwks_uri"] == f"{issuer}/oauth2/v3/certs"
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert config["response_types_supported"] == ["code"]
    assert config["id_token_signing_alg_values_supported"] == ["RS256"]
    assert "client_secret_post" in config["token_endpoint_auth_methods_supported"]
    assert {"openid", "email", "profile"} <= set(config["scopes_supported"])
    assert requests.get(config["jwks_uri"], timeout=TIMEOUT).json()["keys"]


def test_token_response_has_google_shape(emulator):
    token = token_response(emulator)

    assert token["access_token"].startswith("ya29.")
    assert token["expires_in"] == 3599
    assert token["token_type"] == "Bearer"
    assert set(token["scope"].split()) == {"openid", EMAIL_SCOPE, PROFILE_SCOPE}


def test_approval_redirect_carries_the_granted_scopes(emulator):
    flow = approve(emulator, GOOGLE)

    assert flow.location.startswith(callback(GOOGLE) + "?")
    assert flow.code.startswith("4/0A")
    assert set(query_of(flow.location)["scope"].split()) == {"openid", EMAIL_SCOPE, PROFILE_SCOPE}


def test_id_token_verifies_against_the_jwks(emulator):
    token = token_response(emulator, nonce="n-0S6_WzA2Mj")
    jwks = requests.get(f"{emulator}/google/oauth2/v3/certs", timeout=TIMEOUT).json()
    header = jwt.get_unverified_header(token["id_token"])
    (jwk,) = [key for key in jwks["keys"] if key["kid"] == header["kid"]]

    claims = decode(emulator, token["id_token"], jwt.PyJWK(jwk).key)

    assert header["alg"] == "RS256"
    assert claims["sub"] == "110000000000000001001"
    assert claims["aud"] == claims["azp"] == GOOGLE.client["client_id"]
    assert claims["email"] == "alan@example.com"
    assert claims["email_verified"] is True
    assert claims["name"] == "Alan Turing"
    assert claims["given_name"] == "Alan"
    assert claims["family_name"] == "Turing"
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims["exp"] - claims["iat"] == 3600
    assert abs(claims["iat"] - time.time()) < 60
    digest = hashlib.sha256(token["access_token"].encode()).digest()[:16]
    assert claims["at_hash"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert requests.get(claims["picture"], timeout=TIMEOUT).status_code == 200


def test_id_token_verifies_against_the_pem_certificate(emulator):
    token = token_response(emulator)
    certificates = requests.get(f"{emulator}/google/oauth2/v1/certs", timeout=TIMEOUT).json()
    kid = jwt.get_unverified_header(token["id_token"])["kid"]
    # What allauth's jwtkit.lookup_kid_pem_x509_certificate does with this document.
    public_key = x509.load_pem_x509_certificate(certificates[kid].encode()).public_key()

    assert decode(emulator, token["id_token"], public_key)["sub"] == "110000000000000001001"


def test_id_token_for_another_audience_or_issuer_does_not_verify(emulator):
    token = token_response(emulator)
    certificates = requests.get(f"{emulator}/google/oauth2/v1/certs", timeout=TIMEOUT).json()
    (pem,) = certificates.values()
    key = x509.load_pem_x509_certificate(pem.encode()).public_key()

    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token["id_token"], key, algorithms=["RS256"], audience="someone-else")
    with pytest.raises(jwt.InvalidIssuerError):
        jwt.decode(
            token["id_token"],
            key,
            algorithms=["RS256"],
            audience=GOOGLE.client["client_id"],
            issuer="https://accounts.google.com",
        )


def test_barbaras_email_is_unverified(emulator):
    token = token_response(emulator, "barbara")

    claims = jwt.decode(token["id_token"], options={"verify_signature": False})

    assert claims["email"] == "barbara@example.com"
    assert claims["email_verified"] is False


def test_without_the_openid_scope_there_is_no_id_token(emulator):
    token = token_response(emulator, scope="email profile")

    assert "id_token" not in token
    assert set(token["scope"].split()) == {EMAIL_SCOPE, PROFILE_SCOPE}


def test_the_client_may_authenticate_with_http_basic(emulator):
    response = exchange(emulator, approve(emulator, GOOGLE), basic=True)

    assert response.status_code == 200
    assert "id_token" in response.json()


def test_userinfo_v2_uses_googles_field_names(emulator):
    token = access_token(emulator, GOOGLE, "alan")

    response = requests.get(
        f"{emulator}/google/oauth2/v2/userinfo",
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT,
    )

    assert response.status_code == 200
    assert response.json() == {
        "id": "110000000000000001001",
        "email": "alan@example.com",
        "verified_email": True,
        "name": "Alan Turing",
        "given_name": "Alan",
        "family_name": "Turing",
        "picture": f"{emulator}/google/avatars/110000000000000001001",
    }


def test_oidc_userinfo_uses_standard_claims_for_the_granted_scopes(emulator):
    token = access_token(emulator, GOOGLE, "barbara", scope="openid email")

    response = requests.get(
        f"{emulator}/google/oauth2/v3/userinfo",
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT,
    )

    assert response.json() == {
        "sub": "110000000000000001002",
        "email": "barbara@example.com",
        "email_verified": False,
    }


def test_consent_page_offers_the_identities(emulator):
    html = requests.get(
        emulator + GOOGLE.authorize_path, params=authorize_params(GOOGLE), timeout=TIMEOUT
    ).text

    assert "<title>Google (local emulator) &mdash; Authorize Test Google App</title>" in html
    assert html.index('value="alan"') < html.index("Simulate a failure")
    assert html.index('value="barbara"') < html.index('value="token-500"')
