"""Fixtures every test package can use."""

import pytest

from tests.factories import DEFAULT_PASSWORD, UserFactory


@pytest.fixture
def password() -> str:
    return DEFAULT_PASSWORD


@pytest.fixture
def user(db):
    return UserFactory()
