"""Fixtures of the API tests: a DRF client, tokens for a user."""

import pytest
from rest_framework.test import APIClient

from api import services
from api.models import TokenFamily


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def pair(user) -> services.TokenPair:
    return services.token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD)


def bearer(token: str) -> dict[str, str]:
    """Request headers that present `token` (Django test client keyword form)."""
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
