"""Codes and tokens in the store, against an injected clock."""

import pytest

from emulators import pkce
from emulators.store import CodeRejectedError, Grant, Rejection, Store

VERIFIER = "v" * 43


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> Store:
    return Store(clock=clock, code_lifetime_seconds=600)


def grant(**changes: str | None) -> Grant:
    fields = {
        "provider": "github",
        "client_id": "app",
        "redirect_uri": "http://127.0.0.1:8000/cb/",
        "identity": "ada",
        "scope": ("read:user",),
        "code_challenge": pkce.s256_challenge(VERIFIER),
        "code_challenge_method": "S256",
        **changes,
    }
    return Grant(**fields)


def redeem(store: Store, code: str = "code", **changes: str | None) -> Grant:
    arguments = {
        "provider": "github",
        "client_id": "app",
        "redirect_uri": "http://127.0.0.1:8000/cb/",
        "code_verifier": VERIFIER,
        **changes,
    }
    return store.redeem_code(code, **arguments)


def rejection(store: Store, code: str = "code", **changes: str | None) -> Rejection:
    with pytest.raises(CodeRejectedError) as raised:
        redeem(store, code, **changes)
    return raised.value.reason


def test_a_code_is_redeemed_once(store):
    store.add_code("code", grant())

    assert redeem(store).identity == "ada"
    assert rejection(store) is Rejection.REPLAYED


def test_a_code_lives_exactly_its_lifetime(store, clock):
    store.add_code("code", grant())

    clock.now += 600

    assert rejection(store) is Rejection.EXPIRED


def test_a_code_is_good_until_then(store, clock):
    store.add_code("code", grant())

    clock.now += 599.9

    assert redeem(store).client_id == "app"


def test_replaying_a_code_revokes_its_tokens(store):
    store.add_code("code", grant())
    issued = redeem(store)
    store.add_token("tok", code="code", grant=issued, lifetime_seconds=None)
    assert store.find_token("github", "tok") is not None

    rejection(store)

    assert store.find_token("github", "tok") is None


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"provider": "google"}, Rejection.UNKNOWN),
        ({"client_id": "other"}, Rejection.OTHER_CLIENT),
        ({"redirect_uri": "http://127.0.0.1:8000/cb"}, Rejection.REDIRECT_URI_MISMATCH),
        ({"redirect_uri": None}, Rejection.REDIRECT_URI_MISMATCH),
        ({"code_verifier": None}, Rejection.MISSING_VERIFIER),
        ({"code_verifier": "w" * 43}, Rejection.WRONG_VERIFIER),
        ({"code_verifier": "short"}, Rejection.WRONG_VERIFIER),
    ],
)
def test_a_code_is_bound_to_its_request(store, changes, reason):
    store.add_code("code", grant())

    assert rejection(store, **changes) is reason
    assert redeem(store).identity == "ada"


def test_a_verifier_needs_a_challenge(store):
    store.add_code("code", grant(code_challenge=None, code_challenge_method=None))

    assert rejection(store) is Rejection.UNEXPECTED_VERIFIER
    assert redeem(store, code_verifier=None).identity == "ada"


def test_unknown_codes(store):
    assert rejection(store, "nothing") is Rejection.UNKNOWN


def test_tokens_expire(store, clock):
    store.add_token("tok", code="code", grant=grant(), lifetime_seconds=3599)

    clock.now += 3598
    assert store.find_token("github", "tok") is not None
    clock.now += 1
    assert store.find_token("github", "tok") is None


def test_tokens_belong_to_one_provider(store):
    store.add_token("tok", code="code", grant=grant(), lifetime_seconds=None)

    assert store.find_token("google", "tok") is None


def test_s256_matches_rfc_7636_appendix_b():
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

    assert pkce.s256_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert pkce.verifier_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
