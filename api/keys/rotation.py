"""Rotation in the key folder: a new signing key, the others retired, expired ones deleted."""

import contextlib
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from api.keys.folder import MANIFEST_NAME, file_write_atomically, manifest_read
from api.keys.material import SigningKey, key_generate, retirement_grace


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
