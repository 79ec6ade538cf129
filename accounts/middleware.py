"""Middleware of the accounts app."""

from allauth.usersessions.models import UserSession
from django.core.cache import cache, caches
from django.http import HttpRequest, HttpResponse

# How stale "last seen" on the sessions page may be; allauth's own middleware writes every request.
ACTIVITY_INTERVAL_SECONDS = 60


class UserSessionActivityMiddleware:
    """allauth's session tracking (IP, browser, last seen), written at most once a minute.

    allauth's UserSessionsMiddleware updates the session's row on every authenticated request;
    this does the same update once per interval per session. The process's memory (the "local"
    cache) says first whether the session is due, so most signed-in requests cost nothing here;
    when it is due, the shared cache makes sure one process of the deployment writes it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session_key = request.session.session_key
        seen = f"usersession-seen:{session_key}"
        if (
            session_key
            and request.user.is_authenticated
            and caches["local"].add(seen, True, ACTIVITY_INTERVAL_SECONDS)
            and cache.add(seen, True, ACTIVITY_INTERVAL_SECONDS)
        ):
            UserSession.objects.create_from_request(request)
        return self.get_response(request)
