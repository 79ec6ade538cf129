"""Proof Key for Code Exchange (RFC 7636): the S256 method, the only one the emulators accept."""

import base64
import hashlib
import re
import secrets

S256 = "S256"

# RFC 7636 §4.1: 43 to 128 characters from the unreserved set.
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
# An S256 challenge is a SHA-256 digest in unpadded base64url: always 43 characters.
_S256_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")


def s256_challenge(verifier: str) -> str:
    """The S256 code challenge for `verifier` (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def is_valid_challenge(challenge: str) -> bool:
    return bool(_S256_CHALLENGE.fullmatch(challenge))


def is_valid_verifier(verifier: str) -> bool:
    return bool(_VERIFIER.fullmatch(verifier))


def verifier_matches(verifier: str, challenge: str) -> bool:
    """True when `verifier` is well formed and hashes to `challenge`, compared in constant time."""
    if not is_valid_verifier(verifier):
        return False
    return secrets.compare_digest(s256_challenge(verifier), challenge)
