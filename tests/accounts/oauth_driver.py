"""Drives a third-party sign-in through the Django test client and the emulators over real HTTP.

The test client plays the person's browser on this site; `requests` plays it on the emulator's
consent page (another host, as with a real provider).
"""

import html
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from django.test import Client

FORM_ACTION = re.compile(r'<form method="post" action="([^"]+)"')


@dataclass
class FlowStart:
    authorize_url: str
    state: str


@dataclass
class Consent:
    callback_path: str
    code: str | None
    state: str | None


def flow_start(client: Client, provider: str, **data) -> FlowStart:
    """Click the provider's button on the sign-in page: a POST that redirects to the provider."""
    response = client.post(f"/accounts/{provider}/login/", {"process": "login", **data})
    assert response.status_code == 302, response
    location = response["Location"]
    return FlowStart(authorize_url=location, state=parse_qs(urlsplit(location).query)["state"][0])


def consent(authorize_url: str, choice: dict[str, str]) -> Consent:
    """Answer the emulator's consent page: pick an identity, or deny."""
    page = requests.get(authorize_url, timeout=5)
    assert page.status_code == 200, page.text
    action = urljoin(authorize_url, html.unescape(FORM_ACTION.search(page.text).group(1)))
    answer = requests.post(action, data=choice, allow_redirects=False, timeout=5)
    assert answer.status_code in (302, 303), answer.text
    location = urlsplit(answer.headers["Location"])
    query = parse_qs(location.query)
    return Consent(
        callback_path=f"{location.path}?{location.query}",
        code=query.get("code", [None])[0],
        state=query.get("state", [None])[0],
    )


def sign_in(client: Client, provider: str, identity: str, **data):
    """The whole flow: start, consent as `identity`, follow the callback. Returns its response."""
    start = flow_start(client, provider, **data)
    answer = consent(start.authorize_url, {"identity": identity})
    return client.get(answer.callback_path)
