"""The reference app: signs in the way a mobile or desktop app does, then calls the API.

    python -m api.reference_app login --provider github   # the provider's page opens in a browser
                                                          # (--dpop: bind the tokens to a key)
    python -m api.reference_app me                        # GET /api/me/ (refreshed when refused)
    python -m api.reference_app logout                    # revokes the tokens, ends the session

The app runs the provider's own sign-in as a native app does (RFC 8252): the browser opens the
provider's authorization page (PKCE S256, a `state`), which sends the person back to a loopback
address this program listens on (127.0.0.1, on a port it picks); it exchanges the code at the
provider for the provider's token (Google's ID token, or a GitHub access token) and hands that to
the site's allauth headless API (POST /_allauth/app/v1/auth/provider/token), which answers with
the site's own token pair. With an authenticator on the account, it asks for the code too. With
`login --dpop` the app makes a key of its own (as api.reference_client does) and every sign-in,
refresh and API call carries a DPoP proof signed with it: the site's tokens are bound to the key.

The app's own client id and secret at the provider come from --client-id and --client-secret
(or SIGNIN_LAB_APP_CLIENT_ID and SIGNIN_LAB_APP_CLIENT_SECRET). Against `make run`'s emulators
(--emulator, default http://localhost:8001) the app is `signin-lab-<provider>-app-emulator`, its
secret the development one in var/emulator_client_secret; `--emulator ""` talks to github.com
and Google. Standard library only (api.reference_client's HTTP helpers); tokens are kept in a
file only its owner can read (--tokens).
"""

import argparse
import base64
import hashlib
import http.server
import json
import os
import secrets
import sys
import threading
import urllib.parse
import webbrowser
from pathlib import Path
from typing import Any

from api.reference_client import (
    DEFAULT_SERVER,
    ClientError,
    DpopKey,
    OAuthAnswer,
    dpop_key,
    request,
    tokens_load,
    tokens_save,
)

DEFAULT_EMULATOR = "http://localhost:8001"
DEFAULT_TOKENS = Path.home() / ".config" / "signin-lab" / "app-tokens.json"
REDIRECT_PATH = "/oauth2redirect"
# How long the person has to finish at the provider.
SIGN_IN_SECONDS = 300
HEADLESS = "/_allauth/app/v1"
# (authorization endpoint, token endpoint, scope): the real provider's, or under the emulator.
PROVIDERS = {
    "github": (
        "https://github.com/login/oauth/authorize",
        "https://github.com/login/oauth/access_token",
        "read:user user:email",
    ),
    "google": (
        "https://accounts.google.com/o/oauth2/v2/auth",
        "https://oauth2.googleapis.com/token",
        "openid email profile",
    ),
}
EMULATED = {
    "github": ("/github/login/oauth/authorize", "/github/login/oauth/access_token"),
    "google": ("/google/o/oauth2/v2/auth", "/google/token"),
}


def endpoints(provider: str, emulator: str) -> tuple[str, str, str]:
    authorize, token, scope = PROVIDERS[provider]
    if emulator:
        base = emulator.rstrip("/")
        authorize, token = (base + path for path in EMULATED[provider])
    return authorize, token, scope


class _Redirect(http.server.BaseHTTPRequestHandler):
    """The loopback redirect: keeps the query of the first GET to REDIRECT_PATH."""

    def do_GET(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        if parts.path != REDIRECT_PATH:
            self.send_error(404)
            return
        self.server.answer = dict(urllib.parse.parse_qsl(parts.query))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.end_headers()
        self.wfile.write(b"Signed in at the provider: you may close this window.\n")

    def log_message(self, *args: Any) -> None:  # the terminal shows only what matters
        pass


def provider_sign_in(
    provider: str, *, client_id: str, client_secret: str, emulator: str, out: Any, browser: bool
) -> dict[str, Any]:
    """The provider's token response, after the person signed in there."""
    authorize, token_url, scope = endpoints(provider, emulator)
    verifier = secrets.token_urlsafe(64)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    state = secrets.token_urlsafe(16)
    server = http.server.HTTPServer(("127.0.0.1", 0), _Redirect)
    server.answer = None  # type: ignore[attr-defined]
    redirect_uri = f"http://127.0.0.1:{server.server_port}{REDIRECT_PATH}"
    params = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "response_type": "code",
    }
    url = f"{authorize}?{urllib.parse.urlencode(params)}"
    print(f"Sign in at {provider} in your browser:\n{url}", file=out, flush=True)
    if browser:
        webbrowser.open(url)
    waiting = threading.Thread(target=server.handle_request, daemon=True)
    server.timeout = SIGN_IN_SECONDS
    waiting.start()
    waiting.join(SIGN_IN_SECONDS + 1)
    server.server_close()
    answer = server.answer  # type: ignore[attr-defined]
    if not answer:
        raise ClientError("No answer from the provider in time: run `login` again.")
    if not secrets.compare_digest(answer.get("state", ""), state):
        raise ClientError("The provider's answer carried another state: refused.")
    if "error" in answer:
        raise ClientError(f"The provider refused: {answer['error']}")
    tokens = request(
        token_url,
        form={
            "grant_type": "authorization_code",
            "code": answer.get("code", ""),
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "client_secret": client_secret,
            "code_verifier": verifier,
        },
    )
    if isinstance(tokens, OAuthAnswer) or "error" in tokens:
        raise ClientError("The provider would not exchange the code.")
    return tokens


def allauth_errors(answer: OAuthAnswer) -> str:
    errors = answer.body.get("errors", []) if isinstance(answer.body, dict) else []
    return ", ".join(str(error.get("code", error.get("message"))) for error in errors) or str(
        answer.status
    )


