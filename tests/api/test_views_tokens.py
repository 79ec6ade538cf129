"""The token endpoints: obtain, refresh (rotation and reuse), verify, revoke, revoke-all."""

import datetime as dt
import uuid
from http import HTTPStatus

import jwt
import pytest
from allauth.account.models import EmailAddress

from api.exceptions import API_CHALLENGE
from api.models import TokenFamily
from api.tokens import RefreshToken
from tests.api.conftest import bearer
from tests.api.forge import claims_for, signed_with_our_key
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

OBTAIN = "/api/auth/token/"
REFRESH = "/api/auth/token/refresh/"
VERIFY = "/api/auth/token/verify/"
REVOKE = "/api/auth/token/revoke/"
REVOKE_ALL = "/api/auth/token/revoke-all/"
ME = "/api/me/"


def obtain(api_client, **body):
    return api_client.post(OBTAIN, body)


@pytest.mark.parametrize("login_field", ["username", "email"])
def test_obtain_answers_a_pair_for_username_or_email(api_client, user, password, login_field):
    login = {"username": user.username, "email": user.email}[login_field]

    response = obtain(api_client, **{login_field: login, "password": password})

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert 0 < body["expires_in"] <= 300
    assert api_client.get(ME, **bearer(body["access"])).status_code == HTTPStatus.OK
    family = TokenFamily.objects.get(user=user)
    assert family.origin == TokenFamily.Origin.PASSWORD


def test_the_username_field_also_takes_the_email(api_client, user, password):
    assert obtain(api_client, username=user.email, password=password).status_code == HTTPStatus.OK


def test_tokens_carry_the_documented_claims_and_header(api_client, user, password):
    body = obtain(api_client, username=user.username, password=password).json()

    access_header = jwt.get_unverified_header(body["access"])
    refresh_header = jwt.get_unverified_header(body["refresh"])
    access = jwt.decode(body["access"], options={"verify_signature": False})
    refresh = jwt.decode(body["refresh"], options={"verify_signature": False})
    assert access_header["alg"] == refresh_header["alg"] == "RS256"
    assert access_header["typ"] == "at+jwt"
    assert refresh_header["typ"] == "refresh+jwt"
    assert access_header["kid"] == refresh_header["kid"]
    for claims in (access, refresh):
        assert set(claims) == {
            *("iss", "aud", "exp", "iat", "jti", "sub", "token_type", "fid"),
            *("preferred_username", "email"),
        }
        assert claims["sub"] == str(user.pk)
        assert (claims["preferred_username"], claims["email"]) == (user.username, user.email)
        assert claims["iss"] == "signin-lab"
        assert claims["aud"] == "signin-lab-api"
    assert access["fid"] == refresh["fid"] == TokenFamily.objects.get().id.hex
    assert access["jti"] != refresh["jti"]
    assert access["exp"] - access["iat"] == 5 * 60
    assert refresh["exp"] - refresh["iat"] == 24 * 60 * 60


def test_lifetimes_come_from_the_settings(api_client, user, password, settings):
    settings.SIMPLE_JWT = {
        **settings.SIMPLE_JWT,
        "ACCESS_TOKEN_LIFETIME": dt.timedelta(minutes=2),
    }

    body = obtain(api_client, username=user.username, password=password).json()

    access = jwt.decode(body["access"], options={"verify_signature": False})
    assert access["exp"] - access["iat"] == 120


def test_a_pairs_tokens_are_issued_at_one_instant(user):
    refresh = RefreshToken.for_family(user=user, family_id=uuid.uuid4().hex)
    # Made a second ago, as if the clock turned between the refresh token and its access token.
    refresh.current_time -= dt.timedelta(seconds=1)
    refresh.set_iat()
    refresh.set_exp()

    access = refresh.access_token

    assert access["iat"] == refresh["iat"]
    assert access["exp"] - access["iat"] == 5 * 60


