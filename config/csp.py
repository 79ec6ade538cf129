"""The Content-Security-Policy of every response, built only where a browser renders it.

django-csp builds the policy from the settings for every response. Only HTML pages need it:
anything else (the API's JSON, JWKS, static files) gets one fixed policy that lets nothing load
and nothing frame it, as OWASP's REST guidance has it, at the cost of setting a header.
"""

from csp.constants import HEADER
from csp.middleware import CSPMiddleware, PolicyParts
from django.http import HttpRequest, HttpResponseBase

# For anything that is not a page: nothing may load from it, nothing may frame it.
NON_HTML_POLICY = "default-src 'none'; frame-ancestors 'none'"


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware for pages; the fixed policy for everything else. A page may let
    its forms post to more origins: a provider's button on a page that posts to it (see
    accounts_tags.allow_forms_to_reach)."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if response.get("Content-Type", "").startswith("text/html"):
            return super().process_response(request, response)
        response.headers.setdefault(HEADER, NON_HTML_POLICY)
        return response

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        origins = getattr(request, "provider_form_action_origins", None)
        if origins and not report_only:
            update = dict(parts.update or {})
            update["form-action"] = [*update.get("form-action", []), *sorted(origins)]
            parts.update = update
        return parts
