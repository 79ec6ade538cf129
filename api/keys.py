"""Signing keys: loaded from a folder or the environment, published as a JWKS, rotated in place.

A key folder holds one private key per PEM file, named by its kid, and `keys.json`, the manifest
that says when each key started signing and when a newer key took over. Every app process reads
the same folder: it re-reads it every JWT_KEYS_RELOAD_SECONDS, and sooner when a token names a kid
it does not know (at most once every JWT_UNKNOWN_KID_RELOAD_SECONDS, so junk kids cost nothing).
The kid is the RFC 7638 thumbprint of the public key; a key is looked up by that name only and
never fetched from anywhere a token points to (RFC 8725 section 3.10).

A retired key stays published and keeps verifying until the last token it can have signed has
expired: the refresh lifetime after its retirement, plus the time every process may take to notice
the retirement. Then it drops out of the JWKS, and `jwt_rotate_key` deletes its file.
"""

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, OKPKey, RSAKey
from rest_framework_simplejwt import settings as jwt_settings

from api import clock

PEM_BLOCK = re.compile(rb"-----BEGIN [A-Z ]+-----.+?-----END [A-Z ]+-----\n?", re.DOTALL)
MANIFEST_NAME = "keys.json"
LOCK_NAME = ".lock"

# How each supported algorithm's keys are made and read: the joserfc key class and its size/curve.
KEY_TYPES: dict[str, tuple[type[Key], Any]] = {
    "RS256": (RSAKey, 2048),
    "ES256": (ECKey, "P-256"),
    "EdDSA": (OKPKey, "Ed25519"),
}


@dataclass(frozen=True)
class SigningKey:
    """One key pair (or, for a previous key given as PEM, its public half) and its schedule."""

    kid: str
    algorithm: str
    jwk: Key
    activated_at: dt.datetime
    retired_at: dt.datetime | None = None

    @property
    def can_sign(self) -> bool:
        return self.jwk.private_key is not None

    @property
    def private_key(self) -> Any:
        return self.jwk.private_key

    @property
    def public_key(self) -> Any:
        return self.jwk.public_key

    def signs_at(self, now: dt.datetime) -> bool:
        return (
            self.can_sign
            and self.activated_at <= now
            and (self.retired_at is None or now < self.retired_at)
        )

    def verifies_at(self, now: dt.datetime, *, grace: dt.timedelta) -> bool:
        return self.retired_at is None or now < self.retired_at + grace

    def public_jwk(self) -> dict[str, Any]:
        """The RFC 7517 public JWK, with the kid, algorithm and use that verifiers check."""
        return {
            **self.jwk.as_dict(private=False),
            "kid": self.kid,
            "alg": self.algorithm,
            "use": "sig",
        }


def retirement_grace() -> dt.timedelta:
    """How long a retired key keeps verifying: the longest life of a token it signed, plus the
    time other processes may keep signing with it before they re-read the folder."""
    api = jwt_settings.api_settings
    return (
        api.REFRESH_TOKEN_LIFETIME
        + dt.timedelta(seconds=api.LEEWAY or 0)
        + dt.timedelta(seconds=settings.JWT_KEYS_RELOAD_SECONDS)
    )


@dataclass(frozen=True)
class KeySet:
    """The keys one load found, for the configured algorithm only (RFC 8725 section 3.1)."""

    keys: tuple[SigningKey, ...]

    def signing_key(self, *, now: dt.datetime) -> SigningKey:
        """The most recently activated key that signs at `now`."""
        signing = [key for key in self.keys if key.signs_at(now)]
        if not signing:
            raise ImproperlyConfigured(
                "No JWT signing key is active: run `manage.py jwt_rotate_key` to make one."
            )
        return max(signing, key=lambda key: key.activated_at)

    def verifying_key(self, kid: str, *, now: dt.datetime) -> SigningKey | None:
        grace = retirement_grace()
        for key in self.keys:
            if key.kid == kid and key.verifies_at(now, grace=grace):
                return key
        return None

    def published(self, *, now: dt.datetime) -> list[SigningKey]:
        """Every key that verifies at `now`, including one scheduled to start signing later."""
        grace = retirement_grace()
        return [key for key in self.keys if key.verifies_at(now, grace=grace)]


