"""Logging for the site: one line per event, so log shippers never split a traceback."""

import logging


class OneLineFormatter(logging.Formatter):
    """The usual format, with the newlines of a message or a traceback written as `\\n`."""

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\r", "\\r").replace("\n", "\\n")
