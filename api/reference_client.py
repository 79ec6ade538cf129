"""The reference command-line client: signs in with the device grant and calls the API.

    python -m api.reference_client login    # shows a code and a URL; approve it in a browser
                                            # (--dpop: bind the tokens to a key of its own)
    python -m api.reference_client me       # GET /api/me/ with the access token (refreshed if due)
    python -m api.reference_client logout   # revokes the tokens (RFC 7009) and forgets them

With `login --dpop` the tokens are bound to a key the client makes (an EC P-256 key, kept in the
tokens file): every token request and API call then carries a DPoP proof signed with it (RFC
9449; `cryptography` signs), so the tokens are worth nothing to whoever copies them without it.

The server's URL comes from --server or SIGNIN_LAB_URL (default http://127.0.0.1:8000). Everything
else is discovered from its RFC 8414 metadata. The tokens are kept in a file only its owner can
read (--tokens, default ~/.config/signin-lab/tokens.json). Standard library only (`cryptography`
for DPoP), and nothing from this project: it is what any app would write against the published
endpoints, as the built-in public client `signin-lab-cli`.
"""

import argparse
import base64
import hashlib
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

CLIENT_ID = "signin-lab-cli"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_SERVER = "http://127.0.0.1:8000"
DEFAULT_TOKENS = Path.home() / ".config" / "signin-lab" / "tokens.json"
TIMEOUT = 10
# Refresh the access token when it has less than this left.
REFRESH_MARGIN_SECONDS = 10


class ClientError(Exception):
    """Something to tell the person, then exit 1."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class DpopKey:
    """The client's DPoP key (EC P-256, ES256) and the server's latest nonce (RFC 9449)."""

    def __init__(self, private_pem: bytes | None = None) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        self.key = (
            serialization.load_pem_private_key(private_pem, password=None)
            if private_pem
            else ec.generate_private_key(ec.SECP256R1())
        )
        self.nonce: str | None = None

    def pem(self) -> str:
        from cryptography.hazmat.primitives import serialization

        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")

    def proof(self, method: str, url: str, token: str | None = None) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        numbers = self.key.public_key().public_numbers()
        jwk = {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url(numbers.x.to_bytes(32, "big")),
            "y": b64url(numbers.y.to_bytes(32, "big")),
        }
        claims = {
            "jti": secrets.token_urlsafe(16),
            "htm": method,
            "htu": url.split("?", 1)[0].split("#", 1)[0],
            "iat": int(time.time()),
        }
        if token is not None:
            claims["ath"] = b64url(hashlib.sha256(token.encode("ascii")).digest())
        if self.nonce is not None:
            claims["nonce"] = self.nonce
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}
        signing_input = ".".join(b64url(json.dumps(part).encode()) for part in (header, claims))
        der = self.key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def request(
    url: str,
    *,
    form: dict[str, str] | None = None,
    body: Any = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    method: str | None = None,
    dpop: DpopKey | None = None,
) -> Any:
    """The JSON answer of a GET (or a form POST, or a JSON `body` POST); an error answer as
    OAuthAnswer. With `dpop`, the request carries a proof (and the token goes with the DPoP
    scheme); a `use_dpop_nonce` answer is retried once with the nonce it names."""
    if urllib.parse.urlsplit(url).scheme not in {"http", "https"}:
        raise ClientError(f"Not an http(s) URL: {url}")
    headers = {"Accept": "application/json", **(headers or {})}
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    verb = method or ("POST" if data is not None else "GET")
    if token is not None:
        headers["Authorization"] = f"{'DPoP' if dpop else 'Bearer'} {token}"
    for attempt in range(2):
        if dpop is not None:
            headers["DPoP"] = dpop.proof(verb, url, token)
        answer, nonce = _send(url, data=data, headers=headers, method=verb)
        if dpop is None:
            return answer
        dpop.nonce = nonce or dpop.nonce
        if not (attempt == 0 and nonce and _error_code(answer) == "use_dpop_nonce"):
            return answer
    return answer


def _error_code(answer: Any) -> str | None:
    return answer.error if isinstance(answer, OAuthAnswer) else None


def _send(url: str, *, data: bytes | None, headers: dict[str, str], method: str) -> tuple:
    try:
        outgoing = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310 -- http(s) only
        with urllib.request.urlopen(outgoing, timeout=TIMEOUT) as response:  # noqa: S310
            return json.load(response), response.headers.get("DPoP-Nonce")
    except urllib.error.HTTPError as error:
        nonce = error.headers.get("DPoP-Nonce")
        try:
            body = json.load(error)
        except ValueError:
            raise ClientError(f"{url} answered HTTP {error.code}") from None
        return OAuthAnswer(status=error.code, body=body), nonce
    except (urllib.error.URLError, TimeoutError) as error:
        raise ClientError(f"Cannot reach {url}: {error}") from None


class OAuthAnswer:
    """An error answer: the status and its JSON body."""

    def __init__(self, *, status: int, body: Any) -> None:
        self.status = status
        self.body = body

    @property
    def error(self) -> str:
        """The error code: OAuth's `error`, this API's `error.code`, or allauth headless's
        first `errors[].code`."""
        body = self.body if isinstance(self.body, dict) else {}
        error = body.get("error")
        if isinstance(error, str):
            return error
        if isinstance(error, dict):
            return error.get("code", "unknown")
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return errors[0].get("code", "unknown")
        return "unknown"


def metadata(server: str) -> dict[str, Any]:
    answer = request(server.rstrip("/") + "/.well-known/oauth-authorization-server")
    if isinstance(answer, OAuthAnswer):
        raise ClientError(f"{server} publishes no OAuth metadata (HTTP {answer.status})")
    return answer


def tokens_save(path: Path, tokens: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump(tokens, file)


def tokens_load(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ClientError("Not signed in: run `login` first.") from None


def with_expiry(answer: dict[str, Any]) -> dict[str, Any]:
    return {**answer, "expires_at": time.time() + int(answer["expires_in"])}


def dpop_key(tokens: dict[str, Any]) -> DpopKey | None:
    """The DPoP key the tokens are bound to, if `login --dpop` made one."""
    pem = tokens.get("dpop_key")
    return DpopKey(pem.encode("ascii")) if pem else None


def login(server: str, path: Path, out: Any = sys.stdout, *, dpop: bool = False) -> dict[str, Any]:
    """RFC 8628: ask for a code, show it, poll until the person answers. With `dpop`, the
    tokens are bound to a new key of this client's (RFC 9449)."""
    key = DpopKey() if dpop else None
    meta = metadata(server)
    started = request(meta["device_authorization_endpoint"], form={"client_id": CLIENT_ID})
    if isinstance(started, OAuthAnswer):
        raise ClientError(f"The server refused to start: {started.error}")
    print(
        f"Open {started['verification_uri']} and enter the code {started['user_code']}\n"
        f"(or open {started['verification_uri_complete']}). Waiting for your answer...",
        file=out,
        flush=True,
    )
    interval = int(started.get("interval", 5))
    deadline = time.monotonic() + int(started["expires_in"])
    while time.monotonic() < deadline:
        time.sleep(interval)
        answer = request(
            meta["token_endpoint"],
            form={
                "grant_type": DEVICE_GRANT,
                "device_code": started["device_code"],
                "client_id": CLIENT_ID,
            },
            dpop=key,
        )
        if not isinstance(answer, OAuthAnswer):
            tokens = {"server": server, **with_expiry(answer)}
            if key is not None:
                tokens["dpop_key"] = key.pem()
            tokens_save(path, tokens)
            print("Signed in.", file=out)
            return tokens
        if answer.error == "authorization_pending":
            continue
        if answer.error == "slow_down":
            interval += 5  # RFC 8628 section 3.5
            continue
        if answer.error == "access_denied":
            raise ClientError("You denied the request.")
        if answer.error == "expired_token":
            raise ClientError("The code expired: run `login` again.")
        raise ClientError(f"The server answered {answer.error}")
    raise ClientError("The code expired: run `login` again.")


