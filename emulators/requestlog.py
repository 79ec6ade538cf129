"""What the emulators tell about requests they received, with secrets masked."""

import threading
from collections import deque
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from emulators.web import Request, parse_parameters

MASK = "[masked]"
# Values that grant access or tie a browser to a flow; their presence is what matters.
SECRET_PARAMETERS = frozenset(
    {
        "access_token",
        "client_secret",
        "code",
        "code_verifier",
        "id_token",
        "nonce",
        "refresh_token",
        "state",
        "token",
    }
)


def mask_parameters(params: Mapping[str, str]) -> dict[str, str]:
    """`params` with the values of secret parameters replaced by MASK."""
    return {name: MASK if name in SECRET_PARAMETERS else value for name, value in params.items()}


def masked_target(path: str, query_string: str) -> str:
    """The request target for a log line: the path and the query with secrets masked."""
    if not query_string:
        return path
    params, _ = parse_parameters(query_string)
    return f"{path}?{urlencode(mask_parameters(params), safe='[]:/')}"


class RequestLog:
    """The most recent authorization and token requests, oldest first, bounded in number."""

    def __init__(self, capacity: int = 500) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def record(
        self,
        *,
        provider: str,
        endpoint: str,
        request: Request,
        status: int | None,
        client_authentication: str | None,
    ) -> None:
        """Keep one request; `status` is None when it got no answer (connection closed)."""
        entry = {
            "at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "provider": provider,
            "endpoint": endpoint,
            "method": request.method,
            "path": request.path,
            "params": mask_parameters(request.params),
            "client_authentication": client_authentication,
            "accept": request.header("Accept") or None,
            "status": status,
        }
        with self._lock:
            self._entries.append(entry)

    def entries(self, *, provider: str | None = None, endpoint: str | None = None) -> list[dict]:
        with self._lock:
            return [
                entry
                for entry in self._entries
                if provider in (None, entry["provider"]) and endpoint in (None, entry["endpoint"])
            ]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
