"""A DPoP client's key and proofs (RFC 9449), for tests: what an app holding its own key sends."""

import base64
import json
import secrets
import time
from typing import Any

from joserfc import jws
from joserfc.jwk import ECKey, OKPKey, RSAKey

from api.dpop import DPOP_ALGORITHMS, token_hash

SIGNING = jws.JWSRegistry(algorithms=DPOP_ALGORITHMS)
SIGNING.max_header_length = 2048


class DpopSigner:
    """One client key pair; `proof()` signs a proof with it."""

    def __init__(self, alg: str = "ES256") -> None:
        self.alg = alg
        if alg == "ES256":
            self.key = ECKey.generate_key("P-256")
        elif alg == "Ed25519":
            self.key = OKPKey.generate_key("Ed25519")
        else:
            self.key = RSAKey.generate_key(2048)

    @property
    def public_jwk(self) -> dict[str, Any]:
        return self.key.as_dict(private=False)

    @property
    def jkt(self) -> str:
        return self.key.thumbprint()

    def proof(
        self,
        method: str,
        url: str,
        *,
        access_token: str | None = None,
        nonce: str | None = None,
        claims: dict[str, Any] | None = None,
        header: dict[str, Any] | None = None,
    ) -> str:
        body: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method,
            "htu": url,
            "iat": int(time.time()),
        }
        if access_token is not None:
            body["ath"] = token_hash(access_token)
        if nonce is not None:
            body["nonce"] = nonce
        body.update(claims or {})
        protected = {"typ": "dpop+jwt", "alg": self.alg, "jwk": self.public_jwk, **(header or {})}
        signing_input = (
            f"{segment({k: v for k, v in protected.items() if v is not None})}."
            f"{segment({k: v for k, v in body.items() if v is not None})}"
        )
        # Signed with the key's own algorithm whatever the header says, so a test can make any
        # header a client could send.
        signature = SIGNING.get_alg(self.alg).sign(signing_input.encode(), self.key)
        return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def segment(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
