"""Fixtures of the API tests: an isolated key folder, a DRF client, tokens for a user."""

from pathlib import Path

import pytest
from rest_framework.test import APIClient

from api import services
from api.models import TokenFamily


@pytest.fixture(scope="session")
def session_keys_dir(tmp_path_factory) -> Path:
    """One key folder for the session: an RSA key takes a while to make."""
    return tmp_path_factory.mktemp("jwt-keys")


@pytest.fixture(autouse=True)
def jwt_keys_dir(settings, session_keys_dir) -> Path:
    settings.JWT_SIGNING_KEYS_DIR = str(session_keys_dir)
    return session_keys_dir


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def pair(user) -> services.TokenPair:
    return services.token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD)


def bearer(token: str) -> dict[str, str]:
    """Request headers that present `token` (Django test client keyword form)."""
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
