"""Apps signing in through django-allauth's headless API get this API's own token pair.

allauth headless (`/_allauth/{browser,app}/v1/`) runs the sign-in: password, second factor, and
provider sign-in, either by its redirect flow (browser client) or with a provider token the app
already holds (app client: Google's ID token, or a GitHub access token that
accounts.providers.GitHubProvider checks with GitHub). The browser client ends in this site's
session cookie, under allauth's session and CSRF rules, and calls the API with it. The app client
ends with what this module's token strategy (HEADLESS_TOKEN_STRATEGY) hands out:

- `create_access_token_payload`: once allauth has signed the person in, a new token family
  (api.services.token_pair_issue, origin "app"), issued to the app's client id at the provider
  (the hidden application allauth verified the token for; empty after a password sign-in), so it
  is rotated, reuse-checked, revoked, audited and listed on /accounts/tokens/ like every other;
- `refresh_token`: allauth's refresh endpoint (`POST /_allauth/app/v1/tokens/refresh`) rotates
  such a family (api.services.token_pair_refresh). A family issued to an OAuth client registered
  here (api.clients: the device grant) is refreshed by that client at /oauth/token only.

An app that holds a DPoP key (RFC 9449) sends a proof with its sign-in, second factor or refresh:
checked before allauth acts (`dpop_checked`), it binds the family to that key, as the token
endpoints do.

The app keeps allauth's session token (X-Session-Token) for allauth's own endpoints (its session,
signing out); the API takes the access token. The sign-in's steps are recorded for the person's
profile (accounts.flow_steps.APP_STEP_TITLES).
"""

import datetime as dt
import time
from functools import wraps
from typing import Any

from allauth.account.authentication import get_authentication_records
from allauth.headless.account import views as account_views
from allauth.headless.constants import Client as HeadlessClient
from allauth.headless.mfa import views as mfa_views
from allauth.headless.socialaccount.views import ProviderSignupView, ProviderTokenView
from allauth.headless.tokens.response import RefreshTokenResponse
from allauth.headless.tokens.strategies.sessions import SessionTokenStrategy
from allauth.headless.tokens.views import RefreshTokenView
from allauth.idp.oidc.models import Client
from allauth.socialaccount.models import SocialLogin
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.signals import pre_social_login
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, path

from accounts.flow_recording import mask
from accounts.flow_steps import APP_PROCESS, APP_STEP_TITLES, FlowInProgress, step_record
from accounts.login_failures import WindowCounter, digest, rate_parse
from accounts.services import oauth_flow_record_save
from api import dpop, services
from api.exceptions import InvalidCredentialsError
from api.models import TokenFamily
from api.token_errors import RejectedTokenError
from api.tokens import CLIENT_CLAIM, RefreshToken, token_unwrap
from config.client_address import client_network

# What the app's provider sign-in was, from allauth's pre_social_login until the token pair.
APP_SIGN_IN_SESSION_KEY = "api.headless.app_sign_in"
# The ID token claims the profile shows (what the check in step 3 looked at).
SHOWN_ID_TOKEN_CLAIMS = ("iss", "aud", "azp", "exp", "iat", "email", "email_verified")
PROVIDER_TOKEN_SCOPE = "app_provider_token"  # noqa: S105 -- a cache key scope
# When the provider-token request arrived (set on the request by provider_token_view), so the
# recorded steps time the check and the issuing from there.
RECEIVED_AT = "app_sign_in_received_at"
# The pair a request already answered with (ProjectTokenStrategy.create_access_token_payload).
ISSUED_ON_REQUEST = "app_sign_in_issued"
# The thumbprint of the key a request's DPoP proof proved (set by dpop_checked).
DPOP_JKT = "app_dpop_jkt"
CREDENTIAL_NAMES = {"id_token": "ID token", "access_token": "access token"}
APP_PATH = "_allauth/app/v1"
PROVIDER_TOKEN_PATH = f"/{APP_PATH}/auth/provider/token"


# allauth headless's app-client endpoints that can end with the person signed in, and so hand
# out tokens (the provider-token sign-in aside: provider_token_view).
SIGN_IN_VIEWS = {
    "auth/login": account_views.LoginView,
    "auth/signup": account_views.SignupView,
    "auth/email/verify": account_views.VerifyEmailView,
    "auth/2fa/authenticate": mfa_views.AuthenticateView,
    "auth/provider/signup": ProviderSignupView,
}


def app_paths() -> list[URLPattern]:
    """The allauth headless endpoints this module takes over, placed before allauth's own URLs:
    the provider-token sign-in of both clients, limited per address (provider_token_view); and
    every app-client endpoint that hands out tokens, each taking a DPoP proof (dpop_checked):
    the sign-ins of SIGN_IN_VIEWS and the refresh."""
    app = HeadlessClient.APP
    views = {**SIGN_IN_VIEWS, "tokens/refresh": AppRefreshTokenView}
    return [
        path(
            f"_allauth/{HeadlessClient.BROWSER.value}/v1/auth/provider/token",
            provider_token_view(HeadlessClient.BROWSER),
        ),
        path(f"{APP_PATH}/auth/provider/token", dpop_checked(provider_token_view(app))),
        *(
            path(f"{APP_PATH}/{route}", dpop_checked(view.as_api_view(client=app)))
            for route, view in views.items()
        ),
    ]


