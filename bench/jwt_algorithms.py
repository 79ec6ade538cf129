"""Benchmark RS256, ES256 and EdDSA for our tokens: signs and verifies per second, token size.

Run: `.venv/bin/python bench/jwt_algorithms.py [--seconds 2]`. It signs and verifies, through
PyJWT as the API does, an access token with the claims the API issues, and prints one table.
Verification runs on every bearer-authenticated request, so it weighs most in the choice.
"""

import argparse
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

CLAIMS = {
    "iss": "https://signin.example.com",
    "aud": "signin-lab-api",
    "sub": "123456",
    "token_type": "access",
    "fid": uuid.uuid4().hex,
    "jti": uuid.uuid4().hex,
    "iat": 1_800_000_000,
    "exp": 1_800_000_300,
}
HEADERS = {"kid": "x" * 43, "typ": "at+jwt"}


@dataclass(frozen=True)
class Result:
    algorithm: str
    key: str
    signs_per_second: float
    verifies_per_second: float
    verify_microseconds: float
    signature_check_microseconds: float
    token_bytes: int
    signature_bytes: int


def rate(operation: Callable[[], object], *, seconds: float, rounds: int = 5) -> float:
    """Operations per second: the median of `rounds` timed runs of about `seconds` each."""
    batch = 1
    while True:
        start = time.perf_counter()
        for _ in range(batch):
            operation()
        elapsed = time.perf_counter() - start
        if elapsed > seconds / rounds / 10:
            break
        batch *= 2
    per_round = max(1, int(batch * (seconds / rounds) / elapsed))
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(per_round):
            operation()
        rates.append(per_round / (time.perf_counter() - start))
    return statistics.median(rates)


def measure(algorithm: str, label: str, private_key, *, seconds: float) -> Result:
    public_key = private_key.public_key()
    token = jwt.encode(CLAIMS, private_key, algorithm=algorithm, headers=HEADERS)

    def sign() -> str:
        return jwt.encode(CLAIMS, private_key, algorithm=algorithm, headers=HEADERS)

    def verify() -> dict:
        return jwt.decode(
            token,
            public_key,
            algorithms=[algorithm],
            audience=CLAIMS["aud"],
            issuer=CLAIMS["iss"],
            options={"verify_exp": False, "verify_iat": False},
        )

    signing_input, _, signature = token.rpartition(".")
    raw_signature = jwt.utils.base64url_decode(signature)
    algorithm_object = jwt.PyJWS().get_algorithm_by_name(algorithm)

    def check_signature() -> bool:
        return algorithm_object.verify(signing_input.encode(), public_key, raw_signature)

    verifies = rate(verify, seconds=seconds)
    return Result(
        algorithm=algorithm,
        key=label,
        signs_per_second=rate(sign, seconds=seconds),
        verifies_per_second=verifies,
        verify_microseconds=1_000_000 / verifies,
        signature_check_microseconds=1_000_000 / rate(check_signature, seconds=seconds),
        token_bytes=len(token),
        signature_bytes=len(raw_signature),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    seconds = parser.parse_args().seconds
    candidates = [
        ("RS256", "RSA 2048", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        ("RS256", "RSA 3072", rsa.generate_private_key(public_exponent=65537, key_size=3072)),
        ("ES256", "P-256", ec.generate_private_key(ec.SECP256R1())),
        ("EdDSA", "Ed25519", ed25519.Ed25519PrivateKey.generate()),
    ]
    results = [measure(alg, label, key, seconds=seconds) for alg, label, key in candidates]
    header = (
        f"{'algorithm':<9} {'key':<9} {'signs/s':>9} {'verifies/s':>11} "
        f"{'verify µs':>10} {'of which signature µs':>22} {'token B':>8} {'sig B':>6}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.algorithm:<9} {r.key:<9} {r.signs_per_second:>9,.0f} "
            f"{r.verifies_per_second:>11,.0f} {r.verify_microseconds:>10.1f} "
            f"{r.signature_check_microseconds:>22.1f} "
            f"{r.token_bytes:>8} {r.signature_bytes:>6}"
        )


if __name__ == "__main__":
    main()
