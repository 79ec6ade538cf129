"""Signing keys: made on first use, named by thumbprint, published, rotated, reloaded, retired."""

import base64
import datetime as dt
import hashlib
import json
import stat
from http import HTTPStatus

import jwt
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from api import clock
from api.keys import (
    FolderSource,
    KeyStore,
    folder_key_rotate,
    jwks_document,
    key_generate,
    key_store,
    retirement_grace,
)
from api.models import TokenFamily
from api.services import token_pair_issue
from tests.api.conftest import bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def keys_dir(settings, tmp_path):
    """A key folder of this test's own, re-read at every request so rotations show at once."""
    settings.JWT_SIGNING_KEYS_DIR = str(tmp_path / "keys")
    settings.JWT_KEYS_RELOAD_SECONDS = 0
    return tmp_path / "keys"


def kid_of(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


def rfc7638_thumbprint(jwk: dict) -> str:
    """RFC 7638 section 3.1, for an RSA key: SHA-256 of the required members, sorted, no spaces."""
    members = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"))
    digest = hashlib.sha256(members.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_development_keys_are_made_on_first_use_in_a_private_folder(keys_dir):
    document = jwks_document()

    assert len(document["keys"]) == 1
    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700
    pem_files = list(keys_dir.glob("*.pem"))
    assert [path.stem for path in pem_files] == [document["keys"][0]["kid"]]
    assert stat.S_IMODE(pem_files[0].stat().st_mode) == 0o600


def test_the_kid_is_the_rfc7638_thumbprint_and_the_jwks_holds_public_parts_only(keys_dir, user):
    """RFC 7517 section 5 and RFC 7638: a public JWK Set, each key named by its thumbprint."""
    pair = token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD)

    (jwk,) = jwks_document()["keys"]

    assert kid_of(pair.access) == jwk["kid"] == rfc7638_thumbprint(jwk)
    assert jwk["alg"] == "RS256"
    assert jwk["use"] == "sig"
    assert set(jwk) == {"kty", "n", "e", "kid", "alg", "use"}


def test_a_folder_without_keys_is_an_error_where_keys_are_never_made(tmp_path):
    source = FolderSource(tmp_path, generate_missing=False)

    with pytest.raises(ImproperlyConfigured, match="jwt_rotate_key"):
        source.load(algorithm="RS256")


def test_after_rotation_new_tokens_use_the_new_key_and_old_ones_keep_working(
    keys_dir, api_client, user
):
    old = token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD)

    call_command("jwt_rotate_key", stdout=None)
    new = token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD)

    assert kid_of(new.access) != kid_of(old.access)
    assert api_client.get("/api/me/", **bearer(old.access)).status_code == HTTPStatus.OK
    assert api_client.get("/api/me/", **bearer(new.access)).status_code == HTTPStatus.OK
    refreshed = api_client.post("/api/auth/token/refresh/", {"refresh": old.refresh})
    assert refreshed.status_code == HTTPStatus.OK
    assert kid_of(refreshed.json()["refresh"]) == kid_of(new.access)
    published = [key["kid"] for key in api_client.get("/.well-known/jwks.json").json()["keys"]]
    assert published == [kid_of(new.access), kid_of(old.access)]


def test_a_retired_key_drops_out_when_its_last_token_has_expired(
    keys_dir, api_client, user, monkeypatch
):
    old = token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD)
    call_command("jwt_rotate_key", stdout=None)
    rotated_at = clock.now()
    new_kid = jwks_document()["keys"][0]["kid"]

    monkeypatch.setattr(
        clock, "now", lambda: rotated_at + retirement_grace() - dt.timedelta(seconds=5)
    )
    still = [key["kid"] for key in jwks_document()["keys"]]
    monkeypatch.setattr(
        clock, "now", lambda: rotated_at + retirement_grace() + dt.timedelta(seconds=5)
    )
    after = [key["kid"] for key in jwks_document()["keys"]]

    assert still == [new_kid, kid_of(old.access)]
    assert after == [new_kid]
    response = api_client.post("/api/auth/token/verify/", {"token": old.access})
    assert response.json()["code"] == "token_key_unknown"


def test_the_retirement_grace_outlasts_every_token_a_retired_key_signed(settings):
    grace = retirement_grace()

    assert grace >= settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
    assert grace >= settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
    assert grace - settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"] >= dt.timedelta(
        seconds=settings.JWT_KEYS_RELOAD_SECONDS
    )


