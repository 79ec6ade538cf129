"""accounts.selectors: the readable names of a session's browser and system (ua-parser)."""

import pytest

from accounts.selectors import user_agent_readable


@pytest.mark.parametrize(
    ("header", "browser", "system", "label"),
    [
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) Version/17.1 Safari/605.1.15",
            "Safari 17",
            "Mac OS X 10.15",
            "Safari 17 on Mac OS X 10.15",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
            "Firefox 121",
            "Linux",
            "Firefox 121 on Linux",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/121.0.0.0 Mobile Safari/537.36",
            "Chrome Mobile 121",
            "Android 14",
            "Chrome Mobile 121 on Android 14",
        ),
        ("curl/8.5.0", "curl 8", "", "curl 8"),
        ("Laptop Browser/1.0", "", "", "(unknown)"),
        ("", "", "", "(unknown)"),
    ],
)
def test_a_user_agent_is_named_as_people_name_it(header, browser, system, label):
    readable = user_agent_readable(user_agent=header)

    assert (readable.browser, readable.system, readable.label) == (browser, system, label)
    assert readable.header == header
