"""The key folder on disk: one lock for changes, the `keys.json` manifest, files replaced whole."""

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

MANIFEST_NAME = "keys.json"
LOCK_NAME = ".lock"


@contextlib.contextmanager
def folder_lock(directory: Path) -> Iterator[None]:
    """Serialise key changes between processes sharing the folder (an advisory POSIX lock)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    with (directory / LOCK_NAME).open("a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def manifest_read(directory: Path) -> list[dict[str, Any]]:
    try:
        return json.loads((directory / MANIFEST_NAME).read_text())["keys"]
    except FileNotFoundError:
        return []


def file_write_atomically(path: Path, content: bytes) -> None:
    """Write to a temporary file beside `path`, then rename it: readers see old or new, whole."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
