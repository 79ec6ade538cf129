"""Template filters of the account pages."""

import json
from urllib.parse import urlsplit

from django import template

register = template.Library()


@register.filter
def pretty_json(value) -> str:
    """Indented JSON for <pre> blocks; autoescaping still applies to the result."""
    return json.dumps(value, indent=2, sort_keys=False, default=str, ensure_ascii=False)


@register.simple_tag(takes_context=True)
def allow_forms_to_reach(context, providers) -> str:
    """Let this page's provider buttons reach each provider's authorization endpoint.

    The Content-Security-Policy's `form-action 'self'` also governs where a form submission is
    redirected, and each button's POST is redirected to its provider. The origins are gathered on
    the request; config.csp.ContentSecurityPolicyMiddleware adds them to this page's policy.
    """
    request = context["request"]
    origins = getattr(request, "provider_form_action_origins", set())
    for provider in providers:
        app_settings = provider.app.settings if provider.app else {}
        url = app_settings.get("server_url") or provider.get_oauth2_adapter(request).authorize_url
        parts = urlsplit(url)
        origins.add(f"{parts.scheme}://{parts.netloc}")
    request.provider_form_action_origins = origins
    return ""
