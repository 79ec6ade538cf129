"""Sealing a refresh token's successor pair to the token itself.

The refresh reuse window (api.services.token_pair_refresh) answers a spent refresh token with
the pair that replaced it, so that pair must be kept on the family's row for a few seconds. It is
kept sealed: AES-256-GCM under a key derived (HKDF-SHA256) from the spent refresh token's text,
which the database never holds. Only whoever presents that very token can open the seal; a copy
of the database, a backup or an admin reveals no live token.
"""

import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


def _key(*, token: str, context: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=context.encode(),
        info=b"signin-lab refresh successor",
    ).derive(token.encode())


def seal(value: dict[str, Any], *, token: str, context: str) -> bytes:
    """`value` as JSON, sealed under `token` (bound to `context`, e.g. the family id)."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(_key(token=token, context=context)).encrypt(
        nonce, json.dumps(value).encode(), context.encode()
    )
    return nonce + sealed


def unseal(sealed: bytes, *, token: str, context: str) -> dict[str, Any] | None:
    """What `seal` sealed, if `token` and `context` are the ones it was sealed under; else None."""
    sealed = bytes(sealed)
    try:
        opened = AESGCM(_key(token=token, context=context)).decrypt(
            sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context.encode()
        )
    except (InvalidTag, ValueError):
        return None
    return json.loads(opened)
