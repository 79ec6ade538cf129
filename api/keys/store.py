"""What this process holds of the keys: re-read periodically, or sooner for an unknown kid."""

import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed
from django.dispatch import receiver
from rest_framework_simplejwt import settings as jwt_settings

from api import clock
from api.keys.material import KeySet, SigningKey
from api.keys.sources import FolderSource, PemSource, key_source


class KeyStore:
    """One process's view of the key source; thread-safe, and cheap to ask on every request."""

    def __init__(
        self,
        source: FolderSource | PemSource,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self._keys: KeySet | None = None
        self._fingerprint: Any = None
        self._checked_at = 0.0
        self._unknown_kid_checked_at = float("-inf")

    def key_set(self) -> KeySet:
        """The current keys, re-read when the periodic check finds the source changed."""
        keys = self._keys
        if keys is None or self.monotonic() - self._checked_at >= settings.JWT_KEYS_RELOAD_SECONDS:
            keys = self._reload()
        return keys

    def signing_key(self) -> SigningKey:
        return self.key_set().signing_key(now=clock.now())

    def verifying_key(self, kid: str) -> SigningKey | None:
        """The key named `kid`; an unknown name re-reads the source, at most so often."""
        now = clock.now()
        key = self.key_set().verifying_key(kid, now=now)
        if key is not None or not self._unknown_kid_reload_due():
            return key
        return self._reload().verifying_key(kid, now=now)

    def _unknown_kid_reload_due(self) -> bool:
        with self._lock:
            moment = self.monotonic()
            if moment - self._unknown_kid_checked_at < settings.JWT_UNKNOWN_KID_RELOAD_SECONDS:
                return False
            self._unknown_kid_checked_at = moment
            return True

    def _reload(self) -> KeySet:
        with self._lock:
            fingerprint = self.source.fingerprint()
            if self._keys is None or fingerprint != self._fingerprint:
                self._keys = self.source.load(algorithm=jwt_settings.api_settings.ALGORITHM)
                self._fingerprint = self.source.fingerprint()
            self._checked_at = self.monotonic()
            return self._keys


KEY_STORE_KEY = "jwt:key-store"


def key_store() -> KeyStore:
    """This process's store, kept in the "local" cache (config.memory); a change to the key
    settings (tests override them) makes a new one (key_store_forget)."""
    local = caches["local"]
    store = local.get(KEY_STORE_KEY)
    if store is None:
        created = KeyStore(key_source())
        local.add(KEY_STORE_KEY, created, timeout=None)
        store = local.get(KEY_STORE_KEY) or created
    return store


def is_jwt_setting(setting: str) -> bool:
    """Whether `setting` is one the keys or the tokens' checks are read from."""
    return setting == "SIMPLE_JWT" or setting.startswith("JWT_")


@receiver(setting_changed)
def key_store_forget(*, setting: str, **kwargs: Any) -> None:
    if is_jwt_setting(setting):
        caches["local"].delete(KEY_STORE_KEY)
