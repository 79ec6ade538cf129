"""The browser layer: Playwright drives Debian's Chromium against the site on a live server.

In CI the browser must be there (`.ci/run` installs it) and these tests never skip; on a
developer machine without Chromium they skip with the command that installs it.
"""

import os
import shutil

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls made by fixtures in
# that same thread are still synchronous, so Django's async-safety guard does not apply here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
# Without these, Chromium tries to reach Google's servers at start-up: this machine has no internet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(config, items):
    e2e_items = [item for item in items if "tests/e2e/" in item.nodeid]
    for item in e2e_items:
        item.add_marker(pytest.mark.browser)
    if os.path.exists(CHROMIUM):
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"CI needs Chromium at {CHROMIUM}: apt-get install chromium")
    skip = pytest.mark.skip(reason="no Chromium here: sudo apt-get install chromium")
    for item in e2e_items:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture
def console_errors(page) -> list[str]:
    """Every console error the page logs, Content-Security-Policy violations included."""
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors
