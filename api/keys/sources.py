"""Where the keys come from: the key folder, or one PEM from the environment with previous ones."""

import datetime as dt
import re
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from api import clock
from api.keys.folder import MANIFEST_NAME, folder_lock, manifest_read
from api.keys.material import KeySet, SigningKey, key_from_pem
from api.keys.rotation import folder_key_rotate

PEM_BLOCK = re.compile(rb"-----BEGIN [A-Z ]+-----.+?-----END [A-Z ]+-----\n?", re.DOTALL)


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


def key_source() -> FolderSource | PemSource:
    if settings.JWT_SIGNING_KEY_PEM:
        return PemSource(settings.JWT_SIGNING_KEY_PEM, settings.JWT_PREVIOUS_PUBLIC_KEYS_PEM)
    if not settings.JWT_SIGNING_KEYS_DIR:
        raise ImproperlyConfigured("Set JWT_SIGNING_KEYS_DIR or JWT_SIGNING_KEY_PEM.")
    return FolderSource(
        Path(settings.JWT_SIGNING_KEYS_DIR),
        generate_missing=settings.JWT_GENERATE_MISSING_KEYS,
    )
