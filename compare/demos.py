"""The comparison page's live facts and demonstrations: the same person, authenticated two ways.

Every value comes from this server as it runs: the visitor's own session cookie and record, and a
JWT issued to them. The demonstrations send nothing through the stack: each attempt is checked by
the classes and functions the API itself authenticates with (its bearer authentication, Django's
get_user on the configured session store, DRF's session authentication and its CSRF check), and
the page shows what the API would answer it: the status, the error code and the challenge.
"""

import base64
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

import jwt
from allauth.usersessions.models import UserSession
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.contrib.auth import get_user
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework_simplejwt import settings as jwt_settings

from accounts.flow_recording import masked_authorization
from api import clock, selectors, services
from api.authentication import BearerTokenAuthentication, BearerUser, SessionAuthentication
from api.exception_handler import api_exception_handler
from api.exceptions import InvalidTokenError
from api.keys import jwks_document, key_store
from api.token_errors import Rejection
from api.tokens import AccessToken
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


def demo_token(*, request: HttpRequest) -> dict[str, str]:
    """The visitor's comparison token (signed and encrypted forms), minted again once expired.

    It lives in the visitor's own server-side session, like the provider token of the profile.
    """
    held = request.session.get(DEMO_TOKEN_SESSION_KEY)
    if held and b64url_json(held["signed"].split(".")[1])["exp"] > clock.now().timestamp() + 5:
        return held
    forms = services.access_token_forms_issue(user=request.user, name="Comparison page")
    held = {"signed": forms.signed, "encrypted": forms.encrypted}
    request.session[DEMO_TOKEN_SESSION_KEY] = held
    return held


