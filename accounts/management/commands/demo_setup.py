"""`manage.py demo_setup`: create what the local demo needs and print how to use it."""

import json
import os

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.services import demo_admin_ensure, site_domain_set
from config.settings.providers import PROVIDER_NAMES, emulator_clients


class Command(BaseCommand):
    help = "Create the demo admin and site record, then print what to open and how to sign in."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host: str, port: int, **options):
        base_url = f"http://{host}:{port}"
        site_domain_set(domain=f"{host}:{port}", name="signin-lab")
        admin = demo_admin_ensure(password=os.environ.get("DJANGO_SUPERUSER_PASSWORD") or None)

        clients = emulator_clients(settings.SOCIALACCOUNT_PROVIDERS, site_urls=[base_url])
        clients_file = getattr(settings, "EMULATOR_CLIENTS_FILE", None)
        if clients_file is not None:
            if clients:
                clients_file.write_text(json.dumps(clients, indent=2))
                clients_file.chmod(0o600)
            else:
                clients_file.unlink(missing_ok=True)

        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"signin-lab is starting at {base_url}/"))
        self.stdout.write(f"  Open {base_url}/ and choose Sign in.")
        self.stdout.write(
            f"  Django admin: {base_url}/admin/ (sign in, then add an authenticator app: "
            "the admin opens only with a second factor)"
        )
        for provider in dict.fromkeys(client["provider"] for client in clients):
            self.stdout.write(
                f"  {PROVIDER_NAMES[provider]}: no credentials in the environment, so "
                f"the local emulator at {settings.EMULATOR_URL} stands in (pick an identity there)."
            )
        if clients:
            self.stdout.write(
                "  Apps: the reference app signs in as a mobile app would: .venv/bin/python -m "
                'api.reference_app login --client-secret "$(cat var/emulator_client_secret)"'
            )
        if admin.new_password and os.environ.get("DJANGO_SUPERUSER_PASSWORD"):
            self.stdout.write(
                f"  Admin: username '{admin.user.username}' (or {admin.user.email}), "
                "password from DJANGO_SUPERUSER_PASSWORD."
            )
        elif admin.new_password:
            self.stdout.write(
                f"  Admin: username '{admin.user.username}' (or {admin.user.email}), "
                f"password {admin.new_password}"
            )
            self.stdout.write(
                self.style.WARNING(
                    "  This password is shown only this once. "
                    "To choose another: python manage.py changepassword admin"
                )
            )
        else:
            self.stdout.write(
                f"  Admin: username '{admin.user.username}' (or {admin.user.email}), "
                "with the password printed when it was created "
                "(reset it with: .venv/bin/python manage.py changepassword admin)."
            )
        self.stdout.write("")
