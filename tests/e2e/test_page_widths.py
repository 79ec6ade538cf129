"""Every page a person meets fits a 390 px phone and a 1280 px screen: no sideways scrolling.

Each page is opened as tests/e2e/site_pages.py has it (signed in with a recorded GitHub flow where
the page shows one), at each width, and must be no wider than the viewport.
"""

import pytest
from playwright.sync_api import Page

from tests.e2e.site_pages import PAGES_PEOPLE_MEET, Site, open_page

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("emulator", "cli_client"),
]

WIDTHS = [390, 1280]


def horizontal_overflow(page: Page) -> int:
    """How many pixels the page is wider than the viewport (0: no sideways scrolling)."""
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def widest_elements(page: Page) -> list[str]:
    """What reaches past the viewport's right edge, for the report: elements, deepest first, and
    text that overflows a box narrower than itself (a long unbroken word keeps its box inside)."""
    return page.evaluate(
        """() => {
            const edge = document.documentElement.clientWidth;
            const name = el => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`;
            const elements = [...document.querySelectorAll('body *')]
                .filter(el => el.getBoundingClientRect().right > edge)
                .reverse().slice(0, 5)
                .map(el => `${name(el)} (${Math.round(el.getBoundingClientRect().right)} px)`);
            const texts = [];
            const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node && texts.length < 5; node = walker.nextNode()) {
                const range = document.createRange();
                range.selectNodeContents(node);
                const right = range.getBoundingClientRect().right;
                if (right > edge) {
                    texts.push(`text "${node.textContent.trim().slice(0, 40)}" in `
                               + `${name(node.parentElement)} (${Math.round(right)} px)`);
                }
            }
            return elements.concat(texts);
        }"""
    )


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", PAGES_PEOPLE_MEET)
def test_the_page_fits_the_screen(page, live_server, emulator, console_errors, name, width):
    page.set_viewport_size({"width": width, "height": 900})

    open_page(name, page, Site(url=live_server.url, emulator=emulator))

    assert horizontal_overflow(page) <= 0, widest_elements(page)
    assert console_errors == []