def refresh(tokens: dict[str, Any], path: Path) -> dict[str, Any]:
    meta = metadata(tokens["server"])
    answer = request(
        meta["token_endpoint"],
        form={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": CLIENT_ID,
        },
        dpop=dpop_key(tokens),
    )
    if isinstance(answer, OAuthAnswer):
        raise ClientError(f"Signed out ({answer.error}): run `login` again.")
    kept = {"dpop_key": tokens["dpop_key"]} if "dpop_key" in tokens else {}
    tokens = {"server": tokens["server"], **with_expiry(answer), **kept}
    tokens_save(path, tokens)
    return tokens


def me(path: Path, out: Any = sys.stdout) -> dict[str, Any]:
    tokens = tokens_load(path)
    if tokens["expires_at"] - time.time() < REFRESH_MARGIN_SECONDS:
        tokens = refresh(tokens, path)
    answer = request(
        tokens["server"].rstrip("/") + "/api/me/",
        token=tokens["access_token"],
        dpop=dpop_key(tokens),
    )
    if isinstance(answer, OAuthAnswer):
        raise ClientError(f"The API refused the token: {answer.error}")
    print(json.dumps(answer, indent=2), file=out)
    return answer


def logout(path: Path, out: Any = sys.stdout) -> None:
    tokens = tokens_load(path)
    meta = metadata(tokens["server"])
    answer = request(
        meta["revocation_endpoint"],
        form={
            "token": tokens["refresh_token"],
            "token_type_hint": "refresh_token",
            "client_id": CLIENT_ID,
        },
    )
    if isinstance(answer, OAuthAnswer):
        raise ClientError(f"The server refused to revoke: {answer.error}")
    path.unlink()
    print("Signed out: the tokens are revoked.", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m api.reference_client", description=__doc__.split("\n")[0]
    )
    parser.add_argument("command", choices=["login", "me", "logout"])
    parser.add_argument("--server", default=os.environ.get("SIGNIN_LAB_URL", DEFAULT_SERVER))
    parser.add_argument("--tokens", type=Path, default=DEFAULT_TOKENS)
    parser.add_argument(
        "--dpop", action="store_true", help="login: bind the tokens to a key of this client's"
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "login":
            login(args.server, args.tokens, dpop=args.dpop)
        elif args.command == "me":
            me(args.tokens)
        else:
            logout(args.tokens)
    except ClientError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
