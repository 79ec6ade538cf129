"""Revocation marks name their person (the cache keeps a person's marks under one hash tag), and
the refresh reuse window's successor pair moves from the cache to the family's row, sealed."""

import django.db.models.deletion
from django.db import migrations, models


def marks_owners_fill(apps, schema_editor):
    """A family mark's person is its family's; a user mark's is its subject. An access token's
    mark made before this names no person: it is still found by the database check of its own
    token, and lives at most an access token's lifetime."""
    RevocationMark = apps.get_model("api", "RevocationMark")
    TokenFamily = apps.get_model("api", "TokenFamily")
    RevocationMark.objects.filter(kind="user").update(user_id=models.F("subject"))
    owners = {fid.hex: str(uid) for fid, uid in TokenFamily.objects.values_list("id", "user_id")}
    for mark in RevocationMark.objects.filter(kind="fid").iterator():
        if mark.subject in owners:
            RevocationMark.objects.filter(pk=mark.pk).update(user_id=owners[mark.subject])


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0004_refresh_grace"),
    ]

    operations = [
        migrations.AddField(
            model_name="revocationmark",
            name="user_id",
            field=models.CharField(db_index=True, default="", max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(marks_owners_fill, migrations.RunPython.noop),
        migrations.AddField(
            model_name="revocationmark",
            name="evicted",
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name="tokenfamily",
            name="revoked_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("revoked", "Revoked"),
                    ("revoked_all", "Revoked with all the others"),
                    ("reused", "A spent refresh token was used again"),
                    ("password_changed", "The password changed"),
                    ("deactivated", "The account was deactivated"),
                    ("limit", "Evicted: a newer sign-in took its place (too many live tokens)"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="tokenfamily",
            name="evicted_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="api.tokenfamily",
            ),
        ),
        migrations.AddField(
            model_name="tokenfamily",
            name="successor_sealed",
            field=models.BinaryField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="tokenfamily",
            name="current_from_window",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="tokenfamily",
            name="window_answered_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
