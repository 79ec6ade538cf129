"""The applications registered with the emulators, and how a token request proves to be one."""

import base64
import binascii
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import unquote_plus, urlsplit

from emulators.web import Request

PROVIDERS = ("github", "google")


class ClientsFileError(ValueError):
    """The clients file is missing, not JSON, or describes an application incompletely."""


# Loopback IP literals a native app listens on (RFC 8252 section 7.3); "localhost" is not one.
LOOPBACK_HOSTS = ("127.0.0.1", "[::1]")


@dataclass(frozen=True)
class Client:
    """One registered application; redirect URIs are matched exactly, as RFC 9700 advises, with
    the one exception RFC 8252 section 7.3 makes (and GitHub and Google honour): a registered
    loopback IP redirect URI without a port matches it on any port, which a native app picks when
    it starts listening."""

    provider: str
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    name: str

    def allows_redirect(self, uri: str) -> bool:
        if uri in self.redirect_uris:
            return True
        parts = urlsplit(uri)
        if parts.scheme != "http" or parts.port is None:
            return False
        host = parts.netloc.rpartition(":")[0]
        portless = parts._replace(netloc=host).geturl()
        return host in LOOPBACK_HOSTS and portless in self.redirect_uris


class ClientAuthError(StrEnum):
    MISSING = "missing"
    UNKNOWN_CLIENT = "unknown_client"
    BAD_CREDENTIALS = "bad_credentials"
    CONFLICTING = "conflicting"


def authentication_method(request: Request) -> str:
    """How a token request presents client credentials, named as in OpenID Connect discovery."""
    authorization = request.authorization()
    if authorization is not None and authorization[0] == "basic":
        return "client_secret_basic"
    if "client_secret" in request.form:
        return "client_secret_post"
    return "none"


class ClientRegistry:
    """Clients by provider and client id."""

    def __init__(self, clients: Iterable[Client]) -> None:
        self._clients = {(client.provider, client.client_id): client for client in clients}

    def __len__(self) -> int:
        return len(self._clients)

    def find(self, provider: str, client_id: str) -> Client | None:
        return self._clients.get((provider, client_id))

    def authenticate(self, provider: str, request: Request) -> Client | ClientAuthError:
        """The client named by HTTP Basic credentials or by client_id/client_secret in the form."""
        form_id = request.form.get("client_id")
        candidates = _basic_credentials(request)
        if candidates:
            if form_id is not None and all(form_id != client_id for client_id, _ in candidates):
                return ClientAuthError.CONFLICTING
        elif form_id is not None:
            candidates = [(form_id, request.form.get("client_secret", ""))]
        else:
            return ClientAuthError.MISSING
        results = [self._check(provider, client_id, secret) for client_id, secret in candidates]
        return next((r for r in results if isinstance(r, Client)), results[0])

    def _check(self, provider: str, client_id: str, secret: str) -> Client | ClientAuthError:
        client = self.find(provider, client_id)
        if client is None:
            return ClientAuthError.UNKNOWN_CLIENT
        if not secrets.compare_digest(client.client_secret.encode(), secret.encode()):
            return ClientAuthError.BAD_CREDENTIALS
        return client


def _basic_credentials(request: Request) -> list[tuple[str, str]]:
    """Candidate (client id, secret) pairs from HTTP Basic credentials, or none.

    RFC 6749 §2.3.1 form-encodes both before joining them, but common clients (requests'
    HTTPBasicAuth among them) send them as they are, so both readings are tried.
    """
    authorization = request.authorization()
    if authorization is None or authorization[0] != "basic":
        return []
    try:
        decoded = base64.b64decode(authorization[1], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return []
    client_id, separator, secret = decoded.partition(":")
    if not separator:
        return []
    raw = (client_id, secret)
    form_decoded = (unquote_plus(client_id), unquote_plus(secret))
    return [raw] if raw == form_decoded else [raw, form_decoded]


def parse_clients(data: object) -> list[Client]:
    """Clients from the decoded JSON list; raises ClientsFileError naming what is wrong."""
    if not isinstance(data, list):
        raise ClientsFileError("expected a JSON list of applications")
    clients = []
    for position, entry in enumerate(data):
        where = f"application {position}"
        if not isinstance(entry, dict):
            raise ClientsFileError(f"{where}: expected an object")
        provider = entry.get("provider")
        if provider not in PROVIDERS:
            raise ClientsFileError(f"{where}: provider must be one of {', '.join(PROVIDERS)}")
        for key in ("client_id", "client_secret"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise ClientsFileError(f"{where}: {key} must be a non-empty string")
        redirect_uris = entry.get("redirect_uris")
        if not isinstance(redirect_uris, list) or not redirect_uris:
            raise ClientsFileError(f"{where}: redirect_uris must be a non-empty list")
        for uri in redirect_uris:
            if not _is_valid_redirect_uri(uri):
                raise ClientsFileError(
                    f"{where}: redirect URI {uri!r} must be an absolute http(s) URL, no fragment"
                )
        name = entry.get("name") or entry["client_id"]
        clients.append(
            Client(provider, entry["client_id"], entry["client_secret"], tuple(redirect_uris), name)
        )
    return clients


def load_clients(path: Path) -> list[Client]:
    """Clients from a JSON file; raises ClientsFileError when it cannot be used."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ClientsFileError(f"cannot read {path}: {error.strerror}") from error
    except json.JSONDecodeError as error:
        raise ClientsFileError(f"{path} is not JSON: {error}") from error
    return parse_clients(data)


def _is_valid_redirect_uri(uri: object) -> bool:
    # RFC 6749 §3.1.2: absolute, no fragment.
    if not isinstance(uri, str):
        return False
    parts = urlsplit(uri)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.fragment
