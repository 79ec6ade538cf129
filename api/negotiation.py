"""Content negotiation: DRF's, without parsing an Accept header that can only mean JSON."""

from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

# Accept headers that select a view's one JSON renderer whatever else DRF would weigh.
ANYTHING_OR_JSON = frozenset({"", "*/*", "application/json"})


class SingleRendererNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, answered at once for a view with one renderer (every JSON endpoint
    here) when the request accepts anything or JSON, or says nothing: the answer DRF would reach
    after parsing the header. Any other Accept header (or a `?format=`) goes through DRF's
    checks, so an unacceptable one still answers 406."""

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: Any = None
    ) -> tuple[BaseRenderer, str]:
        if (
            len(renderers) == 1
            and renderers[0].media_type == "application/json"
            and not format_suffix
            and self.settings.URL_FORMAT_OVERRIDE not in request.GET
            and request.META.get("HTTP_ACCEPT", "") in ANYTHING_OR_JSON
        ):
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)
