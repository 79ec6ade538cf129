"""The RSA key that signs the Google emulator's ID tokens, published as a JWKS and as X.509 PEM."""

import base64
import datetime
import hashlib
import secrets
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

ALGORITHM = "RS256"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_uint(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def at_hash(access_token: str) -> str:
    """OpenID Connect Core §3.1.3.6: left half of the SHA-256 of the token, base64url."""
    return _b64url(hashlib.sha256(access_token.encode("ascii")).digest()[:16])


class SigningKey:
    """An RSA 2048 key made in memory at start-up; what it signed is void once the process ends."""

    def __init__(self) -> None:
        self._private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_key = self._private_key.public_key()
        der = public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        # Google's key ids are 40 hex digits; a digest of the key makes one that names it.
        self.kid = hashlib.sha256(der).hexdigest()[:40]
        numbers = public_key.public_numbers()
        self._jwk = {
            "kty": "RSA",
            "alg": ALGORITHM,
            "use": "sig",
            "kid": self.kid,
            "n": _b64url_uint(numbers.n),
            "e": _b64url_uint(numbers.e),
        }
        self._certificate_pem = self._self_signed_certificate()

    def _self_signed_certificate(self) -> str:
        # Like Google's own certificates: self-signed, named after the key id.
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.kid)])
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._private_key.public_key())
            .serial_number(int.from_bytes(secrets.token_bytes(16), "big") >> 1)
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=14))
            .sign(self._private_key, hashes.SHA256())
        )
        return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public key as a JWK Set (RFC 7517), as served at Google's oauth2/v3/certs."""
        return {"keys": [dict(self._jwk)]}

    def pem_certificates(self) -> dict[str, str]:
        """Key id to PEM certificate, as served at Google's oauth2/v1/certs."""
        return {self.kid: self._certificate_pem}

    def sign(self, claims: dict[str, Any]) -> str:
        """A compact RS256 JWT of `claims`, its header naming this key."""
        return jwt.encode(claims, self._private_key, algorithm=ALGORITHM, headers={"kid": self.kid})
