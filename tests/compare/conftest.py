"""Fixtures of the comparison tests: an isolated key folder."""

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def session_keys_dir(tmp_path_factory) -> Path:
    """One key folder for the session: an RSA key takes a while to make."""
    return tmp_path_factory.mktemp("jwt-keys")


@pytest.fixture(autouse=True)
def jwt_keys_dir(settings, session_keys_dir) -> Path:
    settings.JWT_SIGNING_KEYS_DIR = str(session_keys_dir)
    return session_keys_dir
