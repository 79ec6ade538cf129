"""`manage.py jwt_rotate_key`: add a new signing key to the key folder; the old one retires.

The first run on an empty folder makes the first key (production provisioning). Keys whose last
token has expired are deleted. Every app process picks the change up by itself.
"""

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rest_framework_simplejwt import settings as jwt_settings

from api import clock
from api.keys.folder import folder_lock
from api.keys.material import retirement_grace
from api.keys.rotation import folder_key_rotate


class Command(BaseCommand):
    help = "Make a new JWT signing key; older keys keep verifying until their tokens expire."
    # It makes the very key whose absence the api.E001 check reports.
    requires_system_checks: list = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--activate-in",
            type=int,
            default=0,
            metavar="SECONDS",
            help=(
                "Publish the new key now but sign with it only after this delay, so verifiers "
                f"that cache the JWKS (for JWKS_MAX_AGE, {settings.JWKS_MAX_AGE} s) have it first."
            ),
        )

    def handle(self, *args, activate_in: int, **options) -> None:
        if settings.JWT_SIGNING_KEY_PEM:
            raise CommandError(
                "The signing key comes from JWT_SIGNING_KEY_PEM: rotate by setting a new one and "
                "moving the old public key to JWT_PREVIOUS_PUBLIC_KEYS_PEM."
            )
        if not settings.JWT_SIGNING_KEYS_DIR:
            raise CommandError("Set JWT_SIGNING_KEYS_DIR to the key folder.")
        if activate_in < 0:
            raise CommandError("--activate-in cannot be negative.")
        directory = Path(settings.JWT_SIGNING_KEYS_DIR)
        now = clock.now()
        with folder_lock(directory):
            rotation = folder_key_rotate(
                directory=directory,
                algorithm=jwt_settings.api_settings.ALGORITHM,
                now=now,
                activate_in=dt.timedelta(seconds=activate_in),
            )
        new_key = rotation.new_key
        self.stdout.write(
            f"New signing key {new_key.kid} ({new_key.algorithm}), "
            f"signs from {new_key.activated_at:%Y-%m-%d %H:%M:%S} UTC."
        )
        until = new_key.activated_at + retirement_grace()
        for kid in rotation.retired:
            self.stdout.write(
                f"Retired {kid}: it keeps verifying, and stays published, "
                f"until {until:%Y-%m-%d %H:%M:%S} UTC."
            )
        for kid in rotation.deleted:
            self.stdout.write(f"Deleted {kid}: every token it signed has expired.")
