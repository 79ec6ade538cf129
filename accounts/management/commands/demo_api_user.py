"""`manage.py demo_api_user`: the account the README's curl example asks for tokens with."""

import secrets

from django.core.management.base import BaseCommand

from accounts.services import demo_api_user_ensure


class Command(BaseCommand):
    help = (
        "Create the demo API user (or give it a new password) and print only the password, so "
        "a shell can keep it: PASSWORD=$(python manage.py demo_api_user)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--password", help="the password to set (default: a new random one each run)"
        )

    def handle(self, *args, password: str | None, **options):
        password = password or secrets.token_urlsafe(16)
        user = demo_api_user_ensure(password=password)
        # The password alone on stdout, for $(...); what it is for on stderr, for the person.
        self.stderr.write(
            f"API demo user: {user.email} (username '{user.username}'), a verified email and no "
            "second factor; its password follows on stdout. Tokens made with an earlier password "
            "of it are revoked.",
            style_func=self.style.SUCCESS,
        )
        self.stdout.write(password)
