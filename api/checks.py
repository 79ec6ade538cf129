"""System checks of the API: a deployment that cannot sign tokens says so before it serves."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from api.keys.store import key_store


@checks.register(checks.Tags.security)
def signing_key_check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Without keys made on first use (production), a signing key must already be there."""
    if settings.JWT_GENERATE_MISSING_KEYS:
        return []
    try:
        key_store().signing_key()
    except ImproperlyConfigured as error:
        return [
            checks.Error(
                str(error),
                hint="Make one: `python manage.py jwt_rotate_key` (or set JWT_SIGNING_KEY_PEM).",
                id="api.E001",
            )
        ]
    return []
