"""DPoP proofs (RFC 9449): a client proves, on each request, that it holds the private key a
token is bound to, so a stolen token is worth nothing without that key.

A proof is a JWT the client signs with its own key and sends in the `DPoP` header. This module
checks one, and nothing else (api.services binds tokens; api.authentication checks the API's):

- its header: `typ` "dpop+jwt", `alg` one of DPOP_ALGORITHMS (asymmetric only: a shared secret
  proves nothing about who holds it), and `jwk`, a public key (a private member is refused) of at
  least 2048 bits for RSA;
- its signature, by that key;
- its claims: `htm` the request's method and `htu` its URL without query or fragment (as the
  site believes its own scheme and host: config.client_address, TRUSTED_PROXIES), `iat` within
  DPOP_PROOF_MAX_AGE_SECONDS before now (and at most DPOP_PROOF_CLOCK_SKEW_SECONDS after), a
  `jti` of at most 256 characters, and where a token goes with it, `ath`, the SHA-256 of that
  token;
- where the server demands one, `nonce`: one it issued (`nonce_issue`) less than
  DPOP_NONCE_SECONDS ago. Nonces are signed, not stored (django.core.signing with its own salt),
  so every process and server accepts every other's.

The proof's key is named by its RFC 7638 thumbprint (`jkt`), which a bound token carries as
`cnf.jkt`. That its `jti` was never seen before is the replay check, made where revocation is
checked (api.revocation), once the proof is otherwise good: a proof must be used once.
"""

import base64
import binascii
import functools
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry
from joserfc.jws import JWSRegistry

DPOP_HEADER = "HTTP_DPOP"
# Fully specified algorithms only (RFC 9864 retires the polymorphic "EdDSA").
DPOP_ALGORITHMS = ("ES256", "PS256", "RS256", "Ed25519")
# Key members that only a private key has (RFC 7517/7518): a proof's jwk must have none.
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
KEY_TYPES = frozenset({"EC", "RSA", "OKP"})
MIN_RSA_BITS = 2048
MAX_PROOF_LENGTH = 8192
MAX_JTI_LENGTH = 256
# Distinct client keys a process keeps imported (_imported): one entry per client in use.
KEYS_REMEMBERED = 4096
NONCE_SALT = "api.dpop.nonce"
DEFAULT_PORTS = {"http": 80, "https": 443}
# joserfc's registry for proofs: their algorithms only, and room for an RSA key in the header.
PROOF_REGISTRY = JWSRegistry(algorithms=DPOP_ALGORITHMS)
PROOF_REGISTRY.max_header_length = 2048


class DpopErrorCode(StrEnum):
    INVALID_PROOF = "invalid_dpop_proof"
    USE_NONCE = "use_dpop_nonce"