def test_a_key_activated_later_is_published_first_and_signs_later(keys_dir, user, monkeypatch):
    first = token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD)

    call_command("jwt_rotate_key", "--activate-in", "600", stdout=None)
    rotated_at = clock.now()
    published = [key["kid"] for key in jwks_document()["keys"]]
    before = token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD)
    monkeypatch.setattr(clock, "now", lambda: rotated_at + dt.timedelta(seconds=601))
    after = token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD)

    assert len(published) == 2
    assert kid_of(before.access) == kid_of(first.access)
    assert kid_of(after.access) == published[0] != kid_of(first.access)


class FakeMonotonic:
    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


def test_an_unknown_kid_reloads_the_folder_at_most_once_per_interval(keys_dir, settings):
    """Other processes rotate the shared folder; this one catches up on meeting the new kid,
    but junk kids cannot make it re-read the folder more than once per interval."""
    settings.JWT_KEYS_RELOAD_SECONDS = 3600
    settings.JWT_UNKNOWN_KID_RELOAD_SECONDS = 5
    monotonic = FakeMonotonic()
    store = KeyStore(FolderSource(keys_dir, generate_missing=True), monotonic=monotonic)
    store.key_set()
    loads = []
    real_load = store.source.load
    store.source.load = lambda **kwargs: loads.append(1) or real_load(**kwargs)

    second = folder_key_rotate(directory=keys_dir, algorithm="RS256", now=clock.now()).new_key
    found = store.verifying_key(second.kid)
    third = folder_key_rotate(directory=keys_dir, algorithm="RS256", now=clock.now()).new_key
    too_soon = store.verifying_key(third.kid)
    junk = [store.verifying_key(f"junk-{n}") for n in range(50)]
    monotonic.value += 5
    later = store.verifying_key(third.kid)

    assert found is not None
    assert found.kid == second.kid
    assert too_soon is None
    assert junk == [None] * 50
    assert later is not None
    assert loads == [1, 1]


def test_a_process_re_reads_the_folder_on_its_periodic_check(keys_dir, settings):
    settings.JWT_KEYS_RELOAD_SECONDS = 60
    monotonic = FakeMonotonic()
    store = KeyStore(FolderSource(keys_dir, generate_missing=True), monotonic=monotonic)
    first = store.signing_key()
    folder_key_rotate(directory=keys_dir, algorithm="RS256", now=clock.now())

    assert store.signing_key().kid == first.kid
    monotonic.value += 60
    assert store.signing_key().kid != first.kid


def test_keys_can_come_from_the_environment_as_pem(settings, tmp_path, api_client, user):
    current, previous = key_generate(algorithm="RS256"), key_generate(algorithm="RS256")
    settings.JWT_SIGNING_KEY_PEM = current.as_pem(private=True).decode().replace("\n", "\\n")
    settings.JWT_PREVIOUS_PUBLIC_KEYS_PEM = previous.as_pem(private=False).decode()
    settings.JWT_SIGNING_KEYS_DIR = str(tmp_path / "unused")

    pair = token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD)
    published = [key["kid"] for key in api_client.get("/.well-known/jwks.json").json()["keys"]]
    old_token = jwt.encode(
        {"sub": "1"},
        previous.private_key,
        algorithm="RS256",
        headers={"kid": previous.thumbprint()},
    )

    assert kid_of(pair.access) == current.thumbprint()
    assert set(published) == {current.thumbprint(), previous.thumbprint()}
    assert key_store().verifying_key(kid_of(old_token)) is not None
    assert not (tmp_path / "unused").exists()
    assert api_client.get("/api/me/", **bearer(pair.access)).status_code == HTTPStatus.OK


def test_a_key_of_the_wrong_type_is_refused(settings):
    settings.JWT_SIGNING_KEY_PEM = key_generate(algorithm="ES256").as_pem(private=True).decode()

    with pytest.raises(ImproperlyConfigured):
        key_store().signing_key()


def test_the_jwks_is_cacheable_and_public(api_client, settings):
    settings.JWKS_MAX_AGE = 123

    response = api_client.get("/.well-known/jwks.json")

    assert response.status_code == HTTPStatus.OK
    assert response["Cache-Control"] == "public, max-age=123"
    assert all("d" not in key and "p" not in key for key in response.json()["keys"])
