"""Logs: one line per event, a traceback included."""

import logging
import sys

from config.logging import OneLineFormatter


def test_a_traceback_stays_on_the_events_line():
    formatter = OneLineFormatter("%(levelname)s %(message)s")
    try:
        raise ValueError("first line\nsecond line")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, None)
        record.exc_info = sys.exc_info()

    line = formatter.format(record)

    assert "\n" not in line
    assert line.startswith("ERROR failed\\nTraceback (most recent call last):")
    assert "ValueError: first line\\nsecond line" in line
