"""The published JWK Set: public parts only, each key named by its RFC 7638 thumbprint."""

import base64
import hashlib
import json
from http import HTTPStatus

import pytest

from api.keys.jwks import jwks_document
from api.models import TokenFamily
from api.services import token_pair_issue
from tests.api.keys.conftest import kid_of

pytestmark = pytest.mark.django_db


def rfc7638_thumbprint(jwk: dict) -> str:
    """RFC 7638 section 3.1, for an RSA key: SHA-256 of the required members, sorted, no spaces."""
    members = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"))
    digest = hashlib.sha256(members.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_the_kid_is_the_rfc7638_thumbprint_and_the_jwks_holds_public_parts_only(keys_dir, user):
    """RFC 7517 section 5 and RFC 7638: a public JWK Set, each key named by its thumbprint."""
    pair = token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD)

    (jwk,) = jwks_document()["keys"]

    assert kid_of(pair.access) == jwk["kid"] == rfc7638_thumbprint(jwk)
    assert jwk["alg"] == "RS256"
    assert jwk["use"] == "sig"
    assert set(jwk) == {"kty", "n", "e", "kid", "alg", "use"}


def test_the_jwks_is_cacheable_and_public(api_client, settings):
    settings.JWKS_MAX_AGE = 123

    response = api_client.get("/.well-known/jwks.json")

    assert response.status_code == HTTPStatus.OK
    assert response["Cache-Control"] == "public, max-age=123"
    assert all("d" not in key and "p" not in key for key in response.json()["keys"])
