"""Middleware of the accounts app."""

import time

from allauth.usersessions.models import UserSession
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

# How stale "last seen" on the sessions page may be; allauth's own middleware writes every request.
ACTIVITY_INTERVAL_SECONDS = 60
# Sessions whose next "last seen" this worker process remembers; past this it starts afresh.
MAX_REMEMBERED_SESSIONS = 10_000


class UserSessionActivityMiddleware:
    """allauth's session tracking (IP, browser, last seen), written at most once a minute.

    allauth's UserSessionsMiddleware updates the session's row on every authenticated request;
    this does the same update once per interval per session. Each worker process first asks its
    own memory whether the session is due, so most signed-in requests cost nothing here; when it
    is due, the shared cache makes sure one process of the deployment writes it.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.next_due: dict[str, float] = {}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session_key = request.session.session_key
        now = time.monotonic()
        if (
            session_key
            and self.next_due.get(session_key, 0.0) <= now
            and request.user.is_authenticated
        ):
            if len(self.next_due) >= MAX_REMEMBERED_SESSIONS:
                self.next_due.clear()
            self.next_due[session_key] = now + ACTIVITY_INTERVAL_SECONDS
            if cache.add(f"usersession-seen:{session_key}", 1, ACTIVITY_INTERVAL_SECONDS):
                UserSession.objects.create_from_request(request)
        return self.get_response(request)


class ProviderFormActionMiddleware:
    """Add the origins a page's provider buttons post to (see `allow_forms_to_reach`) to its CSP."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        origins = getattr(request, "provider_form_action_origins", None)
        if origins:
            update = getattr(response, "_csp_update", None) or {}
            update["form-action"] = [*update.get("form-action", []), *sorted(origins)]
            response._csp_update = update
        return response
