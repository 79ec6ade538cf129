"""Every page a person meets fits a 390 px phone and a 1280 px screen: no sideways scrolling.

Each page is opened as tests/e2e/site_pages.py has it (signed in with a recorded GitHub flow where
the page shows one), at each width, and must be no wider than the viewport.
"""

import pytest
from playwright.sync_api import Page

from tests.e2e.site_pages import OPENERS, PAGES_PEOPLE_MEET, Site

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("emulator")]

WIDTHS = [390, 1280]


def horizontal_overflow(page: Page) -> int:
    """How many pixels the page is wider than the viewport (0: no sideways scrolling)."""
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def widest_elements(page: Page) -> list[str]:
    """The elements that reach past the viewport's right edge, deepest first, for the report."""
    return page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth)
            .reverse().slice(0, 5)
            .map(el => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`
                       + ` (${Math.round(el.getBoundingClientRect().right)} px)`)"""
    )


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", PAGES_PEOPLE_MEET)
def test_the_page_fits_the_screen(page, live_server, emulator, console_errors, name, width):
    page.set_viewport_size({"width": width, "height": 900})

    OPENERS[name](page, Site(url=live_server.url, emulator=emulator))

    assert horizontal_overflow(page) <= 0, widest_elements(page)
    assert console_errors == []