def test_unknown_user_and_wrong_password_answer_identically(api_client, user):
    """OWASP ASVS V6: the answer must not tell which accounts exist."""
    unknown = obtain(api_client, username="nobody-here", password="whatever it is")
    wrong = obtain(api_client, username=user.username, password="not the password")
    inactive_user = UserFactory(is_active=False)
    inactive = obtain(api_client, username=inactive_user.username, password="x" * 12)

    for response in (unknown, wrong, inactive):
        assert response.status_code == HTTPStatus.UNAUTHORIZED
        assert response.json() == {
            "error": {
                "code": "invalid_credentials",
                "message": "No active account matches these credentials.",
            }
        }
        assert response["WWW-Authenticate"] == API_CHALLENGE


def test_an_unverified_email_is_told_apart_only_after_the_right_password(api_client, password):
    person = UserFactory(verified_email=False)
    EmailAddress.objects.create(user=person, email=person.email, verified=False, primary=True)

    wrong = obtain(api_client, username=person.username, password="not the password")
    right = obtain(api_client, username=person.username, password=password)

    assert wrong.json()["error"]["code"] == "invalid_credentials"
    assert right.status_code == HTTPStatus.FORBIDDEN
    assert right.json()["error"]["code"] == "email_not_verified"
    assert not TokenFamily.objects.exists()


def test_an_account_with_a_second_factor_gets_no_tokens_from_a_password(
    api_client, admin_user, password
):
    """OWASP ASVS V6: a password grant must not skip the second factor the account signs in with;
    told apart only after the right password, so nothing is learnt about unknown accounts."""
    wrong = obtain(api_client, username=admin_user.username, password="not the password")
    right = obtain(api_client, username=admin_user.username, password=password)

    assert wrong.json()["error"]["code"] == "invalid_credentials"
    assert right.status_code == HTTPStatus.FORBIDDEN
    assert right.json()["error"]["code"] == "second_factor_required"
    assert "/accounts/tokens/" in right.json()["error"]["message"]
    assert not TokenFamily.objects.exists()


def test_obtain_needs_exactly_one_login_field(api_client, user, password):
    both = obtain(api_client, username=user.username, email=user.email, password=password)
    neither = obtain(api_client, password=password)

    for response in (both, neither):
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json()["error"]["code"] == "invalid_input"


@pytest.mark.parametrize("path", [OBTAIN, REFRESH, VERIFY, REVOKE])
def test_token_responses_are_never_stored(api_client, user, password, path):
    """RFC 6749 section 5.1: token responses carry Cache-Control: no-store, errors included."""
    response = api_client.post(path, {"username": user.username, "password": password})

    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"


def test_refresh_rotates_and_spends_the_old_refresh_token(api_client, pair):
    response = api_client.post(REFRESH, {"refresh": pair.refresh})

    assert response.status_code == HTTPStatus.OK
    new = response.json()
    assert new["refresh"] != pair.refresh
    assert new["access"] != pair.access
    new_claims = jwt.decode(new["refresh"], options={"verify_signature": False})
    assert new_claims["fid"] == pair.family.id.hex
    family = TokenFamily.objects.get()
    assert family.current_jti == new_claims["jti"]
    assert family.refreshed_at is not None
    assert family.last_used_at is not None
    assert api_client.get(ME, **bearer(new["access"])).status_code == HTTPStatus.OK
    # The new refresh token works in turn.
    assert api_client.post(REFRESH, {"refresh": new["refresh"]}).status_code == HTTPStatus.OK


