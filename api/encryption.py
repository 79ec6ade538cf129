"""Nested JWTs: an access token signed as usual, then encrypted as a JWE (RFC 7516), own key.

`dir` + `A256GCM`: the API is the only party that reads its access tokens, so one symmetric 256-bit
key, apart from the signing keys and from SECRET_KEY, is enough; the client sees an opaque token
and cannot read its claims. The key comes from JWT_ENCRYPTION_KEY (base64url, 32 bytes) or, in
development and tests, from `encryption.key` made on first use beside the signing keys.
"""

import base64
import functools
import secrets
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from api.keys.folder import file_write_atomically, folder_lock
from api.token_errors import RejectedTokenError, Rejection

HEADER = {"alg": "dir", "enc": "A256GCM", "cty": "JWT"}
ALGORITHMS = ["dir", "A256GCM"]
KEY_FILE_NAME = "encryption.key"


def is_encrypted(token: str) -> bool:
    """A JWE in compact form has five parts, a JWS three (RFC 7516 section 7.1)."""
    return token.count(".") == 4


def encryption_configured() -> bool:
    """Whether there is a key: JWT_ENCRYPTION_KEY, or development's own, made on first use.
    Production without one issues and accepts no encrypted token, and starts all the same unless
    JWT_ENCRYPT_ACCESS_TOKENS asks for them."""
    return bool(
        settings.JWT_ENCRYPTION_KEY
        or (settings.JWT_GENERATE_MISSING_KEYS and settings.JWT_SIGNING_KEYS_DIR)
    )


def encryption_key() -> OctKey:
    """The key; ImproperlyConfigured when there is none (production without JWT_ENCRYPTION_KEY)."""
    if not encryption_configured():
        raise ImproperlyConfigured("Set JWT_ENCRYPTION_KEY to issue or accept encrypted tokens.")
    return _key(settings.JWT_ENCRYPTION_KEY, settings.JWT_SIGNING_KEYS_DIR)


@functools.cache
def _key(configured: str, keys_dir: str) -> OctKey:
    encoded = configured or _development_key(Path(keys_dir))
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except ValueError:
        raise ImproperlyConfigured("JWT_ENCRYPTION_KEY must be base64url.") from None
    if len(raw) != 32:
        raise ImproperlyConfigured("JWT_ENCRYPTION_KEY must encode exactly 32 bytes.")
    return OctKey.import_key(raw)


def _development_key(directory: Path) -> str:
    path = directory / KEY_FILE_NAME
    with folder_lock(directory):
        if not path.exists():
            key = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=")
            file_write_atomically(path, key + b"\n")
    return path.read_text().strip()


def token_encrypt(*, signed: str) -> str:
    """The JWE compact serialization wrapping the signed token `signed`."""
    return jwe.encrypt_compact(HEADER, signed, encryption_key(), algorithms=ALGORITHMS)


def token_decrypt(*, token: str) -> str:
    """The signed token inside `token`; RejectedTokenError if it is not ours or was altered."""
    try:
        key = encryption_key()
    except ImproperlyConfigured:
        # Without a key this deployment issues no encrypted tokens, so none can be ours.
        raise RejectedTokenError(Rejection.DECRYPTION_FAILED) from None
    try:
        message = jwe.decrypt_compact(token, key, algorithms=ALGORITHMS)
    except (JoseError, ValueError, TypeError, KeyError):
        raise RejectedTokenError(Rejection.DECRYPTION_FAILED) from None
    if message.protected.get("cty") != "JWT" or message.plaintext is None:
        raise RejectedTokenError(Rejection.DECRYPTION_FAILED)
    try:
        return message.plaintext.decode("ascii")
    except UnicodeDecodeError:
        raise RejectedTokenError(Rejection.DECRYPTION_FAILED) from None
