"""Forged, malformed and misused tokens: every one is refused with a 401 and RFC 6750's
`WWW-Authenticate: Bearer realm="api", error="invalid_token", error_description="..."`, never a
500. References: RFC 8725 (JWT best current practices), RFC 6750 section 3.1, RFC 7515.
"""

import base64
import hashlib
import hmac
import json
import re
import time
from http import HTTPStatus

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc.jwk import RSAKey

from api.keys.store import key_store
from tests.api.forge import b64, claims_for, signed_with_our_key, unsigned

pytestmark = pytest.mark.django_db

CHALLENGE = re.compile(
    r'Bearer realm="api", error="invalid_token", error_description="[ -!#-\[\]-~]+", '
    r'DPoP algs="ES256 PS256 RS256 Ed25519"'
)


@pytest.fixture(scope="module")
def attacker_key() -> RSAKey:
    return RSAKey.generate_key(2048, private=True)


def our_kid() -> str:
    return key_store().signing_key().kid


def our_public_jwk() -> dict:
    return key_store().signing_key().public_jwk()


def hs256(header: dict, claims: dict, secret: bytes) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def assert_refused(response, code: str | None = None) -> None:
    assert response.status_code == HTTPStatus.UNAUTHORIZED, response.content
    assert CHALLENGE.fullmatch(response["WWW-Authenticate"]), response["WWW-Authenticate"]
    error = response.json()["error"]
    assert error["message"] in response["WWW-Authenticate"]
    if code is not None:
        assert error["code"] == code


def call_with(api_client, token: str):
    return api_client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_in_every_spelling_is_refused(api_client, user, alg):
    """RFC 8725 section 3.1 and 2.1: never accept an unsecured JWT."""
    token = unsigned({"alg": alg, "typ": "at+jwt", "kid": our_kid()}, claims_for(user))

    assert_refused(call_with(api_client, token), "token_algorithm_not_allowed")


@pytest.mark.parametrize("form", ["pem", "jwk"])
def test_hs256_keyed_with_our_public_key_is_refused(api_client, user, form):
    """RFC 8725 section 3.1 (key confusion): a public key used as an HMAC secret."""
    secret = (
        key_store().signing_key().jwk.as_pem(private=False)
        if form == "pem"
        else json.dumps(our_public_jwk()).encode()
    )
    token = hs256({"alg": "HS256", "typ": "at+jwt", "kid": our_kid()}, claims_for(user), secret)

    assert_refused(call_with(api_client, token), "token_algorithm_not_allowed")


@pytest.mark.parametrize("alg", ["RS384", "RS512", "PS256", "ES256", "EdDSA"])
def test_any_other_algorithm_is_refused(api_client, user, alg):
    """RFC 8725 section 3.1: one key, one algorithm."""
    token = unsigned({"alg": alg, "typ": "at+jwt", "kid": our_kid()}, claims_for(user), b"x" * 64)

    assert_refused(call_with(api_client, token), "token_algorithm_not_allowed")


def test_an_embedded_jwk_header_is_never_trusted(api_client, user, attacker_key):
    """RFC 8725 section 3.10: the key must not come from the token."""
    token = jwt.encode(
        claims_for(user),
        attacker_key.private_key,
        algorithm="RS256",
        headers={"typ": "at+jwt", "kid": our_kid(), "jwk": attacker_key.as_dict(private=False)},
    )

    assert_refused(call_with(api_client, token), "token_header_not_allowed")


@pytest.mark.parametrize(
    "header",
    [
        {"jku": "https://attacker.example/jwks.json"},
        {"x5u": "https://attacker.example/cert.pem"},
        {"x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]},
    ],
)
def test_key_urls_and_certificates_in_the_header_are_never_followed(
    api_client, user, attacker_key, header, monkeypatch
):
    """RFC 8725 section 3.10: no `jku`, `x5u` or `x5c`; nothing is fetched, whatever they say."""
    import urllib.request

    import requests

    fetched = []
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: fetched.append(a))
    monkeypatch.setattr(requests.Session, "request", lambda *a, **k: fetched.append(a))
    token = jwt.encode(
        claims_for(user),
        attacker_key.private_key,
        algorithm="RS256",
        headers={"typ": "at+jwt", "kid": attacker_key.thumbprint(), **header},
    )

    assert_refused(call_with(api_client, token), "token_header_not_allowed")
    assert fetched == []


