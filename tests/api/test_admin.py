"""Admin for token families: listed read-only, revoked through the service."""

from http import HTTPStatus

import pytest

from api.models import TokenFamily
from tests.api.conftest import bearer

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/api/tokenfamily/"


def test_admins_see_token_families_and_cannot_add_or_edit_them(admin_client, pair):
    listing = admin_client.get(LIST_URL)

    assert listing.status_code == HTTPStatus.OK
    assert pair.family.user.username in listing.content.decode()
    assert admin_client.get(f"{LIST_URL}add/").status_code == HTTPStatus.FORBIDDEN


def test_the_revoke_action_revokes_at_once(admin_client, api_client, pair):
    response = admin_client.post(
        LIST_URL, {"action": "revoke", "_selected_action": [str(pair.family.pk)]}, follow=True
    )

    assert "Revoked 1 token families." in response.content.decode()
    assert TokenFamily.objects.get().revoked_reason == TokenFamily.RevokeReason.REVOKED
    assert api_client.get("/api/me/", **bearer(pair.access)).status_code == HTTPStatus.UNAUTHORIZED
