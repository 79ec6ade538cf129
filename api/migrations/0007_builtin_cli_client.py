"""The built-in public client of the reference command-line client (api.clients)."""

from django.db import migrations

CLIENT_ID = "signin-lab-cli"


def client_create(apps, schema_editor):
    Client = apps.get_model("allauth_idp_oidc", "Client")
    Client.objects.update_or_create(
        pk=CLIENT_ID,
        defaults={
            "name": "signin-lab command-line client",
            "type": "public",
            # A public client has no secret: an unusable hash, never matched.
            "secret": "!",
            "grant_types": "urn:ietf:params:oauth:grant-type:device_code\nrefresh_token",
            "response_types": "",
            "scopes": "api",
            "default_scopes": "api",
        },
    )


def client_delete(apps, schema_editor):
    apps.get_model("allauth_idp_oidc", "Client").objects.filter(pk=CLIENT_ID).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0006_token_family_client"),
        ("allauth_idp_oidc", "0003_client_allow_uri_wildcards"),
    ]

    operations = [migrations.RunPython(client_create, client_delete)]
