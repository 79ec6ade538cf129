"""The emulator's clock: wall time plus an offset that tests set to expire codes without waiting."""

import threading
import time
from collections.abc import Callable


class Clock:
    """Seconds since the epoch, shifted by `offset_seconds`; callable like `time.time`."""

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self._now = now
        self._offset = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now() + self._offset

    @property
    def offset_seconds(self) -> float:
        with self._lock:
            return self._offset

    def set_offset(self, seconds: float) -> None:
        """Shift every later reading by `seconds` (0 restores wall time)."""
        with self._lock:
            self._offset = seconds