class DpopError(Exception):
    """A proof refused: the RFC 9449 error code and a description safe to show (ASCII, no
    quotes or backslashes, so it fits a WWW-Authenticate parameter)."""

    def __init__(self, code: DpopErrorCode, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _invalid(description: str) -> DpopError:
    return DpopError(DpopErrorCode.INVALID_PROOF, description)


@dataclass(frozen=True)
class Proof:
    """A proof that checked out: its key's thumbprint, its jti and when it was made."""

    jkt: str
    jti: str
    iat: int


def proof_of(request: HttpRequest) -> str | None:
    """The request's DPoP header, or None. Two headers (joined by a comma) are refused when
    checked: a JWS compact serialization holds no comma."""
    value = request.META.get(DPOP_HEADER)
    return value if isinstance(value, str) else None


def request_url(request: HttpRequest) -> str:
    """The URL a proof must name: scheme, host and path as the site believes them."""
    return f"{request.scheme}://{request.get_host()}{request.path}"


def token_hash(token: str) -> str:
    """`ath`: the base64url SHA-256 of the token's ASCII text (RFC 9449 section 4.2)."""
    digest = hashlib.sha256(token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def nonce_issue() -> str:
    """A fresh server nonce (RFC 9449 section 8): random, timestamped, signed."""
    return signing.TimestampSigner(salt=NONCE_SALT).sign(secrets.token_urlsafe(12))


def nonce_valid(nonce: Any) -> bool:
    if not isinstance(nonce, str) or len(nonce) > 200:
        return False
    try:
        signing.TimestampSigner(salt=NONCE_SALT).unsign(nonce, max_age=settings.DPOP_NONCE_SECONDS)
    except signing.BadSignature:
        return False
    return True


def _header(proof: str) -> dict[str, Any]:
    encoded = proof.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (ValueError, binascii.Error):
        raise _invalid("The DPoP proof is not a JWT.") from None
    if not isinstance(header, dict):
        raise _invalid("The DPoP proof is not a JWT.")
    return header


def _public_key(header: dict[str, Any]) -> tuple[Any, str]:
    """The proof's public key and its thumbprint."""
    if header.get("typ") != "dpop+jwt":
        raise _invalid("The DPoP proof must have typ dpop+jwt.")
    if header.get("alg") not in DPOP_ALGORITHMS:
        raise _invalid("The DPoP proof must be signed with ES256, PS256, RS256 or Ed25519.")
    jwk = header.get("jwk")
    if not isinstance(jwk, dict) or jwk.get("kty") not in KEY_TYPES:
        raise _invalid("The DPoP proof must carry its public key as jwk.")
    if PRIVATE_MEMBERS & jwk.keys():
        raise _invalid("The DPoP proof's jwk must be a public key.")
    try:
        key, jkt = _imported(json.dumps(jwk, sort_keys=True))
    except (JoseError, ValueError, TypeError, KeyError):
        raise _invalid("The DPoP proof's jwk is not a valid key.") from None
    if jwk["kty"] == "RSA" and key.raw_value.key_size < MIN_RSA_BITS:
        raise _invalid("The DPoP proof's RSA key must have at least 2048 bits.")
    return key, jkt


@functools.lru_cache(maxsize=KEYS_REMEMBERED)
def _imported(jwk: str) -> tuple[Any, str]:
    """A public key from its JWK (as canonical JSON) and its RFC 7638 thumbprint. Remembered by
    the process: one client sends the same key with every request, and importing it (the curve
    point checked) and hashing it cost about a third of checking a proof. A key is a pure
    function of its members, so what is remembered never goes stale; the cache is bounded."""
    key = JWKRegistry.import_key(json.loads(jwk))
    return key, key.thumbprint()


def _same_url(claimed: Any, url: str) -> bool:
    """RFC 9449 section 4.3: the htu names the request URL, compared without query and
    fragment, with scheme and host compared as URLs compare them (case-insensitive)."""
    if not isinstance(claimed, str):
        return False
    try:
        ours, theirs = urlsplit(url), urlsplit(claimed)
        ports = (_port(ours), _port(theirs))
    except ValueError:
        return False
    return (
        theirs.scheme.lower() == ours.scheme.lower()
        and (theirs.hostname or "") == (ours.hostname or "")
        and ports[0] == ports[1]
        and theirs.path == ours.path
    )


def _port(parts: Any) -> int | None:
    """The URL's port, its scheme's default when it names none (RFC 3986 section 6.2.3)."""
    return parts.port or DEFAULT_PORTS.get(parts.scheme.lower())


def proof_verify(
    proof: str | None,
    *,
    method: str,
    url: str,
    access_token: str | None = None,
    nonce_required: bool = False,
    now: float | None = None,
) -> Proof:
    """The proof `proof` for a request with `method` to `url` (and, when given, presenting
    `access_token`), checked as the module docstring says; DpopError otherwise. Its jti is not
    checked against earlier proofs here."""
    if not proof:
        raise _invalid("A DPoP proof is required.")
    if len(proof) > MAX_PROOF_LENGTH or proof.count(".") != 2 or not proof.isascii():
        raise _invalid("The DPoP proof is not a JWT.")
    header = _header(proof)
    key, jkt = _public_key(header)
    try:
        verified = jws.deserialize_compact(
            proof, key, algorithms=[header["alg"]], registry=PROOF_REGISTRY
        )
        claims = json.loads(verified.payload)
    except (JoseError, ValueError, TypeError):
        raise _invalid("The DPoP proof's signature does not verify.") from None
    if not isinstance(claims, dict):
        raise _invalid("The DPoP proof's claims are not a JSON object.")
    jti, iat = claims.get("jti"), claims.get("iat")
    if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_LENGTH:
        raise _invalid("The DPoP proof must have a jti.")
    if claims.get("htm") != method:
        raise _invalid("The DPoP proof names another HTTP method.")
    if not _same_url(claims.get("htu"), url):
        raise _invalid("The DPoP proof names another URL.")
    now = time.time() if now is None else now
    if isinstance(iat, bool) or not isinstance(iat, int):
        raise _invalid("The DPoP proof must have an integer iat.")
    if not now - settings.DPOP_PROOF_MAX_AGE_SECONDS <= iat:
        raise _invalid("The DPoP proof is too old.")
    if iat > now + settings.DPOP_PROOF_CLOCK_SKEW_SECONDS:
        raise _invalid("The DPoP proof is dated in the future.")
    if access_token is not None and not (
        isinstance(claims.get("ath"), str)
        and secrets.compare_digest(claims["ath"], token_hash(access_token))
    ):
        raise _invalid("The DPoP proof does not name this access token (ath).")
    if nonce_required and not nonce_valid(claims.get("nonce")):
        raise DpopError(DpopErrorCode.USE_NONCE, "Use the server's DPoP nonce.")
    return Proof(jkt=jkt, jti=jti, iat=iat)


def proof_id(proof: Proof) -> str:
    """What identifies a proof among those remembered: its key and its jti, digested."""
    return hashlib.sha256(f"{proof.jkt}:{proof.jti}".encode()).hexdigest()


def proof_memory_seconds() -> int:
    """How long a proof's jti is remembered: as long as the proof may be presented."""
    return settings.DPOP_PROOF_MAX_AGE_SECONDS + settings.DPOP_PROOF_CLOCK_SKEW_SECONDS + 1


def token_request_proof(request: HttpRequest) -> Proof | None:
    """The proof a token request carries, or None without one (then the tokens are bearer
    tokens). The token endpoints always demand the server's nonce (RFC 9449 section 8), and a
    proof is used once: its jti is added to the shared cache, where a second add fails."""
    proof = proof_of(request)
    if proof is None:
        return None
    checked = proof_verify(
        proof, method=request.method, url=request_url(request), nonce_required=True
    )
    if not cache.add(f"api:dpop:token:{proof_id(checked)}", 1, timeout=proof_memory_seconds()):
        raise _invalid("The DPoP proof was used before.")
    return checked
