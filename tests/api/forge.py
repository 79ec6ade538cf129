"""Crafting tokens by hand, as an attacker or a clock in the past would: for the API tests."""

import base64
import json
import time
import uuid
from typing import Any

import jwt
from django.conf import settings

from api.keys.store import key_store


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_for(user: Any, **overrides: Any) -> dict[str, Any]:
    """The claims of a valid access token for `user`, with `overrides` (None removes a claim)."""
    now = int(time.time())
    claims = {
        "token_type": "access",
        "exp": now + 300,
        "iat": now,
        "jti": uuid.uuid4().hex,
        "sub": str(user.pk),
        "preferred_username": user.username,
        "email": user.email,
        "fid": uuid.uuid4().hex,
        "iss": settings.SIMPLE_JWT["ISSUER"],
        "aud": settings.SIMPLE_JWT["AUDIENCE"],
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def signed_with_our_key(claims: dict[str, Any], **headers: Any) -> str:
    """Signed with the API's own current key: only the claims or headers can be wrong."""
    key = key_store().signing_key()
    header = {"kid": key.kid, "typ": "at+jwt", **headers}
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers=header)


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A token put together by hand, whatever its header says."""
    return ".".join(
        [b64(json.dumps(header).encode()), b64(json.dumps(claims).encode()), b64(signature)]
    )
