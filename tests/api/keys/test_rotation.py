"""Rotation: new tokens use the new key, old ones keep working until their key's grace ends."""

import datetime as dt
from http import HTTPStatus

import pytest
from django.core.management import call_command

from api import clock
from api.keys.jwks import jwks_document
from api.keys.material import retirement_grace
from api.models import TokenFamily
from api.services import token_pair_issue
from tests.api.conftest import bearer
from tests.api.keys.conftest import kid_of

pytestmark = pytest.mark.django_db


def test_after_rotation_new_tokens_use_the_new_key_and_old_ones_keep_working(
    keys_dir, api_client, user
):
    old = token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD)

    call_command("jwt_rotate_key", stdout=None)
    new = token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD)

    assert kid_of(new.access) != kid_of(old.access)
    assert api_client.get("/api/me/", **bearer(old.access)).status_code == HTTPStatus.OK
    assert api_client.get("/api/me/", **bearer(new.access)).status_code == HTTPStatus.OK
    refreshed = api_client.post("/api/auth/token/refresh/", {"refresh": old.refresh})
    assert refreshed.status_code == HTTPStatus.OK
    assert kid_of(refreshed.json()["refresh"]) == kid_of(new.access)
    published = [key["kid"] for key in api_client.get("/.well-known/jwks.json").json()["keys"]]
    assert published == [kid_of(new.access), kid_of(old.access)]


def test_a_retired_key_drops_out_when_its_last_token_has_expired(
    keys_dir, api_client, user, monkeypatch
):
    old = token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD)
    call_command("jwt_rotate_key", stdout=None)
    rotated_at = clock.now()
    new_kid = jwks_document()["keys"][0]["kid"]

    monkeypatch.setattr(
        clock, "now", lambda: rotated_at + retirement_grace() - dt.timedelta(seconds=5)
    )
    still = [key["kid"] for key in jwks_document()["keys"]]
    monkeypatch.setattr(
        clock, "now", lambda: rotated_at + retirement_grace() + dt.timedelta(seconds=5)
    )
    after = [key["kid"] for key in jwks_document()["keys"]]

    assert still == [new_kid, kid_of(old.access)]
    assert after == [new_kid]
    response = api_client.post("/api/auth/token/verify/", {"token": old.access})
    assert response.json()["code"] == "token_key_unknown"


def test_a_key_activated_later_is_published_first_and_signs_later(keys_dir, user, monkeypatch):
    first = token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD)

    call_command("jwt_rotate_key", "--activate-in", "600", stdout=None)
    rotated_at = clock.now()
    published = [key["kid"] for key in jwks_document()["keys"]]
    before = token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD)
    monkeypatch.setattr(clock, "now", lambda: rotated_at + dt.timedelta(seconds=601))
    after = token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD)

    assert len(published) == 2
    assert kid_of(before.access) == kid_of(first.access)
    assert kid_of(after.access) == published[0] != kid_of(first.access)
