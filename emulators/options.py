"""The settings one emulator process runs with."""

from dataclasses import dataclass

DEFAULT_SLOW_SECONDS = 3.0
# RFC 6749 §4.1.2 recommends at most ten minutes for an authorization code.
DEFAULT_CODE_LIFETIME_SECONDS = 600.0


@dataclass(frozen=True)
class Options:
    """`public_url` is the base URL (no trailing slash) put in links, issuers and discovery."""

    public_url: str
    slow_seconds: float = DEFAULT_SLOW_SECONDS
    code_lifetime_seconds: float = DEFAULT_CODE_LIFETIME_SECONDS
