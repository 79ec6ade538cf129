"""Nested JWTs (RFC 7516 JWE around a signed JWT, RFC 7519 section 5.2): issued when
JWT_ENCRYPT_ACCESS_TOKENS is on, accepted by the bearer check, opaque to the client."""

import base64
import json
from http import HTTPStatus

import jwt
import pytest
from django.core.exceptions import ImproperlyConfigured

from api import encryption
from api.encryption import token_decrypt, token_encrypt
from api.services import access_token_forms_issue
from api.token_errors import RejectedTokenError
from tests.api.conftest import bearer

pytestmark = pytest.mark.django_db


def jose_header(token: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))


def test_access_tokens_are_issued_encrypted_when_the_setting_is_on(
    api_client, user, password, settings
):
    settings.JWT_ENCRYPT_ACCESS_TOKENS = True

    body = api_client.post(
        "/api/auth/token/", {"username": user.username, "password": password}
    ).json()

    assert body["access"].count(".") == 4
    assert jose_header(body["access"]) == {"alg": "dir", "enc": "A256GCM", "cty": "JWT"}
    assert user.email not in body["access"]
    assert body["refresh"].count(".") == 2
    me = api_client.get("/api/me/", **bearer(body["access"])).json()
    assert me["authenticated_by"] == "bearer"
    assert me["token"]["encrypted"] is True
    refreshed = api_client.post("/api/auth/token/refresh/", {"refresh": body["refresh"]}).json()
    assert refreshed["access"].count(".") == 4


def test_the_plain_signed_form_stays_the_default(api_client, user, password):
    body = api_client.post(
        "/api/auth/token/", {"username": user.username, "password": password}
    ).json()

    assert body["access"].count(".") == 2


def test_both_forms_carry_the_same_claims_and_both_authenticate(api_client, user):
    forms = access_token_forms_issue(user=user)

    inner = token_decrypt(token=forms.encrypted)
    assert inner == forms.signed
    assert jwt.decode(forms.signed, options={"verify_signature": False}) == forms.claims
    for token in (forms.signed, forms.encrypted):
        assert api_client.get("/api/me/", **bearer(token)).status_code == HTTPStatus.OK


def test_an_encrypted_token_is_revoked_like_a_signed_one(api_client, user):
    forms = access_token_forms_issue(user=user)

    api_client.post("/api/auth/token/revoke/", {"token": forms.encrypted})

    for token in (forms.signed, forms.encrypted):
        assert api_client.get("/api/me/", **bearer(token)).status_code == HTTPStatus.UNAUTHORIZED


def test_a_jwe_under_another_key_is_refused(user, settings):
    forms = access_token_forms_issue(user=user)
    settings.JWT_ENCRYPTION_KEY = base64.urlsafe_b64encode(b"k" * 32).decode()

    with pytest.raises(RejectedTokenError) as raised:
        token_decrypt(token=forms.encrypted)

    assert raised.value.rejection == "token_decryption_failed"


def test_a_jwe_must_wrap_a_jwt(settings):
    settings.JWT_ENCRYPTION_KEY = base64.urlsafe_b64encode(b"k" * 32).decode()
    from joserfc import jwe

    not_nested = jwe.encrypt_compact(
        {"alg": "dir", "enc": "A256GCM"}, b"hello", encryption.encryption_key()
    )

    with pytest.raises(RejectedTokenError):
        token_decrypt(token=not_nested)


def test_without_a_key_encrypted_tokens_are_refused_not_crashed(settings, api_client):
    settings.JWT_ENCRYPTION_KEY = ""
    settings.JWT_GENERATE_MISSING_KEYS = False

    response = api_client.get("/api/me/", **bearer("a.b.c.d.e"))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"]["code"] == "token_decryption_failed"
    with pytest.raises(ImproperlyConfigured):
        token_encrypt(signed="x.y.z")


@pytest.mark.parametrize("value", ["not base64 !!", base64.urlsafe_b64encode(b"short").decode()])
def test_a_bad_configured_key_is_a_configuration_error(settings, value):
    settings.JWT_ENCRYPTION_KEY = value

    with pytest.raises(ImproperlyConfigured):
        encryption.encryption_key()


def test_the_encryption_key_is_not_the_secret_key_nor_a_signing_key(settings, jwt_keys_dir):
    key = encryption.encryption_key()

    raw = key.raw_value
    assert len(raw) == 32
    assert raw != settings.SECRET_KEY.encode()[:32]
    assert (jwt_keys_dir / "encryption.key").exists()
