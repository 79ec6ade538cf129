"""How list endpoints page: `?page=N`, 20 items a page, up to 100 with `?page_size=` (more asks
for 100).

Both take a whole number from 1, as the schema states them; anything else is refused with a 400
in the error shape, where DRF would pass over a bad page_size and read `?page=last`. A page past
the last one is a 404.
"""

import re
from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

WHOLE_NUMBER = re.compile(r"[0-9]+")
# More digits than any page number can have: such a number is simply past the last page (and
# int() of thousands of digits raises).
MAX_DIGITS = 18


class ApiPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    last_page_strings = ()

    def get_page_size(self, request: Request) -> int:
        size = query_number(request, self.page_size_query_param)
        return self.page_size if size is None else min(size, self.max_page_size)

    def get_page_number(self, request: Request, paginator: Any) -> int:
        number = query_number(request, self.page_query_param)
        return 1 if number is None else number


def query_number(request: Request, name: str) -> int | None:
    """The whole number from 1 in the query parameter `name`, if it was sent."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    number = 0
    if WHOLE_NUMBER.fullmatch(raw):
        digits = raw.lstrip("0") or "0"
        number = int(digits) if len(digits) <= MAX_DIGITS else 10**MAX_DIGITS
    if number < 1:
        raise ValidationError({name: ["A whole number from 1."]}, code="invalid")
    return number