def dpop_checked(view: Any) -> Any:
    """`view`, taking a DPoP proof (RFC 9449) as the token endpoints do: a POST that carries one
    has it checked before allauth acts (the server's nonce demanded, the proof used once:
    api.dpop.token_request_proof), so a bad proof signs nobody in. The tokens the request gets
    are then bound to the proof's key (ProjectTokenStrategy), and the answer carries the nonce
    for the next proof. A refusal is allauth's error shape, 400, with the RFC 9449 code."""

    @wraps(view)  # keeps allauth's CSRF exemption of the app client
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST" or dpop.proof_of(request) is None:
            return view(request, *args, **kwargs)
        try:
            proof = dpop.token_request_proof(request)
        except dpop.DpopError as error:
            response = _error_response(400, error.description, error.code.value)
            if error.code == dpop.DpopErrorCode.USE_NONCE:
                response["DPoP-Nonce"] = dpop.nonce_issue()
            return response
        setattr(request, DPOP_JKT, proof.jkt)
        response = view(request, *args, **kwargs)
        response["DPoP-Nonce"] = dpop.nonce_issue()
        return response

    return checked


def _error_response(status: int, message: str, code: str) -> JsonResponse:
    """An error in allauth headless's shape, never stored by a cache."""
    response = JsonResponse(
        {"status": status, "errors": [{"message": message, "code": code}]}, status=status
    )
    response["Cache-Control"] = "no-store"
    return response


