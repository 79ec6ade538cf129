"""The comparison page's live facts and demonstrations: the same person, authenticated two ways.

Every value comes from this server as it runs: the visitor's own session cookie and record, and
the demo token they made (kept in their server-side session). Each demonstration is a real
request to the API (compare.api_request), handled in process by the same middleware and views as
any client's: the page shows the status, the JSON body and the challenge the API answered.

Only a POST mints a token: showing the page reads the demo token the visitor already holds.
"""

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from http import HTTPStatus
from importlib import import_module
from typing import Any, TypedDict

import jwt
from allauth.usersessions.models import UserSession
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.http import HttpRequest
from django.urls import reverse
from joserfc import jws
from joserfc.jwk import ECKey
from rest_framework_simplejwt import settings as jwt_settings

from accounts.backends import USER_STATE_SECONDS
from accounts.flow_recording import jwt_parts_unverified
from api import clock, dpop, services
from api.keys import jwks_document, key_store
from compare.api_request import ApiAnswer, api_request
from compare.measurements import session_create

DEMO_TOKEN_SESSION_KEY = "compare.demo_token"  # noqa: S105 -- a key name

CLAIM_MEANINGS = {
    "token_type": "access or refresh: an access token is refused where a refresh token goes",
    "exp": "expires: after this instant every verifier refuses it, with no call to us",
    "iat": "issued at: revoke-all refuses every token issued before that instant",
    "jti": "the token's own id: revoking this one token marks this id",
    "sub": "subject: the id of the user this token speaks for",
    "fid": "family: every token from one sign-in; revoking the family revokes them all",
    "iss": "issuer: who signed it; verifiers accept only the issuer they expect",
    "aud": "audience: who it is for; another API must refuse it",
}
HEADER_MEANINGS = {
    "alg": "the signature algorithm; verifiers accept only the one they are configured for",
    "kid": "which of our published keys signed it (RFC 7638 thumbprint)",
    "typ": "the token type (RFC 9068 at+jwt): an access token, not an ID token or a refresh",
}
TIME_CLAIMS = {"exp", "iat", "nbf"}


