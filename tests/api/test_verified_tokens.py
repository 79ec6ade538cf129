"""api.backends: a token this process has verified is not verified again in full.

What cannot change about a token (its signature, issuer, audience, algorithm, type) is checked
once; what can change is checked on every use, and a token that no longer passes is verified again
in full, so the refusal says why: its expiry, its key's verification window (retired past its
grace, or removed), and the settings it was verified under (issuer, audience, leeway, keys). Only
the exact text that passed is ever matched, and each caller gets claims of its own.

Full verifications are counted with a spy around PyJWT's jwt.decode that still calls it.
"""

import datetime as dt
import math
import time
from http import HTTPStatus

import jwt
import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.test import override_settings

from api import backends, clock
from api.backends import Verified, token_backend, verified_key, verified_remember
from api.keys.material import retirement_grace
from api.token_errors import RejectedTokenError, Rejection
from tests.api.conftest import bearer
from tests.api.forge import claims_for, signed_with_our_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def full_verifications(monkeypatch) -> list[str]:
    """The tokens PyJWT has verified (signature and claims), in order."""
    verified = []
    real_decode = jwt.decode

    def counting_decode(token, *args, **kwargs):
        verified.append(token)
        return real_decode(token, *args, **kwargs)

    monkeypatch.setattr(backends.jwt, "decode", counting_decode)
    return verified


@pytest.fixture
def keys_dir(settings, tmp_path):
    """A key folder of this test's own, re-read at every use so rotations show at once."""
    settings.JWT_SIGNING_KEYS_DIR = str(tmp_path / "keys")
    settings.JWT_KEYS_RELOAD_SECONDS = 0
    return tmp_path / "keys"


def refused(token: str) -> Rejection:
    with pytest.raises(RejectedTokenError) as refusal:
        token_backend.decode(token)
    return refusal.value.rejection


def with_one_character_changed(token: str, segment: int) -> str:
    """`token` with one base64url character in the middle of a segment (0: header, 1: claims,
    2: signature) changed: different bytes, not just different padding bits."""
    parts = token.split(".")
    middle = len(parts[segment]) // 2
    character = parts[segment][middle]
    parts[segment] = (
        parts[segment][:middle] + ("B" if character == "A" else "A") + parts[segment][middle + 1 :]
    )
    return ".".join(parts)


def test_a_token_verified_once_is_not_verified_again_in_full(pair, full_verifications):
    first = token_backend.decode(pair.access)
    again = [token_backend.decode(pair.access) for _ in range(3)]
    other = token_backend.decode(pair.refresh)

    assert again == [first] * 3
    assert first["jti"] != other["jti"]
    assert full_verifications == [pair.access, pair.refresh]


def test_an_api_client_repeating_its_token_is_verified_once(pair, api_client, full_verifications):
    statuses = [api_client.get("/api/me/", **bearer(pair.access)).status_code for _ in range(3)]

    assert statuses == [HTTPStatus.OK] * 3
    assert full_verifications == [pair.access]


def test_each_decode_returns_claims_of_its_own(pair):
    verified = token_backend.decode(pair.access)
    original = dict(verified)

    for claims in (verified, token_backend.decode(pair.access)):  # verified in full, then not
        claims["sub"] = "someone else"
        claims["scope"] = "admin"
        del claims["exp"]
    after = token_backend.decode(pair.access)

    assert after == original


def test_an_expired_token_verified_earlier_is_refused_as_expired(user, full_verifications):
    # At least 3 s from now: a token with under a second left is not remembered at all, and a
    # loaded machine may take a second to sign and verify it.
    expires_at = math.ceil(time.time()) + 3
    token = signed_with_our_key(claims_for(user, exp=expires_at))
    token_backend.decode(token)
    token_backend.decode(token)

    time.sleep(max(0.0, expires_at - time.time()) + 0.1)

    assert refused(token) == Rejection.EXPIRED
    assert full_verifications == [token, token]  # verified again in full, so it says why


def test_a_token_past_its_expiry_within_the_leeway_passes_until_the_leeway_shrinks(
    user, settings, full_verifications
):
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "LEEWAY": 60}
    token = signed_with_our_key(claims_for(user, exp=int(time.time()) - 5))
    token_backend.decode(token)
    token_backend.decode(token)
    verifications_with_leeway = len(full_verifications)

    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "LEEWAY": 0}

    assert verifications_with_leeway == 1
    assert refused(token) == Rejection.EXPIRED


