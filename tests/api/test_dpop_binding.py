"""Token families bound to a DPoP key (RFC 9449 sections 5 and 6, api.services): the tokens
carry the key's thumbprint as `cnf.jkt`, and only a proof of that key refreshes the family; a
spent refresh token replayed without the key gets nothing and revokes the family."""

import jwt
import pytest

from api import services
from api.models import TokenFamily
from api.token_errors import RejectedTokenError, Rejection
from tests.dpop import DpopSigner

pytestmark = pytest.mark.django_db


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture
def key() -> DpopSigner:
    return DpopSigner()


@pytest.fixture
def bound(user, key) -> services.TokenPair:
    return services.token_pair_issue(user=user, origin=TokenFamily.Origin.DEVICE, jkt=key.jkt)


def test_a_bound_family_binds_both_tokens_to_the_key(bound, key):
    assert bound.token_type == "DPoP"
    assert claims(bound.access)["cnf"] == {"jkt": key.jkt}
    assert claims(bound.refresh)["cnf"] == {"jkt": key.jkt}
    assert TokenFamily.objects.get().dpop_jkt == key.jkt


def test_a_proof_of_the_key_refreshes_it_and_the_new_pair_stays_bound(bound, key):
    pair = services.token_pair_refresh(refresh=bound.refresh, jkt=key.jkt)

    assert pair.token_type == "DPoP"
    assert claims(pair.access)["cnf"] == claims(pair.refresh)["cnf"] == {"jkt": key.jkt}


@pytest.mark.parametrize("proof", ["none", "another key"])
def test_the_current_refresh_token_without_the_key_is_refused_and_left_as_it_was(bound, proof):
    jkt = "" if proof == "none" else DpopSigner().jkt
    before = TokenFamily.objects.get()

    with pytest.raises(RejectedTokenError) as refused:
        services.token_pair_refresh(refresh=bound.refresh, jkt=jkt)

    assert refused.value.rejection is Rejection.DPOP_KEY_MISMATCH
    after = TokenFamily.objects.get()
    assert (after.current_jti, after.revoked_at) == (before.current_jti, None)
    assert services.token_pair_refresh(refresh=bound.refresh, jkt=bound.family.dpop_jkt)


def test_a_spent_refresh_token_replayed_without_the_key_revokes_the_family(bound, key):
    services.token_pair_refresh(refresh=bound.refresh, jkt=key.jkt)

    # Within the reuse window, which would answer the client itself (its proof, its key).
    with pytest.raises(RejectedTokenError) as refused:
        services.token_pair_refresh(refresh=bound.refresh, jkt=DpopSigner().jkt)

    assert refused.value.rejection is Rejection.REFRESH_REUSED
    assert TokenFamily.objects.get().revoked_reason == TokenFamily.RevokeReason.REUSED


def test_the_reuse_window_answers_the_bound_key_with_the_same_bound_pair(bound, key):
    first = services.token_pair_refresh(refresh=bound.refresh, jkt=key.jkt)

    again = services.token_pair_refresh(refresh=bound.refresh, jkt=key.jkt)

    assert (again.access, again.refresh) == (first.access, first.refresh)
    assert again.token_type == "DPoP"


def test_a_proof_at_the_refresh_of_a_bearer_family_binds_the_new_access_token_only(user, key):
    bearer = services.token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD)
    assert bearer.token_type == "Bearer"
    assert "cnf" not in claims(bearer.access)

    pair = services.token_pair_refresh(refresh=bearer.refresh, jkt=key.jkt)

    assert pair.token_type == "DPoP"
    assert claims(pair.access)["cnf"] == {"jkt": key.jkt}
    assert "cnf" not in claims(pair.refresh)
    assert TokenFamily.objects.get().dpop_jkt == ""
    # Still a bearer family: its next refresh needs no proof.
    assert services.token_pair_refresh(refresh=pair.refresh).token_type == "Bearer"
