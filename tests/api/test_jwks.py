"""Other services verify our tokens from the published JWKS alone, over real HTTP, with JOSE
libraries of their own (RFC 7517; RFC 8725 sections 3.1, 3.8, 3.9): PyJWT's PyJWKClient and
joserfc, against a live server."""

import json
import urllib.request

import jwt
import pytest
from joserfc import jwt as joserfc_jwt
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from api.models import TokenFamily
from api.services import token_pair_issue
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

ISSUER = "signin-lab"
AUDIENCE = "signin-lab-api"


@pytest.fixture
def access_token() -> str:
    return token_pair_issue(user=UserFactory(), origin=TokenFamily.Origin.PASSWORD).access


def test_pyjwt_verifies_our_token_from_the_jwks_url(live_server, access_token):
    client = jwt.PyJWKClient(f"{live_server.url}/.well-known/jwks.json")

    signing_key = client.get_signing_key_from_jwt(access_token)
    claims = jwt.decode(
        access_token,
        signing_key.key,
        algorithms=["RS256"],
        issuer=ISSUER,
        audience=AUDIENCE,
        options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
    )

    assert claims["token_type"] == "access"
    assert isinstance(claims["sub"], str)


def test_joserfc_verifies_our_token_from_the_jwks_url(live_server, access_token):
    with urllib.request.urlopen(f"{live_server.url}/.well-known/jwks.json") as response:  # noqa: S310 -- the live test server
        key_set = KeySet.import_key_set(json.loads(response.read()))

    token = joserfc_jwt.decode(access_token, key_set, algorithms=["RS256"])
    JWTClaimsRegistry(
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": AUDIENCE},
        exp={"essential": True},
        sub={"essential": True},
    ).validate(token.claims)

    assert token.header["kid"] == key_set.keys[0].kid
    assert token.header["typ"] == "at+jwt"


def test_an_outside_verifier_rejects_a_token_for_another_audience(live_server, access_token):
    client = jwt.PyJWKClient(f"{live_server.url}/.well-known/jwks.json")
    signing_key = client.get_signing_key_from_jwt(access_token)

    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(
            access_token, signing_key.key, algorithms=["RS256"], issuer=ISSUER, audience="other"
        )
