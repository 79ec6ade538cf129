"""The key store: a process re-reads the shared folder periodically, and sooner for a new kid."""

from api import clock
from api.keys.rotation import folder_key_rotate
from api.keys.sources import FolderSource
from api.keys.store import KeyStore


class FakeMonotonic:
    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


def test_an_unknown_kid_reloads_the_folder_at_most_once_per_interval(keys_dir, settings):
    """Other processes rotate the shared folder; this one catches up on meeting the new kid,
    but junk kids cannot make it re-read the folder more than once per interval."""
    settings.JWT_KEYS_RELOAD_SECONDS = 3600
    settings.JWT_UNKNOWN_KID_RELOAD_SECONDS = 5
    monotonic = FakeMonotonic()
    store = KeyStore(FolderSource(keys_dir, generate_missing=True), monotonic=monotonic)
    store.key_set()
    loads = []
    real_load = store.source.load
    store.source.load = lambda **kwargs: loads.append(1) or real_load(**kwargs)

    second = folder_key_rotate(directory=keys_dir, algorithm="RS256", now=clock.now()).new_key
    found = store.verifying_key(second.kid)
    third = folder_key_rotate(directory=keys_dir, algorithm="RS256", now=clock.now()).new_key
    too_soon = store.verifying_key(third.kid)
    junk = [store.verifying_key(f"junk-{n}") for n in range(50)]
    monotonic.value += 5
    later = store.verifying_key(third.kid)

    assert found is not None
    assert found.kid == second.kid
    assert too_soon is None
    assert junk == [None] * 50
    assert later is not None
    assert loads == [1, 1]


def test_a_process_re_reads_the_folder_on_its_periodic_check(keys_dir, settings):
    settings.JWT_KEYS_RELOAD_SECONDS = 60
    monotonic = FakeMonotonic()
    store = KeyStore(FolderSource(keys_dir, generate_missing=True), monotonic=monotonic)
    first = store.signing_key()
    folder_key_rotate(directory=keys_dir, algorithm="RS256", now=clock.now())

    assert store.signing_key().kid == first.kid
    monotonic.value += 60
    assert store.signing_key().kid != first.kid