def test_reusing_a_spent_refresh_token_revokes_its_whole_family(api_client, pair, settings):
    """RFC 9700 section 4.14.2: reuse of a rotated refresh token revokes the family (here with
    no reuse interval; tests/api/test_refresh_grace.py has the interval's two sides)."""
    settings.JWT_REFRESH_REUSE_GRACE_SECONDS = 0
    rotated = api_client.post(REFRESH, {"refresh": pair.refresh}).json()

    reuse = api_client.post(REFRESH, {"refresh": pair.refresh})

    assert reuse.status_code == HTTPStatus.UNAUTHORIZED
    assert reuse.json()["error"]["code"] == "refresh_token_reused"
    assert 'error="invalid_token"' in reuse["WWW-Authenticate"]
    family = TokenFamily.objects.get()
    assert family.revoked_reason == TokenFamily.RevokeReason.REUSED
    # Every token of the family is dead: both access tokens and the newest refresh token.
    for access in (pair.access, rotated["access"]):
        me = api_client.get(ME, **bearer(access))
        assert me.status_code == HTTPStatus.UNAUTHORIZED
        assert me.json()["error"]["code"] == "token_revoked"
    again = api_client.post(REFRESH, {"refresh": rotated["refresh"]})
    assert again.json()["error"]["code"] == "token_revoked"


def test_reuse_revokes_only_that_family(api_client, user, pair):
    other = api_client.post(
        OBTAIN, {"username": user.username, "password": "correct horse battery staple"}
    ).json()
    api_client.post(REFRESH, {"refresh": pair.refresh})
    api_client.post(REFRESH, {"refresh": pair.refresh})

    assert api_client.get(ME, **bearer(other["access"])).status_code == HTTPStatus.OK


def test_an_access_token_is_not_a_refresh_token(api_client, pair):
    """RFC 8725 section 3.12: one kind of token cannot stand in for another."""
    response = api_client.post(REFRESH, {"refresh": pair.access})

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"]["code"] == "token_type_invalid"


def test_refresh_refuses_an_inactive_user(api_client, user, pair):
    type(user).objects.filter(pk=user.pk).update(is_active=False)

    response = api_client.post(REFRESH, {"refresh": pair.refresh})

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"]["code"] == "user_inactive"


def test_verify_says_valid_for_good_tokens(api_client, pair):
    for token, kind in ((pair.access, "access"), (pair.refresh, "refresh")):
        response = api_client.post(VERIFY, {"token": token})

        assert response.status_code == HTTPStatus.OK
        body = response.json()
        assert body["valid"] is True
        assert body["token_type"] == kind
        assert body["code"] is None


@pytest.mark.parametrize(
    ("make_token", "code"),
    [
        (lambda pair, user: "not-a-token", "token_malformed"),
        (lambda pair, user: signed_with_our_key(claims_for(user, exp=1)), "token_expired"),
        (lambda pair, user: pair.access[:-4] + "AAAA", "token_signature_invalid"),
    ],
)
def test_verify_says_invalid_with_the_reason(api_client, user, pair, make_token, code):
    response = api_client.post(VERIFY, {"token": make_token(pair, user)})

    assert response.status_code == HTTPStatus.OK
    assert response.json()["valid"] is False
    assert response.json()["code"] == code


def test_verify_neither_records_nor_hides_a_use(api_client, pair):
    """Verifying looks at a token without using it: the family's "last used" stays unset, and
    the first real use right after still records itself."""
    api_client.post(VERIFY, {"token": pair.access})
    after_verify = TokenFamily.objects.get().last_used_at

    api_client.get(ME, **bearer(pair.access))

    assert after_verify is None
    assert TokenFamily.objects.get().last_used_at is not None


def test_verify_reports_spent_and_revoked_refresh_tokens_without_revoking(api_client, pair):
    rotated = api_client.post(REFRESH, {"refresh": pair.refresh}).json()

    spent = api_client.post(VERIFY, {"token": pair.refresh}).json()

    assert spent["code"] == "refresh_token_spent"
    assert TokenFamily.objects.get().revoked_at is None
    assert api_client.post(VERIFY, {"token": rotated["refresh"]}).json()["valid"] is True


