"""Assembles one emulator: both providers, their shared state and the control endpoints."""

from collections.abc import Iterable
from dataclasses import dataclass

from emulators.clients import Client, ClientRegistry
from emulators.clock import Clock
from emulators.control import Control
from emulators.github import GitHubEmulator
from emulators.google import GoogleEmulator
from emulators.options import Options
from emulators.requestlog import RequestLog
from emulators.signing import SigningKey
from emulators.store import Store
from emulators.web import Route


@dataclass(frozen=True)
class Emulator:
    """Everything one server process serves; routes are tried in order."""

    options: Options
    clients: ClientRegistry
    clock: Clock
    store: Store
    request_log: RequestLog
    routes: tuple[Route, ...]


def build_emulator(options: Options, clients: Iterable[Client]) -> Emulator:
    registry = ClientRegistry(clients)
    clock = Clock()
    store = Store(clock=clock, code_lifetime_seconds=options.code_lifetime_seconds)
    request_log = RequestLog()
    github = GitHubEmulator(options=options, clients=registry, store=store)
    google = GoogleEmulator(
        options=options,
        clients=registry,
        store=store,
        key=SigningKey(),
    )
    control = Control(options=options, clients=registry, clock=clock, request_log=request_log)
    return Emulator(
        options=options,
        clients=registry,
        clock=clock,
        store=store,
        request_log=request_log,
        routes=(*github.routes(), *google.routes(), *control.routes()),
    )
