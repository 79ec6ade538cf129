"""`manage.py tokens_prune`: delete token families and revocation marks nothing can use any more.

Run it once a day (cron, a systemd timer, your platform's scheduler); any app server may run it,
and running it twice at once is harmless.
"""

from django.core.management.base import BaseCommand

from api import clock, services


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options) -> None:
        pruned = services.tokens_prune(now=clock.now())
        self.stdout.write(
            f"Deleted {pruned.families} expired token famil{'y' if pruned.families == 1 else 'ies'}"
            f" and {pruned.marks} spent revocation mark{'' if pruned.marks == 1 else 's'}."
        )
