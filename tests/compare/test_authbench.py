"""`manage.py authbench`: the measurement as a table. Shape and sanity only, never timings."""

import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from compare.measurements import STYLES

pytestmark = pytest.mark.django_db


COLUMNS = ("median", "p99", "queries", "bytes", "ratio")


def authbench(*args: str) -> dict[str, dict[str, str]]:
    """The table's rows by style, each cell by column name."""
    out = io.StringIO()
    call_command("authbench", *args, stdout=out)
    lines = out.getvalue().splitlines()
    # The table's rows follow the line of dashes under its header.
    table = lines[lines.index(next(line for line in lines if set(line) == {"-"})) + 1 :]
    return {
        cells[0]: dict(zip(COLUMNS, cells[1:], strict=True))
        for cells in (line.split() for line in table)
    }


def test_one_row_per_style_with_queries_bytes_and_ratios():
    rows = authbench("--requests", "5")

    assert list(rows) == list(STYLES)
    none, session, jwt, stateless = (rows[style] for style in STYLES)
    assert none["queries"] == jwt["queries"] == stateless["queries"] == "0.00"
    assert float(session["queries"]) >= 1  # database sessions: the session's row, the user's
    assert none["bytes"] == "0"
    assert int(jwt["bytes"]) > int(session["bytes"]) > 0
    assert none["ratio"] == "1.00"
    baseline = float(none["median"])
    for row in rows.values():
        median = float(row["median"])
        # Every printed figure is rounded: the medians to 1 µs, the ratio to 0.01. Timing the
        # authentication step alone, the baseline is a few tens of µs, so the ratio's bounds
        # follow from the medians' half-microsecond rounding.
        low = max(0.0, median - 0.5) / (baseline + 0.5) - 0.005
        high = (median + 0.5) / max(0.5, baseline - 0.5) + 0.005
        assert low <= float(row["ratio"]) <= high


def test_the_throwaway_user_is_gone_afterwards():
    users = User.objects.count()

    authbench("--requests", "2")

    assert User.objects.count() == users


def test_a_given_user_by_email(user):
    assert list(authbench("--requests", "2", "--user", user.email.upper())) == list(STYLES)


def test_an_unknown_user_or_no_requests_is_refused():
    with pytest.raises(CommandError, match="No user"):
        authbench("--user", "nobody@example.com")
    with pytest.raises(CommandError, match="at least 1"):
        authbench("--requests", "0")
