"""Template tags about where this site's mail goes."""

from django import template
from django.conf import settings

register = template.Library()

CONSOLE_EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"


@register.simple_tag
def mail_goes_to_console() -> bool:
    """Whether mail is printed by the server process instead of sent: Django's console backend,
    the development default (`make run` prints each message in its terminal)."""
    return settings.EMAIL_BACKEND == CONSOLE_EMAIL_BACKEND
