"""Middleware of the accounts app."""

import logging

from allauth.usersessions.models import UserSession
from django.core.cache import cache, caches
from django.http import HttpRequest, HttpResponse

from config.outages import DATABASE_UNREACHABLE

logger = logging.getLogger(__name__)

# How stale "last seen" on the sessions page may be; allauth's own middleware writes every request.
ACTIVITY_INTERVAL_SECONDS = 60


class UserSessionActivityMiddleware:
    """allauth's session tracking (IP, browser, last seen), written at most once a minute.

    allauth's UserSessionsMiddleware updates the session's row on every authenticated request;
    this does the same update once per interval per session. The process's memory (the "local"
    cache) says first whether the session is due, so most signed-in requests cost nothing here;
    when it is due, the shared cache makes sure one process of the deployment writes it. With the
    database unreachable the write is skipped, as the API skips a token's "last used".
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
            try:
                UserSession.objects.create_from_request(request)
            except DATABASE_UNREACHABLE:
                # A timestamp is no reason to refuse a request the session itself can answer.
                logger.warning("session activity not recorded, the database is unreachable")
        return self.get_response(request)
