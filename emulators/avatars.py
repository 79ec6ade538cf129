"""Profile pictures drawn locally: an initials badge in SVG, so avatars never leave the machine."""

import hashlib
from html import escape

from emulators.web import Response

_PALETTE = ("#0969da", "#1a7f37", "#8250df", "#bf3989", "#bc4c00", "#0550ae", "#116329")


def avatar_response(name: str) -> Response:
    """A square SVG showing the initials of `name` on a colour derived from it."""
    initials = "".join(word[0] for word in name.split()[:2]).upper() or "?"
    colour = _PALETTE[hashlib.sha256(name.encode()).digest()[0] % len(_PALETTE)]
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="120" viewBox="0 0 120 120">'
        f'<rect width="120" height="120" fill="{colour}"/>'
        '<text x="60" y="60" dy=".35em" text-anchor="middle" fill="#fff" '
        f'font-family="system-ui,sans-serif" font-size="48">{escape(initials)}</text></svg>'
    )
    return Response(
        200,
        svg.encode("utf-8"),
        "image/svg+xml",
        {"Cache-Control": "public, max-age=86400", "Content-Security-Policy": "default-src 'none'"},
    )
