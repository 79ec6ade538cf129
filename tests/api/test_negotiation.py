"""api.negotiation: the shortcut picks exactly what DRF's own negotiation would."""

import pytest
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from api.negotiation import SingleRendererNegotiation


@pytest.mark.parametrize(
    "accept", [None, "*/*", "application/json", "text/html", "application/json; q=0", "x/y"]
)
def test_the_choice_is_drfs_whatever_the_accept_header(accept):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get("/api/me/", **headers))
    renderers = [JSONRenderer()]

    def choice(negotiation):
        try:
            renderer, media_type = negotiation.select_renderer(request, renderers)
        except Exception as error:
            return type(error)
        return type(renderer), media_type

    assert choice(SingleRendererNegotiation()) == choice(DefaultContentNegotiation())