def provider_token_view(client: HeadlessClient):
    """allauth's provider-token sign-in for `client`, limited per client address
    (APP_PROVIDER_TOKEN_RATE_PER_ADDRESS): each attempt may make this site call the provider
    (GitHub's application-token API, Google's keys). A refusal is allauth's error shape, 429,
    with Retry-After."""
    view = ProviderTokenView.as_api_view(client=client)

    @wraps(view)  # keeps allauth's CSRF exemption of the app client (and not of the browser's)
    def limited(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        now = time.time()
        setattr(request, RECEIVED_AT, now)
        rate = rate_parse(settings.APP_PROVIDER_TOKEN_RATE_PER_ADDRESS)
        if request.method == "POST" and rate is not None:
            ident = digest(client_network(request))
            counter = WindowCounter.at(scope=PROVIDER_TOKEN_SCOPE, ident=ident, rate=rate, now=now)
            if counter.hit(now) > counter.limit:
                message = "Too many sign-in attempts from this address; try again later."
                response = _error_response(429, message, "too_many_requests")
                response["Retry-After"] = str(max(1, round(counter.ends_at - now)))
                return response
        return view(request, *args, **kwargs)

    return limited


def connect() -> None:
    pre_social_login.connect(app_sign_in_note, dispatch_uid="api.headless")


def _is_app_request(request: HttpRequest) -> bool:
    headless = getattr(getattr(request, "allauth", None), "headless", None)
    return getattr(headless, "client", None) == "app"


def app_sign_in_note(sender: Any, *, request: HttpRequest, sociallogin: SocialLogin, **kwargs):
    """Keep, in the app's allauth session, which app and provider token this sign-in used."""
    if not _is_app_request(request):
        return
    provider = sociallogin.provider
    extra = sociallogin.account.extra_data or {}
    if provider.id == "google":
        checked: dict[str, Any] = {
            "credential": "id_token",
            "verified": "RS256 signature with Google's published keys; iss; aud; exp",
            "claims": {name: extra[name] for name in SHOWN_ID_TOKEN_CLAIMS if name in extra},
        }
        if "sub" in extra:
            checked["claims"]["sub"] = mask(extra["sub"])
    elif provider.id == "github":
        checked = {
            "credential": "access_token",
            "verified": f"POST /applications/{provider.app.client_id}/token answered: this app's",
            "then": ["GET /user", "GET /user/emails"],
            "login": extra.get("login"),
        }
    else:  # any other provider allauth takes a token for (an OpenID Connect one: its ID token)
        checked = {
            "credential": "id_token" if isinstance(provider, OpenIDConnectProvider) else "token",
            "verified": f"by allauth's {type(provider).__name__} for {provider.name}",
        }
    request.session[APP_SIGN_IN_SESSION_KEY] = {
        "provider_id": provider.id,
        "provider_name": provider.name,
        "client_id": provider.app.client_id if provider.app else "",
        "checked": checked,
        "received_at": getattr(request, RECEIVED_AT, time.time()),
        "checked_at": time.time(),
    }


class ProjectTokenStrategy(SessionTokenStrategy):
    """allauth's session tokens for its own endpoints; this API's token pair for everything else."""

    def create_access_token_payload(self, request: HttpRequest) -> dict[str, Any] | None:
        # allauth may build its answer more than once in one request (finishing a second-factor
        # stage does): one sign-in, one family.
        issued = getattr(request, ISSUED_ON_REQUEST, None)
        if issued is not None:
            return issued
        payload = self._payload_issue(request)
        setattr(request, ISSUED_ON_REQUEST, payload)
        return payload

    def _payload_issue(self, request: HttpRequest) -> dict[str, Any] | None:
        jkt = _proved_jkt(request)
        if jkt is None:
            return None
        note = request.session.pop(APP_SIGN_IN_SESSION_KEY, None)
        client_id = note["client_id"] if note else ""
        try:
            pair = services.token_pair_issue(
                user=request.user,
                origin=TokenFamily.Origin.APP,
                client_id=client_id,
                name=_sign_in_named(request, note),
                jkt=jkt,
            )
        except InvalidCredentialsError:  # deactivated, or the password changed, meanwhile
            return None
        if note is not None:
            _flow_record(user=request.user, note=note, pair=pair)
        return {
            "access_token": pair.access,
            "refresh_token": pair.refresh,
            "expires_in": pair.expires_in,
            "token_type": pair.token_type,
        }

    def refresh_token(self, refresh_token: str) -> tuple[str, str] | None:
        """allauth's refresh without a DPoP proof (AppRefreshTokenView is what serves it)."""
        pair = app_pair_refresh(refresh_token, jkt="")
        return (pair.access, pair.refresh) if pair is not None else None


class AppRefreshTokenView(RefreshTokenView):
    """allauth's refresh endpoint for apps, with the DPoP proof dpop_checked found: a family
    bound to a key is refreshed only with a proof of that key."""

    def post(self, request: HttpRequest) -> HttpResponse:
        refresh_token = self.input.cleaned_data["refresh_token"]
        pair = app_pair_refresh(refresh_token, jkt=getattr(request, DPOP_JKT, ""))
        if pair is None:
            return _error_response(400, "The refresh token was refused.", "invalid_token")
        return RefreshTokenResponse(request, pair.access, pair.refresh)


def app_pair_refresh(refresh_token: str, *, jkt: str) -> services.TokenPair | None:
    """The next pair of an app's family (None: refused). A family issued to an OAuth client
    registered here (api.clients: the device grant) is refreshed by that client at /oauth/token
    only."""
    try:
        client_id = RefreshToken(token_unwrap(refresh_token)[0]).payload.get(CLIENT_CLAIM, "")
        if client_id and Client.objects.filter(pk=client_id).exists():
            return None
        return services.token_pair_refresh(refresh=refresh_token, client_id=client_id, jkt=jkt)
    except RejectedTokenError:
        return None


def _proved_jkt(request: HttpRequest) -> str | None:
    """The DPoP key the request proved ("" without a proof), checked by dpop_checked or, at
    an allauth endpoint not in SIGN_IN_VIEWS (one a later allauth adds), here; None for a bad
    proof, which then gets no tokens."""
    jkt = getattr(request, DPOP_JKT, None)
    if jkt is not None:
        return jkt
    try:
        proof = dpop.token_request_proof(request)
    except dpop.DpopError:
        return None
    return proof.jkt if proof is not None else ""


def _sign_in_named(request: HttpRequest, note: dict[str, Any] | None) -> str:
    """How the app signed the person in, as the tokens page names its family."""
    methods = {record.get("method") for record in get_authentication_records(request, request.user)}
    if note is not None:
        credential = CREDENTIAL_NAMES.get(note["checked"]["credential"], "token")
        how = f"a {note['provider_name']} {credential}"
    else:
        how = "a password" if "password" in methods else "allauth"
    return f"App sign-in with {how}" + (" and a second factor" if "mfa" in methods else "")


def _step(number: int, *, at: float | None, started_at: float, detail: dict) -> dict[str, Any]:
    """One recorded step; `at` None for a step that ran in the app, where no clock of ours was."""
    return step_record(
        number=number, title=APP_STEP_TITLES[number], at=at, started_at=started_at, detail=detail
    )


def _flow_record(*, user: Any, note: dict[str, Any], pair: services.TokenPair) -> None:
    """Keep the app sign-in's steps, masked, for the person's profile. Times count from the
    request that handed the token over; the provider's part ran in the app, untimed here."""
    started_at = note["received_at"]
    credential = note["checked"]["credential"]
    given = {"provider": note["provider_name"], "app_client_id": note["client_id"]}
    handed = {
        "request": f"POST {PROVIDER_TOKEN_PATH}",
        "provider": note["provider_id"],
        "token": {"client_id": note["client_id"], credential: "…(masked)"},
    }
    issued = pair.masked()
    steps = [
        _step(1, at=None, started_at=started_at, detail=given),
        _step(2, at=started_at, started_at=started_at, detail=handed),
        _step(3, at=note["checked_at"], started_at=started_at, detail=note["checked"]),
        _step(4, at=time.time(), started_at=started_at, detail=issued),
    ]
    oauth_flow_record_save(
        user=user,
        flow=FlowInProgress(
            provider_id=note["provider_id"],
            provider_name=note["provider_name"],
            process=APP_PROCESS,
            started_at=started_at,
            steps=steps,
        ),
        completed_at=dt.datetime.now(tz=dt.UTC),
    )