def _readable(name: str, value: Any) -> str:
    if name in TIME_CLAIMS and isinstance(value, int):
        return dt.datetime.fromtimestamp(value, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return json.dumps(value)


def jwt_facts(*, request: HttpRequest) -> JwtFacts:
    held = demo_token(request=request)
    token = held["signed"]
    header_part, payload_part, _ = token.split(".")
    header, payload = b64url_json(header_part), b64url_json(payload_part)
    jwks = {key["kid"]: key for key in jwks_document()["keys"]}
    return JwtFacts(
        token=token,
        encrypted=held["encrypted"],
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
        encrypted_bytes=len(held["encrypted"].encode()) if held["encrypted"] else None,
        expires_in_seconds=max(0, int(payload["exp"] - clock.now().timestamp())),
        public_jwk=jwks.get(header.get("kid")),
    )


@dataclass(frozen=True)
class Lifetimes:
    access: str
    refresh: str


def _duration(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h" if minutes >= 120 else f"{minutes} min"


def lifetimes() -> Lifetimes:
    api = jwt_settings.api_settings
    return Lifetimes(
        access=_duration(api.ACCESS_TOKEN_LIFETIME), refresh=_duration(api.REFRESH_TOKEN_LIFETIME)
    )


@dataclass(frozen=True)
class ApiAnswer:
    """One attempt as the page shows it: the request as a client would send it, and what the API
    would answer, worked out by the API's own functions without sending anything."""

    method: str
    path: str
    # Authorization masked, cookies by name only: both are credentials.
    sent_headers: dict[str, str]
    status: int
    body: Any
    error_code: str | None = None
    # The WWW-Authenticate challenge of a 401.
    challenge: str | None = None

    @property
    def answer_headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": self.challenge} if self.challenge else {}

    @property
    def accepted(self) -> bool:
        return self.status < status.HTTP_400_BAD_REQUEST


def _sent_headers(
    *, authorization: str | None = None, cookies: Iterable[str] = (), json_body: bool = False
) -> dict[str, str]:
    headers = {}
    if authorization is not None:
        headers["Authorization"] = masked_authorization(authorization)
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}=…" for name in cookies)
    if json_body:
        headers["Content-Type"] = "application/json"
    return headers


def _refused(
    *, method: str, path: str, sent_headers: dict[str, str], error: exceptions.APIException
) -> ApiAnswer:
    """The API's answer to `error`, from its own exception handler: status, body, challenge."""
    response = api_exception_handler(error, {})
    if response is None:  # never: the handler answers every APIException
        raise TypeError(f"{error!r} is not an error the API answers")
    return ApiAnswer(
        method=method,
        path=path,
        sent_headers=sent_headers,
        status=response.status_code,
        body=response.data,
        error_code=response.data["error"]["code"],
        challenge=response.get("WWW-Authenticate"),
    )


def bearer_token_verify(token: str) -> AccessToken:
    """The access token of `Authorization: Bearer <token>` as the API accepts it: its own
    authentication class, on a request that carries only that header. A refusal raises
    InvalidTokenError, as the API answers it; an accepted token's use is recorded as the API
    records it (a family's last-used time, at most once a minute)."""
    request = HttpRequest()
    request.META["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    _, verified = BearerTokenAuthentication().authenticate(Request(request))
    return verified


def me_with_bearer(*, token: str) -> ApiAnswer:
    """What `GET /api/me/` with `token` as its bearer token would answer."""
    path = reverse("api-me")
    authorization = f"Bearer {token}"
    sent = _sent_headers(authorization=authorization)
    try:
        verified = bearer_token_verify(token)
        # /api/me/ answers with the account's current details: a token of a deleted or
        # deactivated account is refused there as revoked.
        user = selectors.user_get(user_id=BearerUser(verified).pk)
        if user is None:
            raise InvalidTokenError(Rejection.REVOKED)
    except InvalidTokenError as error:
        return _refused(method="GET", path=path, sent_headers=sent, error=error)
    return ApiAnswer(
        method="GET",
        path=path,
        sent_headers=sent,
        status=status.HTTP_200_OK,
        body={
            "authenticated_by": "bearer",
            "sub": verified[jwt_settings.api_settings.USER_ID_CLAIM],
            "username": user.get_username(),
            "claims": verified.payload,
        },
    )


def session_store(session_key: str | None) -> Any:
    """The session `session_key` names, in the configured engine, as SessionMiddleware opens it."""
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key)


def me_with_session_cookie(*, session_key: str) -> ApiAnswer:
    """What `GET /api/me/` with only the session cookie `session_key` would answer.

    Django's own path: the session opened from the store as SessionMiddleware opens it, its user
    loaded by django.contrib.auth.get_user; SessionAuthentication then accepts an active user.
    """
    path = reverse("api-me")
    sent = _sent_headers(cookies=[settings.SESSION_COOKIE_NAME])
    request = HttpRequest()
    request.method = "GET"
    request.COOKIES[settings.SESSION_COOKIE_NAME] = session_key
    request.session = session_store(session_key)
    user = get_user(request)
    if not (user.is_authenticated and user.is_active):
        # No authenticator accepted the request: DRF's NotAuthenticated, answered as the API
        # answers it (401, with the challenge of its first authentication class, Bearer).
        return _refused(
            method="GET", path=path, sent_headers=sent, error=exceptions.NotAuthenticated()
        )
    return ApiAnswer(
        method="GET",
        path=path,
        sent_headers=sent,
        status=status.HTTP_200_OK,
        body={"authenticated_by": "session", "id": user.pk, "username": user.get_username()},
    )


@dataclass(frozen=True)
class SessionRevocation:
    before: ApiAnswer
    after: ApiAnswer


def session_revocation_demo(*, request: HttpRequest) -> SessionRevocation:
    """A second session of the visitor (as if signed in on another device) is checked, signed
    out, and its very same cookie checked again."""
    session = session_create(user=request.user)
    session_key = session.session_key or ""
    try:
        before = me_with_session_cookie(session_key=session_key)
    finally:
        # Signing out deletes the record, as logout() does.
        session.delete()
    after = me_with_session_cookie(session_key=session_key)
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
    """A fresh access token is checked; revoked (or not), it is checked again. A verifier with
    only the JWKS cannot see the revocation: it still accepts the token until it expires."""
    token = services.access_token_forms_issue(user=request.user, name="Revocation demo").signed
    before = me_with_bearer(token=token)
    revocation = None
    if revoke:
        # RFC 7009: the revoke endpoint calls this service and answers 200 with an empty object,
        # whatever the token was.
        services.token_revoke(token=token)
        revocation = ApiAnswer(
            method="POST",
            path=reverse("api-token-revoke"),
            sent_headers=_sent_headers(json_body=True),
            status=status.HTTP_200_OK,
            body={},
        )
    after = me_with_bearer(token=token)
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
class Tampering:
    choice: str
    description: str
    token: str
    header: dict[str, Any]
    payload: dict[str, Any]
    answer: ApiAnswer


def _sign_with_our_key(payload: dict[str, Any], header: dict[str, Any]) -> str:
    key = key_store().signing_key()
    return jwt.encode(payload, key.private_key, algorithm=header["alg"], headers=header)


def tamper_demo(*, request: HttpRequest, choice: str) -> Tampering:
    """Edit the visitor's token the way an attacker would and show why the API refuses it."""
    signed = demo_token(request=request)["signed"]
    header_part, payload_part, signature = signed.split(".")
    header, payload = b64url_json(header_part), b64url_json(payload_part)
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
        header=header,
        payload=payload,
        answer=me_with_bearer(token=token),
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


CSRF_DEMO_NOTE = {"title": "Written by a cross-site form"}


def csrf_demo(*, request: HttpRequest) -> CsrfDemo:
    """What a form on another site can make the browser send, `POST /api/notes/` with the
    session cookie but never a CSRF token nor an Authorization header, against a script's
    bearer token. Both are only checked, as the API checks them: no note is written.

    The cookie names the visitor (Django's get_user, as AuthenticationMiddleware loads it), then
    DRF's session authentication enforces CSRF and refuses it; the bearer token, which no browser
    attaches by itself, needs no CSRF token.
    """
    path = reverse("api-notes")
    cookie = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
    forged = HttpRequest()
    forged.method = "POST"
    forged.path = forged.path_info = path
    forged.META["HTTP_HOST"] = request.get_host()
    forged.META["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
    forged.COOKIES[settings.SESSION_COOKIE_NAME] = cookie
    forged.session = session_store(cookie)
    forged.user = SimpleLazyObject(lambda: get_user(forged))
    authentication = SessionAuthentication()
    sent = _sent_headers(cookies=[settings.SESSION_COOKIE_NAME])
    try:
        # The user the cookie names, then enforce_csrf: CsrfFailedError without a token.
        accepted = authentication.authenticate(Request(forged, authenticators=[authentication]))
        error = exceptions.NotAuthenticated() if accepted is None else None
    except exceptions.APIException as refusal:
        error = refusal
    if error is not None:
        with_cookie = _refused(method="POST", path=path, sent_headers=sent, error=error)
    else:  # Never, with CSRF enforced: shown as what it would mean.
        with_cookie = _note_would_be_created(path=path, sent_headers=sent, by="session")
    token = demo_token(request=request)["signed"]
    sent = _sent_headers(authorization=f"Bearer {token}", json_body=True)
    try:
        bearer_token_verify(token)
    except InvalidTokenError as refusal:
        with_bearer = _refused(method="POST", path=path, sent_headers=sent, error=refusal)
    else:
        with_bearer = _note_would_be_created(path=path, sent_headers=sent, by="bearer")
    return CsrfDemo(with_cookie=with_cookie, with_bearer=with_bearer)


def _note_would_be_created(*, path: str, sent_headers: dict[str, str], by: str) -> ApiAnswer:
    return ApiAnswer(
        method="POST",
        path=path,
        sent_headers=sent_headers,
        status=status.HTTP_201_CREATED,
        body={"authenticated_by": by, "would_create": CSRF_DEMO_NOTE, "created": False},
    )
