"""An OAuth client library nobody here wrote, panva's oauth4webapi (tests/e2e/package.json), run
by Node against the live server from its base URL alone (tests/e2e/oauth_device_client.mjs):

discovery from the RFC 8414 metadata, the device grant approved in the real browser after an
emulated GitHub sign-in, /api/me/, a refresh, a revocation, and the revoked token refused; and
all of it again with DPoP (RFC 9449), the library's own proofs, and the token refused without them.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from api.models import TokenFamily
from tests.e2e.site_pages import Site

HERE = Path(__file__).parent
LIBRARY = HERE / "node_modules" / "oauth4webapi"

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("emulator")]


@pytest.fixture(autouse=True)
def node_and_library() -> None:
    if shutil.which("node") and LIBRARY.exists():
        return
    message = f"needs node and {LIBRARY}: `make install` runs `npm ci` in tests/e2e (needs npm)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.mark.parametrize("mode", ["bearer", "dpop"])
def test_an_independent_client_signs_in_with_the_device_grant(
    page: Page, live_server, emulator, cli_client, settings, mode
):
    # RFC 8414 clients check that the metadata's issuer is the URL they were given.
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "ISSUER": live_server.url}
    settings.OAUTH_DEVICE_POLL_SECONDS = 1
    node = subprocess.Popen(  # noqa: S603 -- node, our own script, the test server's URL
        [shutil.which("node"), "oauth_device_client.mjs", live_server.url, cli_client.pk, mode],
        cwd=HERE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        discovered = json.loads(node.stdout.readline())
        assert discovered["token_endpoint"] == f"{live_server.url}/oauth/token"
        device = json.loads(node.stdout.readline())
        assert re.fullmatch(r"[B-Z]{4}-[B-Z]{4}", device["user_code"])

        # The person follows the link, signs in with GitHub on the way, and approves.
        page.goto(device["verification_uri_complete"])
        site = Site(url=live_server.url, emulator=emulator)
        page.get_by_role("button", name="Sign in with GitHub (local emulator)").click()
        page.get_by_role("button", name=re.compile("Ada Lovelace")).click()
        expect(page.get_by_label("Code shown by the device")).to_have_value(device["user_code"])
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_test_id("device-user-code")).to_have_text(device["user_code"])
        page.get_by_role("button", name="Approve").click()
        expect(page.get_by_test_id("device-decided")).to_contain_text("Approved")

        out, err = node.communicate(timeout=60)
    finally:
        node.kill()
    assert node.returncode == 0, err
    steps = {step["step"]: step for step in map(json.loads, out.splitlines())}
    assert steps["tokens"]["has_refresh"] is True
    assert steps["tokens"]["token_type"] == mode  # the library lower-cases it
    assert steps["me"]["status"] == 200
    assert steps["me"]["body"]["username"] == "ada"
    assert steps["refreshed"]["rotated"] is True
    assert steps["me_after_refresh"]["status"] == 200
    refused = steps["me_after_revoke"]
    assert refused["status"] == 401
    assert refused["challenges"][0]["parameters"]["error_description"] == (
        "The token has been revoked."
    )
    if mode == "dpop":
        # The access token alone, as a thief would send it: refused.
        assert steps["stolen"]["status"] == 401
        assert steps["stolen"]["challenges"][0]["parameters"]["error_description"] == (
            "The token is bound to a DPoP key: send it with the DPoP scheme and a proof."
        )
    family = TokenFamily.objects.get()
    assert (family.origin, family.client_id) == ("device", cli_client.pk)
    assert bool(family.dpop_jkt) == (mode == "dpop")
    assert family.revoked_at is not None
    # The tokens page names the app.
    page.goto(site.url + "/accounts/tokens/")
    expect(page.get_by_test_id("token-origin")).to_contain_text(cli_client.pk)
