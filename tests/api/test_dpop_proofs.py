"""DPoP proofs checked (api.dpop, RFC 9449 section 4.3): each rule, and never anything but a
DpopError for what a client may send."""

import time

import pytest
from django.core import signing
from hypothesis import given, settings
from hypothesis import strategies as st

from api.dpop import (
    NONCE_SALT,
    DpopError,
    DpopErrorCode,
    nonce_issue,
    proof_verify,
    token_hash,
)
from tests.dpop import DpopSigner, segment

URL = "https://signin.example.com/api/me/"
TOKEN = "header.claims.signature"


@pytest.fixture(scope="module")
def signer() -> DpopSigner:
    return DpopSigner()


def refused(proof: str, *, code=DpopErrorCode.INVALID_PROOF, **checks) -> str:
    checks = {"method": "GET", "url": URL, **checks}
    with pytest.raises(DpopError) as error:
        proof_verify(proof, **checks)
    assert error.value.code == code
    return error.value.description


@pytest.mark.parametrize("alg", ["ES256", "Ed25519", "PS256", "RS256"])
def test_a_proof_names_its_keys_thumbprint(alg):
    signer = DpopSigner(alg)

    proof = proof_verify(
        signer.proof("POST", URL + "?page=2", access_token=TOKEN),
        method="POST",
        url=URL,
        access_token=TOKEN,
    )

    assert proof.jkt == signer.jkt
    assert abs(proof.iat - time.time()) < 5


@pytest.mark.parametrize(
    "htu",
    ["HTTPS://Signin.Example.com/api/me/", "https://signin.example.com:443/api/me/"],
)
def test_scheme_host_and_port_compare_as_urls_do(signer, htu):
    """Case-insensitive scheme and host; a scheme's default port named or not."""
    proof = signer.proof("GET", htu)

    assert proof_verify(proof, method="GET", url=URL).jkt == signer.jkt


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"htm": "POST"}, "method"),
        ({"htu": "https://signin.example.com/api/notes/"}, "URL"),
        ({"htu": "https://evil.example/api/me/"}, "URL"),
        ({"htu": "http://signin.example.com/api/me/"}, "URL"),
        ({"htu": "https://signin.example.com:8443/api/me/"}, "URL"),
        ({"htu": 7}, "URL"),
        ({"iat": -61}, "too old"),
        ({"iat": 60}, "future"),
        ({"iat": str(int(time.time()))}, "integer iat"),
        ({"iat": True}, "integer iat"),
        ({"iat": None}, "integer iat"),
        ({"jti": None}, "jti"),
        ({"jti": ""}, "jti"),
        ({"jti": "x" * 257}, "jti"),
        ({"ath": token_hash("another.token.entirely")}, "ath"),
        ({"ath": None}, "ath"),
    ],
)
def test_a_proof_for_another_request_or_time_is_refused(signer, claims, reason):
    if reason in ("too old", "future"):  # seconds from now
        claims = {"iat": int(time.time()) + claims["iat"]}
    proof = signer.proof("GET", URL, access_token=TOKEN, claims=claims)

    assert reason in refused(proof, access_token=TOKEN)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ({"typ": "JWT"}, "typ"),
        ({"alg": "HS256"}, "signed with"),
        ({"alg": "none"}, "signed with"),
        ({"alg": "EdDSA"}, "signed with"),
        ({"jwk": None}, "jwk"),
        ({"jwk": {"kty": "oct", "k": "c2VjcmV0"}}, "jwk"),
        ({"jwk": {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}}, "valid key"),
    ],
)
def test_a_proof_without_an_allowed_public_key_is_refused(signer, header, reason):
    assert reason in refused(signer.proof("GET", URL, header=header))


def test_a_private_key_in_the_header_is_refused(signer):
    private = signer.key.as_dict(private=True)

    assert "public key" in refused(signer.proof("GET", URL, header={"jwk": private}))


@pytest.mark.filterwarnings("ignore:Key size should be:UserWarning")
def test_a_short_rsa_key_is_refused():
    from joserfc.jwk import RSAKey

    weak = RSAKey.generate_key(1024, private=False, auto_kid=False)
    proof = DpopSigner("RS256").proof("GET", URL, header={"jwk": weak.as_dict(private=False)})

    assert "2048" in refused(proof)


def test_a_proof_signed_by_another_key_than_its_jwk_is_refused(signer):
    other = DpopSigner()

    proof = other.proof("GET", URL, header={"jwk": signer.public_jwk})

    assert "signature" in refused(proof)


def test_the_server_nonce_when_demanded():
    signer = DpopSigner()
    nonce = nonce_issue()

    assert proof_verify(
        signer.proof("GET", URL, nonce=nonce), method="GET", url=URL, nonce_required=True
    )
    refused(signer.proof("GET", URL), code=DpopErrorCode.USE_NONCE, nonce_required=True)
    forged = nonce[:-2] + ("AA" if not nonce.endswith("AA") else "BB")
    refused(
        signer.proof("GET", URL, nonce=forged), code=DpopErrorCode.USE_NONCE, nonce_required=True
    )
    stale = signing.TimestampSigner(salt=NONCE_SALT).sign("old")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(time, "time", lambda: 10**11)
        refused(
            signer.proof("GET", URL, nonce=stale),
            code=DpopErrorCode.USE_NONCE,
            nonce_required=True,
            now=10**11,
        )


@pytest.mark.parametrize(
    "proof",
    [None, "", "a.b", "a.b.c.d", "é.b.c", "x" * 9000, f"{segment({'typ': 'dpop+jwt'})}.e30.AA"],
)
def test_what_is_not_a_proof_is_refused(proof):
    refused(proof)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_a_proof_or_a_dpop_error(text):
    with pytest.raises(DpopError):
        proof_verify(text, method="GET", url=URL)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["typ", "alg", "jwk", "kid", "crit", "x5c"]),
        st.one_of(
            st.none(),
            st.text(max_size=20),
            st.integers(),
            st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
        ),
    ),
    st.dictionaries(
        st.sampled_from(["jti", "htm", "htu", "iat", "ath", "nonce"]),
        st.one_of(st.none(), st.text(max_size=20), st.integers(), st.booleans()),
    ),
)
def test_any_header_and_claims_are_a_proof_or_a_dpop_error(header, claims):
    proof = f"{segment(header)}.{segment(claims)}.AAAA"

    with pytest.raises(DpopError):
        proof_verify(proof, method="GET", url=URL, access_token=TOKEN)