def b64url_json(part: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def b64url(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass(frozen=True)
class SessionFacts:
    cookie_name: str
    cookie_bytes: int
    http_only: bool
    secure: bool
    same_site: str
    expires_at: dt.datetime
    expires_at_browser_close: bool
    engine: str
    # Django's database engine (development's default), not the shared cache (production's).
    in_database: bool
    key_preview: str
    stored_keys: list[str]
    record_bytes: int
    device: UserSession | None


def session_facts(*, request: HttpRequest) -> SessionFacts:
    """The visitor's session: what the cookie holds, and the server-side record it points to."""
    session = request.session
    value = request.COOKIES.get(settings.SESSION_COOKIE_NAME, session.session_key or "")
    return SessionFacts(
        cookie_name=settings.SESSION_COOKIE_NAME,
        cookie_bytes=len(f"{settings.SESSION_COOKIE_NAME}={value}".encode()),
        http_only=settings.SESSION_COOKIE_HTTPONLY,
        secure=settings.SESSION_COOKIE_SECURE,
        same_site=str(settings.SESSION_COOKIE_SAMESITE),
        expires_at=session.get_expiry_date(),
        expires_at_browser_close=session.get_expire_at_browser_close(),
        engine=settings.SESSION_ENGINE.rsplit(".", 1)[-1],
        in_database=issubclass(
            import_module(settings.SESSION_ENGINE).SessionStore, DatabaseSessionStore
        ),
        key_preview=f"{value[:4]}…",
        stored_keys=sorted(session.keys()),
        record_bytes=len(session.encode(dict(session.items())).encode()),
        device=UserSession.objects.filter(session_key=session.session_key).first(),
    )


@dataclass(frozen=True)
class Claim:
    name: str
    value: Any
    readable: str
    meaning: str


@dataclass(frozen=True)
class JwtFacts:
    token: str
    encrypted: str | None
    header: list[Claim]
    claims: list[Claim]
    payload: dict[str, Any]
    algorithm: str
    kid: str
    bytes: int
    encrypted_bytes: int | None
    expires_in_seconds: int
    public_jwk: dict[str, Any] | None

    @property
    def parts(self) -> list[str]:
        return self.token.split(".")


# A held token this close to its expiry counts as expired: a demonstration must not see it expire.
DEMO_TOKEN_MARGIN_SECONDS = 5


class DemoToken(TypedDict):
    """The visitor's demo token as their session keeps it: one access token, in both forms."""

    signed: str
    # None without an encryption key.
    encrypted: str | None


def demo_token_held(*, request: HttpRequest) -> DemoToken | None:
    """The visitor's demo token (signed and encrypted forms), if they made one that has not
    expired; None otherwise. Reads only: showing the page never mints a token."""
    held = request.session.get(DEMO_TOKEN_SESSION_KEY)
    if held is None:
        return None
    expires_at = b64url_json(held["signed"].split(".")[1])["exp"]
    return held if expires_at > clock.now().timestamp() + DEMO_TOKEN_MARGIN_SECONDS else None


def demo_token(*, request: HttpRequest) -> DemoToken:
    """The visitor's demo token, minted (one token family) when they hold none: POST only.

    It lives in the visitor's own server-side session, like the provider token of the profile.
    """
    held = demo_token_held(request=request)
    if held is not None:
        return held
    forms = services.access_token_forms_issue(user=request.user, name="Comparison page")
    held = DemoToken(signed=forms.signed, encrypted=forms.encrypted)
    request.session[DEMO_TOKEN_SESSION_KEY] = held
    return held


def _readable(name: str, value: Any) -> str:
    if name in TIME_CLAIMS and isinstance(value, int):
        return dt.datetime.fromtimestamp(value, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return json.dumps(value)


def jwt_facts(*, held: DemoToken) -> JwtFacts:
    """The demo token `held`, decoded and explained."""
    token, encrypted = held["signed"], held["encrypted"]
    header_part, payload_part, _ = token.split(".")
    header, payload = b64url_json(header_part), b64url_json(payload_part)
    jwks = {key["kid"]: key for key in jwks_document()["keys"]}
    return JwtFacts(
        token=token,
        encrypted=encrypted,
        header=[
            Claim(k, v, _readable(k, v), HEADER_MEANINGS.get(k, "")) for k, v in header.items()
        ],
        claims=[
            Claim(k, v, _readable(k, v), CLAIM_MEANINGS.get(k, "")) for k, v in payload.items()
        ],
        payload=payload,
        algorithm=header["alg"],
        kid=header.get("kid", ""),
        bytes=len(token.encode()),
        encrypted_bytes=len(encrypted.encode()) if encrypted else None,
        expires_in_seconds=max(0, int(payload["exp"] - clock.now().timestamp())),
        public_jwk=jwks.get(header.get("kid")),
    )


@dataclass(frozen=True)
class Lifetimes:
    access: str
    refresh: str
    # How long a signed-in person's user state lives in the shared cache (accounts.backends).
    user_state: str


def _duration(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h" if minutes >= 120 else f"{minutes} min"


def lifetimes() -> Lifetimes:
    api = jwt_settings.api_settings
    return Lifetimes(
        access=_duration(api.ACCESS_TOKEN_LIFETIME),
        refresh=_duration(api.REFRESH_TOKEN_LIFETIME),
        user_state=_duration(dt.timedelta(seconds=USER_STATE_SECONDS)),
    )


def _me_with_session(*, request: HttpRequest, session_key: str) -> ApiAnswer:
    return api_request(
        visitor=request,
        method="GET",
        path=reverse("api-me"),
        cookies={settings.SESSION_COOKIE_NAME: session_key},
    )


def _me_with_bearer(*, request: HttpRequest, token: str) -> ApiAnswer:
    return api_request(
        visitor=request, method="GET", path=reverse("api-me"), authorization=f"Bearer {token}"
    )


@dataclass(frozen=True)
class SessionRevocation:
    before: ApiAnswer
    after: ApiAnswer


def session_revocation_demo(*, request: HttpRequest) -> SessionRevocation:
    """A second session of the visitor (as if signed in on another device) calls /api/me/, is
    signed out, and its very same cookie calls again."""
    session = session_create(user=request.user)
    session_key = session.session_key or ""
    try:
        before = _me_with_session(request=request, session_key=session_key)
    finally:
        # Signed out as the sessions page signs a device out: the record and its row go.
        session.delete()
        UserSession.objects.filter(session_key=session_key).delete()
    after = _me_with_session(request=request, session_key=session_key)
    return SessionRevocation(before=before, after=after)


@dataclass(frozen=True)
class TokenRevocation:
    revoked: bool
    before: ApiAnswer
    revoke: ApiAnswer | None
    after: ApiAnswer
    stateless_still_accepts: bool


def stateless_verify(token: str) -> bool:
    """What a service holding only our JWKS concludes: signature, algorithm, iss, aud, exp."""
    header = jwt.get_unverified_header(token)
    jwk = next((k for k in jwks_document()["keys"] if k["kid"] == header.get("kid")), None)
    if jwk is None:
        return False
    backend = jwt_settings.api_settings
    try:
        jwt.decode(
            token,
            jwt.PyJWK(jwk).key,
            algorithms=[backend.ALGORITHM],
            audience=backend.AUDIENCE,
            issuer=backend.ISSUER,
        )
    except jwt.InvalidTokenError:
        return False
    return True


def token_revocation_demo(*, request: HttpRequest, revoke: bool) -> TokenRevocation:
    """A fresh access token calls /api/me/; revoked at the RFC 7009 endpoint (or not), it calls
    again. A verifier with only the JWKS cannot see the revocation: it still accepts the token
    until it expires."""
    token = services.access_token_forms_issue(user=request.user, name="Revocation demo").signed
    before = _me_with_bearer(request=request, token=token)
    revocation = None
    if revoke:
        revocation = api_request(
            visitor=request,
            method="POST",
            path=reverse("api-token-revoke"),
            body={"token": token, "token_type_hint": "access_token"},
        )
    after = _me_with_bearer(request=request, token=token)
    return TokenRevocation(
        revoked=revoke,
        before=before,
        revoke=revocation,
        after=after,
        stateless_still_accepts=stateless_verify(token),
    )


TAMPERINGS = {
    "sub": "Change sub (the user id) to someone else's",
    "is_staff": 'Add "is_staff": true',
    "exp": "Push exp a year into the future",
    "alg_none": "Set alg to none and drop the signature",
    "alg_hs256": "Re-sign with HS256, using our public key as the secret",
    "aud": "Genuinely signed by us, but for another audience",
    "expired": "Genuinely signed by us, but already expired",
}


@dataclass(frozen=True)
class EditedField:
    """One header parameter or claim of the edited token, and how the edit changed it."""

    name: str
    value: Any
    # "added", "changed", or "" for a value left as it was (no tampering here removes one).
    edit: str


@dataclass(frozen=True)
class Tampering:
    choice: str
    description: str
    token: str
    header: tuple[EditedField, ...]
    payload: tuple[EditedField, ...]
    # What became of the signature: kept (now over other bytes), dropped, or made anew.
    signature: str
    answer: ApiAnswer

    @property
    def parts(self) -> tuple[tuple[str, tuple[EditedField, ...]], ...]:
        return (("Header", self.header), ("Payload", self.payload))

    @property
    def edited(self) -> tuple[str, ...]:
        """The names of what the edit added or changed, header first."""
        return tuple(field.name for field in (*self.header, *self.payload) if field.edit)


def _edited_fields(before: dict[str, Any], after: dict[str, Any]) -> tuple[EditedField, ...]:
    return tuple(
        EditedField(
            name=name,
            value=value,
            edit="" if before.get(name) == value else "changed" if name in before else "added",
        )
        for name, value in after.items()
    )


SIGNATURE_FATES = {
    "sub": "kept from your token, so it no longer matches the edited payload",
    "is_staff": "kept from your token, so it no longer matches the edited payload",
    "exp": "kept from your token, so it no longer matches the edited payload",
    "alg_none": "dropped",
    "alg_hs256": "made anew with HMAC-SHA256, our public key as the secret",
    "aud": "made anew with our own private key: genuine",
    "expired": "made anew with our own private key: genuine",
}


def _sign_with_our_key(payload: dict[str, Any], header: dict[str, Any]) -> str:
    key = key_store().signing_key()
    return jwt.encode(payload, key.private_key, algorithm=header["alg"], headers=header)


def tamper_demo(*, request: HttpRequest, choice: str) -> Tampering:
    """Edit the visitor's demo token the way an attacker would and send it to /api/me/."""
    signed = demo_token(request=request)["signed"]
    header_part, payload_part, signature = signed.split(".")
    original_header, original_payload = b64url_json(header_part), b64url_json(payload_part)
    header, payload = dict(original_header), dict(original_payload)
    now = int(clock.now().timestamp())
    if choice == "sub":
        payload["sub"] = str(int(payload["sub"]) + 1)
    elif choice == "is_staff":
        payload["is_staff"] = True
    elif choice == "exp":
        payload["exp"] = now + 365 * 24 * 3600
    if choice in {"sub", "is_staff", "exp"}:
        token = f"{b64url(header)}.{b64url(payload)}.{signature}"
    elif choice == "alg_none":
        header["alg"] = "none"
        token = f"{b64url(header)}.{b64url(payload)}."
    elif choice == "alg_hs256":
        header["alg"] = "HS256"
        public_pem = (
            key_store()
            .signing_key()
            .public_key.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        token = _hs256_with_secret(header, payload, public_pem)
    elif choice == "aud":
        payload["aud"] = "some-other-api"
        token = _sign_with_our_key(payload, header)
    else:
        payload["iat"], payload["exp"] = now - 3600, now - 1800
        token = _sign_with_our_key(payload, header)
    return Tampering(
        choice=choice,
        description=TAMPERINGS[choice],
        token=token,
        header=_edited_fields(original_header, header),
        payload=_edited_fields(original_payload, payload),
        signature=SIGNATURE_FATES[choice],
        answer=_me_with_bearer(request=request, token=token),
    )


def _hs256_with_secret(header: dict[str, Any], payload: dict[str, Any], secret: bytes) -> str:
    """HMAC-SHA256 by hand: PyJWT rightly refuses a PEM public key as an HMAC secret, which is
    the whole attack (RFC 8725 section 2.1, algorithm confusion)."""
    signing_input = f"{b64url(header)}.{b64url(payload)}"
    digest = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}"


@dataclass(frozen=True)
class CsrfDemo:
    with_cookie: ApiAnswer
    with_bearer: ApiAnswer
    # The request that deleted the note the bearer call created; None when none was created.
    cleanup: ApiAnswer | None


CSRF_DEMO_NOTE = {"title": "Written by the comparison page's CSRF demonstration"}


def csrf_demo(*, request: HttpRequest) -> CsrfDemo:
    """`POST /api/notes/`, for real. First with what a page on another site can make the browser
    send: the visitor's cookies (the session's, and the CSRF cookie the browser holds), but neither
    the CSRF token itself (only this site's pages can read it) nor an Authorization header; the
    API's session authentication refuses it. Then as a script sends it, with the visitor's demo
    token as its bearer token, which needs no CSRF token: the note is created, then deleted again
    by a third request.
    """
    path = reverse("api-notes")
    cookies = {
        name: request.COOKIES[name]
        for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME)
        if name in request.COOKIES
    }
    with_cookie = api_request(
        visitor=request,
        method="POST",
        path=path,
        cookies=cookies,
        body=CSRF_DEMO_NOTE,
    )
    authorization = f"Bearer {demo_token(request=request)['signed']}"
    with_bearer = api_request(
        visitor=request, method="POST", path=path, authorization=authorization, body=CSRF_DEMO_NOTE
    )
    cleanup = None
    if with_bearer.status == HTTPStatus.CREATED:
        cleanup = api_request(
            visitor=request,
            method="DELETE",
            path=reverse("api-note", kwargs={"note_id": with_bearer.body["id"]}),
            authorization=authorization,
        )
    return CsrfDemo(with_cookie=with_cookie, with_bearer=with_bearer, cleanup=cleanup)


class DemoClientKey:
    """A client's DPoP key pair (EC P-256), made for one demonstration, and its proofs."""

    def __init__(self) -> None:
        self.key = ECKey.generate_key("P-256")
        self.jkt = self.key.thumbprint()

    def proof(self, *, method: str, url: str, access_token: str) -> str:
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.key.as_dict(private=False)}
        claims = {
            "jti": secrets.token_urlsafe(16),
            "htm": method,
            "htu": url,
            "iat": int(time.time()),
            "ath": dpop.token_hash(access_token),
        }
        payload = json.dumps(claims).encode()
        return jws.serialize_compact(header, payload, self.key, registry=dpop.PROOF_REGISTRY)


@dataclass(frozen=True)
class StolenTokens:
    """Two tokens of the visitor's, one bearer and one bound to a key its client holds, sent by
    another client that copied them but holds no key; then a proof captured and replayed."""

    owner_with_proof: ApiAnswer
    bearer_stolen: ApiAnswer
    bound_stolen_as_bearer: ApiAnswer
    bound_stolen_with_own_key: ApiAnswer
    proof_replayed: ApiAnswer
    # The owner's proof, decoded (its signature masked), as the page shows it.
    proof_parts: dict[str, Any]


def stolen_token_demo(*, request: HttpRequest) -> StolenTokens:
    """Every request goes to the API's own view and classes (compare.api_request)."""
    owner, thief = DemoClientKey(), DemoClientKey()
    bearer = services.access_token_forms_issue(
        user=request.user, name="Stolen-token demo: bearer"
    ).signed
    bound = services.access_token_forms_issue(
        user=request.user, name="Stolen-token demo: DPoP-bound", jkt=owner.jkt
    ).signed
    path = reverse("api-me")
    url = f"{request.scheme}://{request.get_host()}{path}"

    def me(authorization: str, proof: str | None = None) -> ApiAnswer:
        return api_request(
            visitor=request, method="GET", path=path, authorization=authorization, dpop=proof
        )

    owner_proof = owner.proof(method="GET", url=url, access_token=bound)
    return StolenTokens(
        owner_with_proof=me(f"DPoP {bound}", owner_proof),
        bearer_stolen=me(f"Bearer {bearer}"),
        bound_stolen_as_bearer=me(f"Bearer {bound}"),
        bound_stolen_with_own_key=me(
            f"DPoP {bound}", thief.proof(method="GET", url=url, access_token=bound)
        ),
        proof_replayed=me(f"DPoP {bound}", owner_proof),
        proof_parts=jwt_parts_unverified(owner_proof) or {},
    )
