"""The session engine: Django's cache sessions, strict about keys and honest about outages.

Two changes to `django.contrib.sessions.backends.cache`, through its public surface:

- Only a well-formed session key (what Django makes: 32 lowercase letters and digits) names a
  session. Anything else in the cookie is no session at all, without a cache lookup, so random
  cookies cost no round trip.
- A cache that cannot answer is an outage, not an empty session: the error reaches the 500
  handler (config.outages answers 503) and the cookie stays as it is. Django's engine treats any
  error as "no session", which signs the person out and clears their cookie; when the cache comes
  back with its data (Redis with persistence), they would have stayed signed in.
"""

import re

from django.conf import settings
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore
from django.core.cache import caches

SESSION_KEY_FORMAT = re.compile(f"[{re.escape(VALID_KEY_CHARS)}]{{32}}")


class SessionStore(CacheSessionStore):
    def __init__(self, session_key: str | None = None) -> None:
        well_formed = session_key is not None and SESSION_KEY_FORMAT.fullmatch(session_key)
        super().__init__(session_key if well_formed else None)
        self._unavailable = False

    def load(self) -> dict:
        if self.session_key is None:
            return {}
        try:
            session_data = caches[settings.SESSION_CACHE_ALIAS].get(self.cache_key)
        except Exception:
            self._unavailable = True
            raise
        if session_data is not None:
            return session_data
        # A key that names no session (expired, signed out): Django's own load() forgets it, in
        # one more lookup, paid once per such cookie (the response then deletes the cookie).
        return super().load()

    def is_empty(self) -> bool:
        """Not when the cache could not say: SessionMiddleware clears the cookie of an empty
        session."""
        return not self._unavailable and super().is_empty()