def key_generate(*, algorithm: str) -> Key:
    """A new private key for `algorithm`."""
    key_class, size = key_type(algorithm)
    return key_class.generate_key(size, private=True)


def key_type(algorithm: str) -> tuple[type[Key], Any]:
    try:
        return KEY_TYPES[algorithm]
    except KeyError:
        raise ImproperlyConfigured(
            f"SIMPLE_JWT['ALGORITHM'] must be one of {', '.join(KEY_TYPES)}, not {algorithm!r}."
        ) from None


def key_from_pem(pem: bytes, *, algorithm: str) -> Key:
    key_class, size = key_type(algorithm)
    try:
        key = key_class.import_key(pem)
    except (JoseError, ValueError, TypeError) as error:
        raise ImproperlyConfigured(f"A JWT key is not a usable {algorithm} key: {error}") from None
    if key_class is RSAKey and key.public_key.key_size < size:
        raise ImproperlyConfigured(f"RSA signing keys must have at least {size} bits.")
    if key_class is not RSAKey and key.dict_value.get("crv") != size:
        raise ImproperlyConfigured(f"{algorithm} signing keys must use the {size} curve.")
    return key


class FolderSource:
    """Keys in a folder: `<kid>.pem` private keys and the `keys.json` schedule."""

    def __init__(self, directory: Path, *, generate_missing: bool) -> None:
        self.directory = directory
        self.generate_missing = generate_missing

    @property
    def manifest_path(self) -> Path:
        return self.directory / MANIFEST_NAME

    def fingerprint(self) -> tuple[int, int, int] | None:
        """Changes whenever the manifest is replaced; None while there is none."""
        try:
            stat = self.manifest_path.stat()
        except FileNotFoundError:
            return None
        return (stat.st_ino, stat.st_mtime_ns, stat.st_size)

    def load(self, *, algorithm: str) -> KeySet:
        if self.fingerprint() is None:
            if not self.generate_missing:
                raise ImproperlyConfigured(
                    f"No JWT signing keys in {self.directory}: run `manage.py jwt_rotate_key`."
                )
            with folder_lock(self.directory):
                if self.fingerprint() is None:
                    folder_key_rotate(
                        directory=self.directory, algorithm=algorithm, now=clock.now()
                    )
        entries = manifest_read(self.directory)
        keys = []
        for entry in entries:
            if entry["alg"] != algorithm:
                continue
            pem = (self.directory / f"{entry['kid']}.pem").read_bytes()
            jwk = key_from_pem(pem, algorithm=algorithm)
            if jwk.thumbprint() != entry["kid"]:
                raise ImproperlyConfigured(
                    f"{self.directory / entry['kid']}.pem does not hold the key its name says."
                )
            keys.append(
                SigningKey(
                    kid=entry["kid"],
                    algorithm=algorithm,
                    jwk=jwk,
                    activated_at=dt.datetime.fromisoformat(entry["activated_at"]),
                    retired_at=(
                        dt.datetime.fromisoformat(entry["retired_at"])
                        if entry["retired_at"]
                        else None
                    ),
                )
            )
        return KeySet(keys=tuple(keys))


class PemSource:
    """One signing key from the environment, plus previous public keys still to verify.

    Rotation here is the operator's: put the new private key in JWT_SIGNING_KEY_PEM and the old
    public key in JWT_PREVIOUS_PUBLIC_KEYS_PEM, then remove it once the refresh lifetime has passed.
    """

    def __init__(self, signing_pem: str, previous_pems: str) -> None:
        self.signing_pem = signing_pem
        self.previous_pems = previous_pems

    def fingerprint(self) -> tuple[str, str]:
        return (self.signing_pem, self.previous_pems)

    def load(self, *, algorithm: str) -> KeySet:
        since = dt.datetime.min.replace(tzinfo=dt.UTC)
        signing = key_from_pem(pem_text(self.signing_pem), algorithm=algorithm)
        keys = [SigningKey(signing.thumbprint(), algorithm, signing, activated_at=since)]
        for block in pem_blocks(self.previous_pems):
            previous = key_from_pem(block, algorithm=algorithm)
            public = previous.import_key(previous.as_pem(private=False))
            keys.append(SigningKey(public.thumbprint(), algorithm, public, activated_at=since))
        return KeySet(keys=tuple(keys))


