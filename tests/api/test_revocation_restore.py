"""api.revocation: the database is the authority for revocations (RFC 7009; OWASP ASVS V9).

Redis restarted without persistence comes back empty. Every mark is in the database too, and a
check whose person has no user key in the cache (it is written with their first token and lives
as long as any of their tokens) asks the database about its own token and copies the person's
marks back, so a revoked access token stays refused: a revoked token, a revoked family, a
user's revoke-all.
"""

from http import HTTPStatus

import pytest
from django.core.cache import cache
from django.test import override_settings

from api import revocation
from api.models import RevocationMark, TokenFamily
from api.services import token_pair_issue, user_tokens_revoke_all
from tests.api.conftest import bearer
from tests.conftest import production_caches
from tests.factories import UserFactory
from tests.servers import free_port, redis_server_binary, running_redis

pytestmark = pytest.mark.django_db


def me(api_client, access: str) -> int:
    return api_client.get("/api/me/", **bearer(access)).status_code


def revoked_three_ways(api_client, user) -> list[str]:
    """Three access tokens: one revoked by itself, one by its family, one by revoke-all."""
    alone, family, everything = (
        token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD) for _ in range(3)
    )
    api_client.post("/api/auth/token/revoke/", {"token": alone.access})
    api_client.post("/api/auth/token/revoke/", {"token": family.refresh})
    user_tokens_revoke_all(user=user)
    return [alone.access, family.access, everything.access]


def test_issuing_a_token_writes_its_persons_user_key(user):
    token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD)

    assert cache.get(revocation.user_key(str(user.pk))) == 0


def test_a_cache_that_lost_every_mark_still_refuses_revoked_tokens(api_client, user):
    tokens = revoked_three_ways(api_client, user)
    cache.clear()

    statuses = [me(api_client, access) for access in tokens]

    assert statuses == [HTTPStatus.UNAUTHORIZED] * 3
    assert cache.get(revocation.user_key(str(user.pk))) > 0
    kinds = set(RevocationMark.objects.values_list("kind", flat=True))
    assert kinds == {"jti", "fid", "user"}


def test_the_marks_are_copied_back_once_then_read_from_the_cache(
    api_client, user, django_assert_num_queries
):
    pair = token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD)
    api_client.get("/api/me/", **bearer(pair.access))  # its first use is written once
    revoked_three_ways(api_client, user)
    cache.clear()
    claims = {"jti": "j", "fid": pair.family.id.hex, "sub": str(user.pk), "iat": 0}

    with django_assert_num_queries(2):  # this token's marks, then the person's live marks
        first = revocation.access_token_rejection(claims=claims)
    with django_assert_num_queries(0):
        again = revocation.access_token_rejection(claims=claims)

    assert (first, again) == (revocation.Rejection.REVOKED, revocation.Rejection.REVOKED)


def test_a_restore_never_writes_over_a_newer_revoke_all(user):
    """The restore's user key is an `add`: a revoke-all that committed meanwhile wins."""
    user_tokens_revoke_all(user=user)
    newer = cache.get(revocation.user_key(str(user.pk)))
    RevocationMark.objects.filter(kind="user").update(not_before=1)  # what an older read saw

    revocation.user_marks_restore(user_id=str(user.pk))

    assert cache.get(revocation.user_key(str(user.pk))) == newer


def test_another_persons_marks_are_not_copied(api_client, user):
    someone_else = UserFactory()
    revoked_three_ways(api_client, someone_else)
    cache.clear()

    copied = revocation.user_marks_restore(user_id=str(user.pk))

    assert copied == 0


@pytest.fixture
def redis_binary():
    if redis_server_binary() is None:
        pytest.skip("no redis-server here: apt-get install redis-server")


@pytest.mark.usefixtures("redis_binary")
def test_redis_restarted_empty_brings_no_revoked_token_back(api_client, user):
    port = free_port()
    someone_else = token_pair_issue(user=UserFactory(), origin=TokenFamily.Origin.PASSWORD)
    with running_redis(port) as url, override_settings(CACHES=production_caches(url)):
        tokens = revoked_three_ways(api_client, user)
        before = [me(api_client, access) for access in tokens]
    with running_redis(port) as url, override_settings(CACHES=production_caches(url)):
        after = [me(api_client, access) for access in tokens]
        again = [me(api_client, access) for access in tokens]
        not_revoked = me(api_client, someone_else.access)

    assert before == [HTTPStatus.UNAUTHORIZED] * 3
    assert after == [HTTPStatus.UNAUTHORIZED] * 3
    assert again == [HTTPStatus.UNAUTHORIZED] * 3
    assert not_revoked == HTTPStatus.OK