def test_revoking_a_refresh_token_revokes_its_family(api_client, pair):
    """RFC 7009 section 2.1: revoking a refresh token also invalidates its access tokens."""
    response = api_client.post(REVOKE, {"token": pair.refresh, "token_type_hint": "refresh_token"})

    assert response.status_code == HTTPStatus.OK
    assert api_client.get(ME, **bearer(pair.access)).json()["error"]["code"] == "token_revoked"
    assert (
        api_client.post(REFRESH, {"refresh": pair.refresh}).json()["error"]["code"]
        == "token_revoked"
    )
    assert TokenFamily.objects.get().revoked_reason == TokenFamily.RevokeReason.REVOKED


def test_revoking_an_access_token_revokes_that_token_only(api_client, pair):
    api_client.post(REVOKE, {"token": pair.access})

    assert api_client.get(ME, **bearer(pair.access)).status_code == HTTPStatus.UNAUTHORIZED
    rotated = api_client.post(REFRESH, {"refresh": pair.refresh})
    assert rotated.status_code == HTTPStatus.OK
    assert api_client.get(ME, **bearer(rotated.json()["access"])).status_code == HTTPStatus.OK


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "é" * 10, ""])
def test_revoking_an_invalid_token_still_answers_200(api_client, token):
    """RFC 7009 section 2.2: an invalid token is not an error (the empty one is a bad request)."""
    response = api_client.post(REVOKE, {"token": token})

    expected = HTTPStatus.BAD_REQUEST if token == "" else HTTPStatus.OK
    assert response.status_code == expected


def test_revoke_all_with_a_bearer_token_revokes_every_token(api_client, user, pair):
    other = api_client.post(
        OBTAIN, {"username": user.username, "password": "correct horse battery staple"}
    ).json()

    response = api_client.post(REVOKE_ALL, **bearer(pair.access))

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"revoked_families": 2}
    for access in (pair.access, other["access"]):
        assert api_client.get(ME, **bearer(access)).status_code == HTTPStatus.UNAUTHORIZED
    for refresh in (pair.refresh, other["refresh"]):
        assert api_client.post(REFRESH, {"refresh": refresh}).status_code == HTTPStatus.UNAUTHORIZED
    # Another person's tokens are untouched.
    someone = UserFactory()
    theirs = api_client.post(
        OBTAIN, {"username": someone.username, "password": "correct horse battery staple"}
    ).json()
    assert api_client.get(ME, **bearer(theirs["access"])).status_code == HTTPStatus.OK


def test_tokens_issued_right_after_revoke_all_work(api_client, user, password, pair):
    api_client.post(REVOKE_ALL, **bearer(pair.access))

    fresh = api_client.post(OBTAIN, {"username": user.username, "password": password}).json()

    assert api_client.get(ME, **bearer(fresh["access"])).status_code == HTTPStatus.OK


def test_revoke_all_with_a_session_needs_the_csrf_token(user, pair):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    refused = browser.post(REVOKE_ALL, {}, content_type="application/json")
    browser.get("/accounts/tokens/")
    accepted = browser.post(
        REVOKE_ALL,
        {},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value,
    )

    assert refused.status_code == HTTPStatus.FORBIDDEN
    assert refused.json()["error"]["code"] == "csrf_failed"
    assert accepted.status_code == HTTPStatus.OK
    assert accepted.json() == {"revoked_families": 1}


def test_revoke_all_needs_authentication(api_client):
    response = api_client.post(REVOKE_ALL)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == API_CHALLENGE


@pytest.mark.parametrize("login", ["a\u0000b", "x" * 255 + "@example.com"])
def test_a_login_no_account_can_have_is_refused_before_any_query(
    api_client, login, django_assert_num_queries
):
    """A NUL byte, which PostgreSQL cannot even compare, or an over-long login: 400, and the
    database is never asked (it once answered such a request with a fake outage)."""
    with django_assert_num_queries(0):
        response = api_client.post(OBTAIN, {"username": login, "password": "whatever"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"]["code"] == "invalid_input"
