"""config.outages: which errors are an outage (503) and which are bugs (500 with a traceback)."""

import logging
import sys

import pytest
from django.db import DataError, IntegrityError, InterfaceError, OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError as RedisResponseError

from config.outages import OutageLogFilter, dependency_down


@pytest.mark.parametrize(
    ("error", "dependency"),
    [
        (OperationalError("connection refused"), "database"),
        (InterfaceError("connection already closed"), "database"),
        (RedisConnectionError("refused"), "cache"),
        (DataError("A string literal cannot contain NUL (0x00) characters."), None),
        (IntegrityError("duplicate key"), None),
        (RedisResponseError("WRONGTYPE"), None),
        (ValueError("a bug"), None),
    ],
)
def test_only_an_unreachable_dependency_is_an_outage(error, dependency):
    assert dependency_down(error) == dependency


def test_a_database_error_that_is_no_outage_keeps_its_traceback_in_the_log():
    try:
        raise DataError("A string literal cannot contain NUL (0x00) characters.")
    except DataError:
        record = logging.LogRecord(
            "django.request", logging.ERROR, __file__, 1, "Internal Server Error", (), None
        )
        record.exc_info = sys.exc_info()

    OutageLogFilter().filter(record)

    assert record.exc_info is not None
    assert record.msg == "Internal Server Error"
