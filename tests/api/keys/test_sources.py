"""Key sources: a folder made on first use or refused when empty, and PEM from the environment."""

import stat
from http import HTTPStatus

import jwt
import pytest
from django.core.exceptions import ImproperlyConfigured

from api.keys.jwks import jwks_document
from api.keys.material import key_generate
from api.keys.sources import FolderSource
from api.keys.store import key_store
from api.models import TokenFamily
from api.services import token_pair_issue
from tests.api.conftest import bearer
from tests.api.keys.conftest import kid_of

pytestmark = pytest.mark.django_db


def test_development_keys_are_made_on_first_use_in_a_private_folder(keys_dir):
    document = jwks_document()

    assert len(document["keys"]) == 1
    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700
    pem_files = list(keys_dir.glob("*.pem"))
    assert [path.stem for path in pem_files] == [document["keys"][0]["kid"]]
    assert stat.S_IMODE(pem_files[0].stat().st_mode) == 0o600


def test_a_folder_without_keys_is_an_error_where_keys_are_never_made(tmp_path):
    source = FolderSource(tmp_path, generate_missing=False)

    with pytest.raises(ImproperlyConfigured, match="jwt_rotate_key"):
        source.load(algorithm="RS256")


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
