"""The one clock the API reads for key schedules, revocation and last-used times; tests move it."""

import datetime as dt


def now() -> dt.datetime:
    """The current time, timezone-aware in UTC."""
    return dt.datetime.now(tz=dt.UTC)
