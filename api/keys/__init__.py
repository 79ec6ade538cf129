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

- `material`: keys of the supported algorithms, made or read from PEM, and their schedule;
- `folder`: the key folder on disk (its lock, its manifest, files replaced whole);
- `sources`: where the keys come from (the folder, or PEM from the environment);
- `store`: what this process holds, and when it re-reads its source;
- `rotation`: a new key in the folder, the old ones retired (`manage.py jwt_rotate_key`);
- `jwks`: the published JWK Set.

What serving code asks of the keys, `key_store` and `jwks_document`, is importable from here too.
"""

from api.keys.jwks import jwks_document
from api.keys.store import key_store

__all__ = ["jwks_document", "key_store"]