@pytest.mark.parametrize(
    "kid",
    [
        "../../../../../../dev/null",
        "/etc/passwd",
        "' OR '1'='1' --",
        "keys.json",
        "unknown-kid",
        "",
        "x" * 5000,
    ],
)
def test_kid_injection_finds_no_key(api_client, user, attacker_key, kid):
    """RFC 8725 section 3.10: the kid only names one of the keys we publish."""
    token = jwt.encode(
        claims_for(user),
        attacker_key.private_key,
        algorithm="RS256",
        headers={"typ": "at+jwt", "kid": kid},
    )

    assert_refused(call_with(api_client, token), "token_key_unknown")


@pytest.mark.parametrize("kid", [None, 7, ["a"], {"a": 1}])
def test_a_missing_or_non_string_kid_is_refused(api_client, user, kid):
    header = {"alg": "RS256", "typ": "at+jwt"} | ({} if kid is None else {"kid": kid})

    assert_refused(call_with(api_client, unsigned(header, claims_for(user), b"x" * 256)))


def test_a_stripped_signature_is_refused(api_client, user):
    token = signed_with_our_key(claims_for(user))
    stripped = token.rsplit(".", 1)[0] + "."

    assert_refused(call_with(api_client, stripped), "token_signature_invalid")


def test_a_foreign_signature_under_our_kid_is_refused(api_client, user, attacker_key):
    token = jwt.encode(
        claims_for(user),
        attacker_key.private_key,
        algorithm="RS256",
        headers={"typ": "at+jwt", "kid": our_kid()},
    )

    assert_refused(call_with(api_client, token), "token_signature_invalid")


def test_tampered_claims_are_refused(api_client, user, pair):
    header, payload, signature = pair.access.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = str(user.pk + 1)
    tampered = f"{header}.{b64(json.dumps(claims).encode())}.{signature}"

    assert_refused(call_with(api_client, tampered), "token_signature_invalid")


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"iss": "https://attacker.example"}, "token_issuer_invalid"),
        ({"iss": "signin-lab-evil"}, "token_issuer_invalid"),
        ({"iss": "signin-la"}, "token_issuer_invalid"),
        ({"aud": "another-api"}, "token_audience_invalid"),
        ({"aud": ["signin-lab-api", "another-api"]}, "token_audience_invalid"),
        ({"exp": int(time.time()) - 1}, "token_expired"),
        ({"nbf": int(time.time()) + 3600}, "token_not_yet_valid"),
        ({"iat": int(time.time()) + 3600}, "token_not_yet_valid"),
        ({"iss": None}, "token_claims_invalid"),
        ({"aud": None}, "token_claims_invalid"),
        ({"exp": None}, "token_claims_invalid"),
        ({"jti": None}, "token_claims_invalid"),
        ({"fid": None}, "token_claims_invalid"),
        ({"fid": "not-a-family-id"}, "token_claims_invalid"),
        ({"sub": 1}, "token_claims_invalid"),
        ({"preferred_username": None}, "token_claims_invalid"),
        ({"email": 7}, "token_claims_invalid"),
        ({"exp": "tomorrow"}, None),
    ],
)
def test_wrong_missing_or_badly_typed_claims_are_refused(api_client, user, overrides, code):
    """RFC 8725 sections 3.8 (issuer) and 3.9 (audience); RFC 7519 section 4.1 (time claims)."""
    token = signed_with_our_key(claims_for(user, **overrides))

    assert_refused(call_with(api_client, token), code)


def test_a_refresh_token_is_not_an_access_token(api_client, pair):
    """RFC 8725 sections 3.11 and 3.12: explicit types, no substitution."""
    assert_refused(call_with(api_client, pair.refresh), "token_type_invalid")


def test_an_access_token_is_not_a_refresh_token(api_client, pair):
    response = api_client.post("/api/auth/token/refresh/", {"refresh": pair.access})

    assert_refused(response, "token_type_invalid")


def test_a_typ_header_that_disagrees_with_the_token_type_is_refused(api_client, user):
    token = signed_with_our_key(claims_for(user), typ="refresh+jwt")

    assert_refused(call_with(api_client, token), "token_type_invalid")