def pem_text(value: str) -> bytes:
    """A PEM from an environment variable, where line breaks are often written as a literal \\n."""
    return value.replace("\\n", "\n").strip().encode() + b"\n"


def pem_blocks(value: str) -> list[bytes]:
    """Each PEM block of a variable that may hold several, one after another."""
    return PEM_BLOCK.findall(pem_text(value)) if value.strip() else []


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


def key_source() -> FolderSource | PemSource:
    if settings.JWT_SIGNING_KEY_PEM:
        return PemSource(settings.JWT_SIGNING_KEY_PEM, settings.JWT_PREVIOUS_PUBLIC_KEYS_PEM)
    if not settings.JWT_SIGNING_KEYS_DIR:
        raise ImproperlyConfigured("Set JWT_SIGNING_KEYS_DIR or JWT_SIGNING_KEY_PEM.")
    return FolderSource(
        Path(settings.JWT_SIGNING_KEYS_DIR),
        generate_missing=settings.JWT_GENERATE_MISSING_KEYS,
    )


def jwks_document(*, now: dt.datetime | None = None) -> dict[str, list[dict[str, Any]]]:
    """The JWK Set (RFC 7517 section 5) of every key that verifies now, newest first."""
    keys = key_store().key_set().published(now=now or clock.now())
    keys.sort(key=lambda key: key.activated_at, reverse=True)
    return {"keys": [key.public_jwk() for key in keys]}


@contextlib.contextmanager
def folder_lock(directory: Path) -> Iterator[None]:
    """Serialise key changes between processes sharing the folder (an advisory POSIX lock)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    with (directory / LOCK_NAME).open("a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def manifest_read(directory: Path) -> list[dict[str, Any]]:
    try:
        return json.loads((directory / MANIFEST_NAME).read_text())["keys"]
    except FileNotFoundError:
        return []


def file_write_atomically(path: Path, content: bytes) -> None:
    """Write to a temporary file beside `path`, then rename it: readers see old or new, whole."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


@dataclass(frozen=True)
class Rotation:
    """What `folder_key_rotate` did: the new key, the keys it retired and the ones it deleted."""

    new_key: SigningKey
    retired: list[str]
    deleted: list[str]


def folder_key_rotate(
    *,
    directory: Path,
    algorithm: str,
    now: dt.datetime,
    activate_in: dt.timedelta = dt.timedelta(0),
) -> Rotation:
    """Add a new signing key that takes over at `now + activate_in`; retire the others then;
    delete the keys whose last token has expired. Call with the folder lock held or alone.

    Activating later than now lets verifiers that cache the JWKS (for JWKS_MAX_AGE) fetch the new
    key before any token carries it.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    entries = manifest_read(directory)
    jwk = key_generate(algorithm=algorithm)
    new_key = SigningKey(
        kid=jwk.thumbprint(), algorithm=algorithm, jwk=jwk, activated_at=now + activate_in
    )
    file_write_atomically(directory / f"{new_key.kid}.pem", jwk.as_pem(private=True))

    grace = retirement_grace()
    kept, retired, deleted = [], [], []
    for entry in entries:
        if entry["retired_at"] is None:
            entry = {**entry, "retired_at": new_key.activated_at.isoformat()}
            retired.append(entry["kid"])
        if dt.datetime.fromisoformat(entry["retired_at"]) + grace <= now:
            deleted.append(entry["kid"])
        else:
            kept.append(entry)
    kept.append(
        {
            "kid": new_key.kid,
            "alg": algorithm,
            "activated_at": new_key.activated_at.isoformat(),
            "retired_at": None,
        }
    )
    manifest = json.dumps({"keys": kept}, indent=2).encode() + b"\n"
    file_write_atomically(directory / MANIFEST_NAME, manifest)
    for kid in deleted:
        with contextlib.suppress(FileNotFoundError):
            (directory / f"{kid}.pem").unlink()
    return Rotation(new_key=new_key, retired=retired, deleted=deleted)