@pytest.mark.parametrize(
    ("setting", "rejection"),
    [("AUDIENCE", Rejection.AUDIENCE_INVALID), ("ISSUER", Rejection.ISSUER_INVALID)],
)
def test_a_changed_setting_refuses_a_token_verified_under_the_old_one(
    pair, settings, setting, rejection
):
    verified = token_backend.decode(pair.access)

    with override_settings(SIMPLE_JWT={**settings.SIMPLE_JWT, setting: "someone-else"}):
        under_the_new_setting = refused(pair.access)
    back_to_the_old_setting = token_backend.decode(pair.access)

    assert under_the_new_setting == rejection
    assert back_to_the_old_setting == verified


def test_another_key_folder_refuses_a_token_verified_with_the_old_keys(pair, settings, tmp_path):
    token_backend.decode(pair.access)

    settings.JWT_SIGNING_KEYS_DIR = str(tmp_path / "other-keys")

    assert refused(pair.access) == Rejection.KEY_UNKNOWN


def test_a_token_whose_key_retired_past_its_grace_is_refused_though_verified_before(
    keys_dir, pair, monkeypatch, full_verifications
):
    verified = token_backend.decode(pair.access)
    call_command("jwt_rotate_key", stdout=None)
    rotated_at = clock.now()

    monkeypatch.setattr(
        clock, "now", lambda: rotated_at + retirement_grace() - dt.timedelta(seconds=5)
    )
    within_the_grace = token_backend.decode(pair.access)
    verifications_within_the_grace = len(full_verifications)
    monkeypatch.setattr(
        clock, "now", lambda: rotated_at + retirement_grace() + dt.timedelta(seconds=5)
    )

    assert within_the_grace == verified
    assert verifications_within_the_grace == 1
    assert refused(pair.access) == Rejection.KEY_UNKNOWN


def test_a_token_whose_key_was_removed_is_refused_though_verified_before(
    keys_dir, pair, monkeypatch
):
    token_backend.decode(pair.access)
    real_now = clock.now
    call_command("jwt_rotate_key", stdout=None)
    rotated_at = clock.now()
    monkeypatch.setattr(
        clock, "now", lambda: rotated_at + retirement_grace() + dt.timedelta(seconds=5)
    )
    call_command("jwt_rotate_key", stdout=None)  # deletes the key past its grace
    monkeypatch.setattr(clock, "now", real_now)

    assert not (keys_dir / f"{jwt.get_unverified_header(pair.access)['kid']}.pem").exists()
    assert refused(pair.access) == Rejection.KEY_UNKNOWN


@pytest.mark.parametrize(("segment", "name"), [(2, "signature"), (1, "claims")])
def test_only_the_exact_text_that_passed_matches(pair, full_verifications, segment, name):
    genuine = token_backend.decode(pair.access)
    altered = with_one_character_changed(pair.access, segment)

    rejections = {refused(altered), refused(altered)}
    still_genuine = token_backend.decode(pair.access)

    assert altered != pair.access
    assert rejections <= {Rejection.SIGNATURE_INVALID, Rejection.MALFORMED}
    assert len(rejections) == 1
    assert still_genuine == genuine
    # A refusal is never remembered: the altered token was verified in full each time.
    assert full_verifications == [pair.access, altered, altered]


def test_a_token_with_a_claim_nested_deeper_than_one_level_is_never_remembered():
    """Callers get the claims copied one level deep: anything deeper would be shared."""
    expires = int(time.time()) + 60

    verified_remember("deep", Verified({"kid": "k"}, {"exp": expires, "cnf": {"x": ["a"]}}))
    verified_remember("flat", Verified({"kid": "k"}, {"exp": expires, "jti": "2"}))

    assert caches["local"].get(verified_key("deep")) is None
    assert caches["local"].get(verified_key("flat")).claims == {"exp": expires, "jti": "2"}


def test_a_bound_tokens_cnf_is_remembered_and_each_caller_gets_its_own():
    expires = int(time.time()) + 60
    verified_remember("bound", Verified({"kid": "k"}, {"exp": expires, "cnf": {"jkt": "t"}}))
    remembered = caches["local"].get(verified_key("bound"))

    first = remembered.claims_copy()
    first["cnf"]["jkt"] = "changed"

    assert remembered.claims_copy()["cnf"] == {"jkt": "t"}


def test_a_dpop_bound_token_is_verified_in_full_once(user, full_verifications):
    from api import services
    from api.models import TokenFamily

    pair = services.token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD, jkt="t" * 43)

    assert token_backend.decode(pair.access)["cnf"] == {"jkt": "t" * 43}
    assert token_backend.decode(pair.access)["cnf"] == {"jkt": "t" * 43}
    assert full_verifications == [pair.access]


def test_an_expired_token_is_not_remembered():
    verified_remember("old", Verified({"kid": "k"}, {"exp": int(time.time()) - 1}))

    assert caches["local"].get(verified_key("old")) is None