@pytest.mark.parametrize("cut", [1, 10, 100])
def test_a_truncated_token_is_refused(api_client, pair, cut):
    assert_refused(call_with(api_client, pair.access[:-cut]))


def test_a_100_kb_token_is_refused_before_any_parsing(api_client, pair):
    assert_refused(call_with(api_client, pair.access + "A" * 100_000), "token_too_long")


@pytest.mark.parametrize("token", ["é.é.é", "токен.токен.токен", "🔑.🔑.🔑", "abc\x00def"])
def test_non_ascii_tokens_are_refused(api_client, token):
    assert_refused(call_with(api_client, token), "authorization_header_malformed")


def test_a_tampered_encrypted_token_is_refused(api_client, user, settings):
    from api.services import access_token_forms_issue

    encrypted = access_token_forms_issue(user=user).encrypted
    parts = encrypted.split(".")
    parts[3] = parts[3][:-2] + ("AA" if parts[3][-2:] != "AA" else "BB")

    assert_refused(call_with(api_client, ".".join(parts)), "token_decryption_failed")


def test_a_crit_header_is_refused(api_client, user):
    token = signed_with_our_key(claims_for(user), crit=["exp"])

    assert_refused(call_with(api_client, token))


@pytest.mark.parametrize(
    "header",
    [
        "token-without-scheme",
        "Basic dXNlcjpwYXNzd29yZA==",
        "Bearer",
        "Bearer ",
        "Bearer one two",
        "Bearer\ttab",
        " Bearer leading-space",
        "Bearer trailing-space ",
        "Token abc",
        "",
    ],
)
def test_malformed_authorization_headers_are_refused(api_client, header):
    """RFC 6750 section 2.1: `Bearer` 1*SP b64token, and nothing else."""
    response = api_client.get("/api/me/", HTTP_AUTHORIZATION=header)

    assert_refused(response, "authorization_header_malformed")


def test_two_tokens_in_one_header_are_refused(api_client, pair):
    response = api_client.get(
        "/api/me/", HTTP_AUTHORIZATION=f"Bearer {pair.access}, Bearer {pair.access}"
    )

    assert_refused(response, "authorization_header_malformed")


def test_a_lowercase_bearer_scheme_with_garbage_is_refused(api_client):
    response = api_client.get("/api/me/", HTTP_AUTHORIZATION="bearer garbage")

    assert_refused(response, "token_malformed")


HEADER_VALUES = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="ascii"), max_size=300).map(lambda s: "Bearer " + s),
    st.from_regex(r"\ABearer [A-Za-z0-9_\-]{0,60}\.[A-Za-z0-9_\-]{0,200}\.[A-Za-z0-9_\-]{0,60}\Z"),
    st.binary(max_size=200).map(lambda b: "Bearer " + base64.urlsafe_b64encode(b).decode()),
)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(header=HEADER_VALUES)
def test_no_authorization_header_value_makes_a_500(api_client, header):
    """Whatever the header holds: a 401 with the invalid_token challenge, never a 500."""
    response = api_client.get("/api/me/", HTTP_AUTHORIZATION=header)

    assert_refused(response)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
TOKEN_BODIES = st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries(
        {},
        optional={
            "username": JSON_VALUES,
            "email": JSON_VALUES,
            "password": JSON_VALUES,
            "refresh": JSON_VALUES,
            "token": JSON_VALUES,
            "token_type_hint": JSON_VALUES,
            "name": JSON_VALUES,
        },
    ),
)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=st.sampled_from(
        [
            "/api/auth/token/",
            "/api/auth/token/refresh/",
            "/api/auth/token/verify/",
            "/api/auth/token/revoke/",
        ]
    ),
    body=TOKEN_BODIES,
)
def test_no_json_body_makes_a_500_at_the_token_endpoints(api_client, path, body, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token_address": None, "token_account": None},
    }

    response = api_client.post(path, json.dumps(body), content_type="application/json")

    assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR
    assert response["Content-Type"] == "application/json"
    if response.status_code >= HTTPStatus.BAD_REQUEST:
        assert set(response.json()["error"]) >= {"code", "message"}
