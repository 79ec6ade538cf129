"""The session engine: Django's cache sessions, strict about keys and honest about outages.

Two changes to `django.contrib.sessions.backends.cache`, both in `load()`:

- Only a well-formed session key (what Django makes: 32 lowercase letters and digits) is looked
  up. Anything else in the cookie is no session at all, without a cache lookup, so random cookies
  cost nothing and fill no memory (config.memory remembers what it looked up).
- A cache that cannot answer is an outage, not an empty session: the error reaches the 500
  handler (config.outages answers 503) and the cookie stays as it is. Django's engine treats any
  error as "no session", which signs the person out and clears their cookie; when the cache comes
  back with its data (Redis with persistence), they would have stayed signed in.
"""

import re

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore

SESSION_KEY_FORMAT = re.compile(f"[{re.escape(VALID_KEY_CHARS)}]{{32}}")


class SessionStore(CacheSessionStore):
    _unavailable = False

    def load(self) -> dict:
        if self.session_key is None or not SESSION_KEY_FORMAT.fullmatch(self.session_key):
            self._session_key = None
            return {}
        try:
            session_data = self._cache.get(self.cache_key)
        except Exception:
            self._unavailable = True
            raise
        if session_data is not None:
            return session_data
        self._session_key = None
        return {}

    def is_empty(self) -> bool:
        """Not when the cache could not say: SessionMiddleware clears the cookie of an empty
        session."""
        return not self._unavailable and super().is_empty()
