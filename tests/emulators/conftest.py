"""Fixtures for the emulator tests: one emulator subprocess for the session, and its clock."""

from collections.abc import Callable, Iterator

import pytest
import requests

from tests.emulator_process import free_port, running_emulator
from tests.emulators.oauth import CLIENTS, GITHUB, GOOGLE, TIMEOUT, Provider

SLOW_SECONDS = 0.5


@pytest.fixture(scope="session")
def emulator() -> Iterator[str]:
    """The base URL of an emulator serving the test clients, its slow answer taking 0.5 s."""
    with running_emulator(
        host="localhost", port=free_port("localhost"), clients=CLIENTS, slow_seconds=SLOW_SECONDS
    ) as url:
        yield url


@pytest.fixture(params=[GITHUB, GOOGLE], ids=lambda provider: provider.name)
def provider(request: pytest.FixtureRequest) -> Provider:
    return request.param


@pytest.fixture
def set_clock(emulator: str) -> Iterator[Callable[[float], None]]:
    """Shift the emulator's clock by some seconds; it is set back after the test."""

    def shift(seconds: float) -> None:
        response = requests.post(
            f"{emulator}/_emulator/clock", json={"offset_seconds": seconds}, timeout=TIMEOUT
        )
        response.raise_for_status()

    yield shift
    shift(0)