def login(
    server: str,
    path: Path,
    *,
    provider: str,
    client_id: str,
    client_secret: str,
    emulator: str,
    out: Any = sys.stdout,
    browser: bool = True,
    dpop: bool = False,
) -> dict[str, Any]:
    """Sign in at the provider, hand its token to the site, keep the site's token pair (bound
    to a key of the app's own with `dpop`)."""
    given = provider_sign_in(
        provider,
        client_id=client_id,
        client_secret=client_secret,
        emulator=emulator,
        out=out,
        browser=browser,
    )
    kind = "id_token" if provider == "google" else "access_token"
    if not given.get(kind):
        raise ClientError(f"The provider gave no {kind}.")
    base = server.rstrip("/") + HEADLESS
    key = DpopKey() if dpop else None
    answer = request(
        f"{base}/auth/provider/token",
        body={
            "provider": provider,
            "process": "login",
            "token": {"client_id": client_id, kind: given[kind]},
        },
        dpop=key,
    )
    if isinstance(answer, OAuthAnswer) and answer.status == 401:
        answer = second_factor(base, answer, key)
    if isinstance(answer, OAuthAnswer):
        raise ClientError(f"The site refused the sign-in: {allauth_errors(answer)}")
    meta = answer["meta"]
    tokens = {
        "server": server,
        "session_token": meta["session_token"],
        "access_token": meta["access_token"],
        "refresh_token": meta["refresh_token"],
    }
    if key is not None:
        tokens["dpop_key"] = key.pem()
    tokens_save(path, tokens)
    print(
        "Signed in." + (" The tokens are bound to this app's key (DPoP)." if key else ""), file=out
    )
    return tokens


def second_factor(base: str, answer: OAuthAnswer, key: DpopKey | None) -> Any:
    """allauth asks for the authenticator's code before it signs the person in."""
    body = answer.body if isinstance(answer.body, dict) else {}
    pending = [
        flow["id"] for flow in body.get("data", {}).get("flows", []) if flow.get("is_pending")
    ]
    session_token = body.get("meta", {}).get("session_token")
    if pending != ["mfa_authenticate"] or not session_token:
        return answer
    code = input("Authenticator code: ").strip()
    return request(
        f"{base}/auth/2fa/authenticate",
        body={"code": code},
        headers={"X-Session-Token": session_token},
        dpop=key,
    )


def refresh(tokens: dict[str, Any], path: Path) -> dict[str, Any]:
    answer = request(
        tokens["server"].rstrip("/") + f"{HEADLESS}/tokens/refresh",
        body={"refresh_token": tokens["refresh_token"]},
        dpop=dpop_key(tokens),
    )
    if isinstance(answer, OAuthAnswer):
        raise ClientError("Signed out: run `login` again.")
    data = answer["data"]
    tokens = {**tokens, "access_token": data["access_token"]}
    tokens["refresh_token"] = data.get("refresh_token") or tokens["refresh_token"]
    tokens_save(path, tokens)
    return tokens


def me(path: Path, out: Any = sys.stdout) -> Any:
    tokens = tokens_load(path)
    url = tokens["server"].rstrip("/") + "/api/me/"
    key = dpop_key(tokens)
    answer = request(url, token=tokens["access_token"], dpop=key)
    if isinstance(answer, OAuthAnswer) and answer.status == 401:
        answer = request(url, token=refresh(tokens, path)["access_token"], dpop=key)
    if isinstance(answer, OAuthAnswer):
        raise ClientError(f"The API refused the token: {answer.error}")
    print(json.dumps(answer, indent=2), file=out)
    return answer


def logout(path: Path, out: Any = sys.stdout) -> None:
    """Revoke the token family, end allauth's session, forget both."""
    tokens = tokens_load(path)
    server = tokens["server"].rstrip("/")
    answer = request(f"{server}/api/auth/token/revoke/", body={"token": tokens["refresh_token"]})
    if isinstance(answer, OAuthAnswer):
        raise ClientError(f"The server refused to revoke: {answer.error}")
    ended = request(
        f"{server}{HEADLESS}/auth/session",
        headers={"X-Session-Token": tokens["session_token"]},
        method="DELETE",
    )
    path.unlink()
    if isinstance(ended, OAuthAnswer) and ended.status not in (401, 410):
        raise ClientError("The tokens are revoked, but the session did not end.")
    print("Signed out: the tokens are revoked and the session ended.", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m api.reference_app", description=__doc__.split("\n")[0]
    )
    parser.add_argument("command", choices=["login", "me", "logout"])
    parser.add_argument("--provider", choices=sorted(PROVIDERS), default="github")
    parser.add_argument("--server", default=os.environ.get("SIGNIN_LAB_URL", DEFAULT_SERVER))
    parser.add_argument(
        "--emulator", default=os.environ.get("SIGNIN_LAB_EMULATOR_URL", DEFAULT_EMULATOR)
    )
    parser.add_argument("--client-id", default=os.environ.get("SIGNIN_LAB_APP_CLIENT_ID", ""))
    parser.add_argument(
        "--client-secret", default=os.environ.get("SIGNIN_LAB_APP_CLIENT_SECRET", "")
    )
    parser.add_argument("--tokens", type=Path, default=DEFAULT_TOKENS)
    parser.add_argument("--no-browser", action="store_true", help="only print the URL")
    parser.add_argument(
        "--dpop", action="store_true", help="login: bind the tokens to a key of this app's"
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "login":
            client_id = args.client_id or f"signin-lab-{args.provider}-app-emulator"
            login(
                args.server,
                args.tokens,
                provider=args.provider,
                client_id=client_id,
                client_secret=args.client_secret,
                emulator=args.emulator,
                browser=not args.no_browser,
                dpop=args.dpop,
            )
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
