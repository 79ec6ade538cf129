"""The audit log: sign-ins and admin actions recorded; admins read it but cannot change it."""

from http import HTTPStatus

import pytest
from django.test import Client

from accounts.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_sign_in_sign_out_and_a_failed_attempt_are_recorded(client, user, password):
    client.post("/accounts/login/", {"login": user.email, "password": "wrong-password!"})
    client.post("/accounts/login/", {"login": user.email, "password": password})
    client.post("/accounts/logout/")

    actions = list(AuditEvent.objects.order_by("at").values_list("action", flat=True))
    assert actions == ["sign_in_failed", "sign_in", "sign_out"]
    failed = AuditEvent.objects.get(action="sign_in_failed")
    assert failed.detail == {"login": user.email}
    assert "wrong-password!" not in str(AuditEvent.objects.values_list("detail", flat=True))


def test_admin_signs_a_user_out_everywhere_at_once(admin_client, admin_user, user, password):
    phone = Client()
    phone.post("/accounts/login/", {"login": user.email, "password": password})

    admin_client.post(
        "/admin/accounts/user/",
        {"action": "sign_out_everywhere", "_selected_action": [user.pk]},
    )

    assert phone.get("/accounts/profile/").status_code == HTTPStatus.FOUND
    event = AuditEvent.objects.get(action="sessions_ended")
    assert (event.subject, event.actor, event.detail) == (user, admin_user, {"sessions": 1})


def test_admin_deactivates_a_user(admin_client, admin_user, user, password):
    phone = Client()
    phone.post("/accounts/login/", {"login": user.email, "password": password})

    admin_client.post(
        "/admin/accounts/user/", {"action": "deactivate", "_selected_action": [user.pk]}
    )

    user.refresh_from_db()
    assert not user.is_active
    assert phone.get("/accounts/profile/").status_code == HTTPStatus.FOUND
    assert AuditEvent.objects.filter(action="user_deactivated", subject=user).exists()


def test_admins_can_read_the_audit_log_but_not_change_it(admin_client, user):
    event = AuditEvent.objects.create(action="sign_in", subject=user)

    assert admin_client.get("/admin/accounts/auditevent/").status_code == HTTPStatus.OK
    assert admin_client.get(f"/admin/accounts/auditevent/{event.pk}/change/").status_code == 200
    assert admin_client.get("/admin/accounts/auditevent/add/").status_code == 403
    assert admin_client.post(f"/admin/accounts/auditevent/{event.pk}/delete/").status_code == 403


def test_admin_revokes_every_token_of_a_user_at_once(admin_client, admin_user, user):
    from api.services import token_pair_issue

    pair = token_pair_issue(user=user, origin="password")
    bearer = Client(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
    assert bearer.get("/api/me/").status_code == HTTPStatus.OK

    admin_client.post(
        "/admin/accounts/user/", {"action": "revoke_tokens", "_selected_action": [user.pk]}
    )

    assert bearer.get("/api/me/").status_code == HTTPStatus.UNAUTHORIZED
    event = AuditEvent.objects.get(action="tokens_revoked")
    assert (event.subject, event.actor, event.detail["families"]) == (user, admin_user, 1)


def test_deactivating_a_user_also_revokes_their_tokens(admin_client, user):
    from api.services import token_pair_issue

    pair = token_pair_issue(user=user, origin="password")

    admin_client.post(
        "/admin/accounts/user/", {"action": "deactivate", "_selected_action": [user.pk]}
    )

    bearer = Client(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
    assert bearer.get("/api/me/").status_code == HTTPStatus.UNAUTHORIZED


def test_the_user_page_shows_connected_accounts_sessions_and_tokens(admin_client, user, password):
    from api.services import token_pair_issue

    token_pair_issue(user=user, origin="session", name="laptop script")
    Client(HTTP_USER_AGENT="Phone").post(
        "/accounts/login/", {"login": user.email, "password": password}
    )

    html = admin_client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()

    assert "laptop script" in html
    assert "Phone" in html
    assert "connected account" in html.lower()


def test_token_issue_refresh_reuse_and_revoke_are_recorded(client, user, password, settings):
    settings.JWT_REFRESH_REUSE_GRACE_SECONDS = 0  # reuse at once, no interval for concurrent tabs
    issued = client.post(
        "/api/auth/token/",
        {"username": user.email, "password": password},
        content_type="application/json",
    ).json()
    refreshed = client.post(
        "/api/auth/token/refresh/", {"refresh": issued["refresh"]}, content_type="application/json"
    ).json()
    client.post(
        "/api/auth/token/refresh/", {"refresh": issued["refresh"]}, content_type="application/json"
    )
    client.post(
        "/api/auth/token/revoke/", {"token": refreshed["refresh"]}, content_type="application/json"
    )

    actions = list(AuditEvent.objects.order_by("at", "pk").values_list("action", flat=True))
    assert actions == [
        "token_issued",
        "token_refreshed",
        "refresh_reuse_detected",
        "token_revoked",
    ]
    assert set(AuditEvent.objects.values_list("subject", flat=True)) == {user.pk}
    secrets = (issued["access"], issued["refresh"], refreshed["refresh"])
    stored = str(list(AuditEvent.objects.values_list("detail", flat=True)))
    assert not any(secret in stored for secret in secrets)


def test_revoking_a_token_on_the_tokens_page_is_recorded(client, user):
    from api.services import token_pair_issue

    client.force_login(user)
    family = token_pair_issue(user=user, origin="session", name="script").family

    client.post(f"/accounts/tokens/{family.pk}/revoke/")

    event = AuditEvent.objects.get(action="token_revoked")
    assert (event.subject, event.actor, event.detail["family"]) == (user, user, family.id.hex)


def test_deleting_a_session_in_admin_signs_that_browser_out(
    admin_client, admin_user, user, password
):
    from allauth.usersessions.models import UserSession

    phone = Client(HTTP_USER_AGENT="Phone")
    phone.post("/accounts/login/", {"login": user.email, "password": password})
    session = UserSession.objects.get(user=user)

    admin_client.post(
        "/admin/usersessions/usersession/",
        {"action": "delete_selected", "_selected_action": [session.pk], "post": "yes"},
    )

    assert phone.get("/accounts/profile/").status_code == HTTPStatus.FOUND
    assert not UserSession.objects.filter(pk=session.pk).exists()
    assert AuditEvent.objects.filter(
        action="sessions_ended", subject=user, actor=admin_user
    ).exists()
