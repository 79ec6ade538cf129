"""`manage.py authbench [--requests N] [--user LOGIN]`: what each way of proving identity costs.

Runs compare.measurements.auth_styles_measure, the measurement behind the /compare/ page's chart,
and prints it as a table. Without --user it measures a throwaway user, deleted at the end;
everything the measurement itself makes is rolled back.
"""

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from compare.measurements import StyleMeasurement, auth_styles_measure, session_engine_name

COLUMNS = (
    ("style", "{:<14}"),
    ("median µs", "{:>10}"),
    ("p99 µs", "{:>10}"),
    ("queries/req", "{:>12}"),
    ("bytes", "{:>6}"),
    ("ratio", "{:>6}"),
)


def measurement_rows(measurements: list[StyleMeasurement]) -> list[str]:
    """The table: a header line, then one line per style."""
    header = "  ".join(fmt.format(name) for name, fmt in COLUMNS)
    lines = [header, "-" * len(header)]
    for m in measurements:
        values = (
            m.style,
            f"{m.median_us:.0f}",
            f"{m.p99_us:.0f}",
            f"{m.queries_per_request:.2f}",
            str(m.request_bytes),
            f"{m.ratio_to_baseline:.2f}",
        )
        lines.append("  ".join(fmt.format(v) for v, (_, fmt) in zip(values, COLUMNS, strict=True)))
    return lines


class Command(BaseCommand):
    help = (
        "Time one API request's authentication per way of proving identity: none, session, JWT, "
        "stateless JWT."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--requests", type=int, default=200, help="timed requests per style (default 200)"
        )
        parser.add_argument(
            "--user", metavar="LOGIN", help="username or email of the user to measure as"
        )

    def handle(self, *args: Any, requests: int, user: str | None, **options: Any) -> None:
        if requests < 1:
            raise CommandError("--requests must be at least 1.")
        # The throwaway user is committed, as a real user is: a user saved by a transaction still
        # open is never kept in memory (accounts.backends), so it would be read on every request.
        subject = self._user(login=user) if user else _throwaway_user()
        try:
            measurements = auth_styles_measure(user=subject, requests=requests)
        finally:
            if not user:
                subject.delete()
        self.stdout.write(
            f"{requests} requests per style, their authentication step alone, in process; "
            f"sessions: {session_engine_name()}."
        )
        for m in measurements:
            self.stdout.write(f"  {m.style:<14} {m.label}")
        self.stdout.write("")
        for line in measurement_rows(measurements):
            self.stdout.write(line)

    def _user(self, *, login: str) -> Any:
        found = get_user_model().objects.filter(Q(username=login) | Q(email__iexact=login)).first()
        if found is None:
            raise CommandError(f"No user has the username or email {login!r}.")
        return found


def _throwaway_user() -> Any:
    """A user for this run only: the caller deletes it."""
    name = f"authbench-{secrets.token_hex(4)}"
    return get_user_model().objects.create_user(username=name, email=f"{name}@example.invalid")
