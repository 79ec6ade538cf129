"""The OAuth clients that may ask for this API's tokens, and how a request proves it is one.

The registry is django-allauth's `allauth.idp.oidc` Client model: an admin registers a client in
Django admin (OpenID Connect IdP > Clients), and its secret is shown once and stored hashed. Only
the model is used; allauth's own OAuth endpoints are not routed (api.oauth issues the tokens).

- **Public clients** (type "public") hold no secret: they name themselves with `client_id`. The
  built-in one, `signin-lab-cli` (migration api 0007), is the reference command-line client's, for
  the device grant and refresh. A native app cannot keep a secret, so a per-app secret would
  prove nothing; dynamic registration (RFC 7591) would let anyone put any name on the consent
  page, so this server has none.
- **Confidential clients** authenticate with HTTP Basic (`client_secret_basic`) or with
  `client_id` and `client_secret` in the form (`client_secret_post`), never both (RFC 6749
  section 2.3). A resource server is a confidential client whose scopes include `introspect`:
  only such a client may call the introspection endpoint (RFC 7662 section 2.1).

A client may use the grants listed on its row (`grant_types`).
"""

import base64
import binascii
import math
import time
from dataclasses import dataclass
from urllib.parse import unquote

from allauth.idp.oidc.models import Client
from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest

from accounts.login_failures import WindowCounter, digest, rate_parse

BUILTIN_CLI_CLIENT_ID = "signin-lab-cli"
INTROSPECT_SCOPE = "introspect"
DEVICE_CODE_GRANT = Client.GrantType.DEVICE_CODE.value
REFRESH_TOKEN_GRANT = Client.GrantType.REFRESH_TOKEN.value
# Client ids are at most this long (the model's column).
MAX_CLIENT_ID_LENGTH = 100
MAX_CLIENT_SECRET_LENGTH = 256
CLIENT_SECRET_REMEMBERED_SECONDS = 300
BASIC_CHALLENGE = 'Basic realm="oauth"'


class OAuthError(Exception):
    """An OAuth error answer (RFC 6749 section 5.2): `error`, `error_description`, a status."""

    def __init__(
        self,
        error: str,
        description: str,
        *,
        status: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        # WWW-Authenticate with a 401, Retry-After with a 429.
        self.headers = headers or {}


@dataclass(frozen=True)
class ClientCredentials:
    """What the request says about its client: the id, the secret if any, and how it came."""

    client_id: str
    secret: str | None
    method: str  # "client_secret_basic", "client_secret_post" or "none"


def client_credentials(request: HttpRequest, form: dict[str, str]) -> ClientCredentials | None:
    """The client credentials in `request` (its Authorization header) and its parsed `form`, or
    None when it names no client."""
    header = request.headers.get("Authorization", "")
    in_form = "client_secret" in form
    if header[:6].lower() == "basic ":
        if in_form:
            raise OAuthError("invalid_request", "Send the client secret one way only.")
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise invalid_client() from None
        client_id, colon, secret = decoded.partition(":")
        if not colon:
            raise invalid_client()
        # RFC 6749 section 2.3.1: each part is form-urlencoded before it is joined.
        return ClientCredentials(unquote(client_id), unquote(secret), "client_secret_basic")
    if "client_id" not in form:
        return None
    if in_form:
        return ClientCredentials(form["client_id"], form["client_secret"], "client_secret_post")
    return ClientCredentials(form["client_id"], None, "none")


def client_authenticate(credentials: ClientCredentials, *, network: str) -> Client:
    """The registered client `credentials` name, if they prove it: a public client by its id
    alone, a confidential one by its secret. Anything else is `invalid_client`.

    A secret is checked with Django's password hasher (Argon2id here: tens of milliseconds), so
    a secret that matched is remembered in this process's memory (`local`), keyed by the stored
    hash and a digest of the secret: a result that cannot change under its key, since a new
    secret is a new hash. Wrong secrets count per client address (`network`) against
    OAUTH_CLIENT_SECRET_FAILURE_RATE, like passwords (accounts.login_failures): each check
    reserves its place and gives it back once the secret proves right.
    """
    if not credentials.client_id or len(credentials.client_id) > MAX_CLIENT_ID_LENGTH:
        raise invalid_client()
    client = Client.objects.filter(pk=credentials.client_id).first()
    if client is None:
        raise invalid_client()
    if client.type == Client.Type.PUBLIC:
        if credentials.secret is not None:
            raise invalid_client()
        return client
    secret = credentials.secret
    if secret is None or len(secret) > MAX_CLIENT_SECRET_LENGTH:
        raise invalid_client()
    remembered = "oauth:client-secret:" + digest(client.secret, secret)
    if caches["local"].get(remembered):
        return client
    now = time.time()
    failures = WindowCounter.at(
        scope="oauth_client_secret",
        ident=digest(network),
        rate=rate_parse(settings.OAUTH_CLIENT_SECRET_FAILURE_RATE),
        now=now,
    )
    if failures.hit(now) > failures.limit:
        wait = math.ceil(max(1.0, failures.ends_at - now))
        raise OAuthError(
            "rate_limited",
            "Too many wrong client secrets from this address.",
            status=429,
            headers={"Retry-After": str(wait)},
        )
    if not client.check_secret(secret):
        raise invalid_client()
    failures.give_back()
    caches["local"].set(remembered, True, timeout=CLIENT_SECRET_REMEMBERED_SECONDS)
    return client


def client_grant_check(client: Client, grant_type: str) -> None:
    """Refuse a grant the client is not registered for."""
    if grant_type not in client.get_grant_types():
        raise OAuthError(
            "unauthorized_client", "This client is not registered for this grant type."
        )


def client_may_introspect(client: Client) -> bool:
    return client.type == Client.Type.CONFIDENTIAL and INTROSPECT_SCOPE in client.get_scopes()


def invalid_client(
    description: str = "Client authentication failed: unknown client, or wrong or missing "
    "credentials.",
) -> OAuthError:
    """401 with a Basic challenge, whichever way the client tried (RFC 6749 section 5.2)."""
    return OAuthError(
        "invalid_client", description, status=401, headers={"WWW-Authenticate": BASIC_CHALLENGE}
    )
