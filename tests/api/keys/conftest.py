"""Fixtures of the signing-key tests: a key folder of the test's own, the kid a token names."""

import jwt
import pytest


@pytest.fixture
def keys_dir(settings, tmp_path):
    """A key folder of this test's own, re-read at every request so rotations show at once."""
    settings.JWT_SIGNING_KEYS_DIR = str(tmp_path / "keys")
    settings.JWT_KEYS_RELOAD_SECONDS = 0
    return tmp_path / "keys"


def kid_of(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]
