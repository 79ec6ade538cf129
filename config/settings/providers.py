"""Sign-in providers for allauth: real credentials from the environment, else the local emulators.

Each provider gets its application (step 1 of the OAuth flow: client id and secret) from exactly
one place. Credentials in the environment win; without them, development and tests point the
provider at `emulators/` over loopback; production never does. An application registered in
Django admin (SocialApp) is used only for a provider configured neither way, and
`accounts.adapters.SocialAccountAdapter.list_apps` keeps it that way at run time.

Apps (mobile, single-page, desktop) that sign people in with the provider themselves and hand the
provider's token to allauth headless (`/_allauth/app/v1/auth/provider/token`) are hidden
applications beside it, one per client id the app uses: allauth finds one by the `client_id` the
app names, and lists none on the sign-in page. Google's are checked by the ID token's audience;
GitHub's by GitHub's application-token API, which needs the app's secret
(`accounts.providers.GitHubProvider`).
"""

import json
from typing import Any

import environ

PROVIDER_NAMES = {"github": "GitHub", "google": "Google"}
# Where the emulated apps' own provider sign-ins return (a native app's loopback redirect, on
# any port, RFC 8252 section 7.3): registered with the emulators for the apps' client ids below.
EMULATED_APP_REDIRECT_URI = "http://127.0.0.1/oauth2redirect"


def emulated_app_client_id(provider: str) -> str:
    """The client id of the emulated app that signs in with `provider` itself (hidden)."""
    return f"signin-lab-{provider}-app-emulator"


def emulated_provider_urls(emulator_url: str) -> dict[str, dict[str, Any]]:
    """allauth's URL settings that send GitHub and Google traffic to the emulators instead."""
    base = emulator_url.rstrip("/")
    return {
        "github": {"GITHUB_URL": f"{base}/github"},
        "google": {
            "AUTHORIZE_URL": f"{base}/google/o/oauth2/v2/auth",
            "ACCESS_TOKEN_URL": f"{base}/google/token",
            "CERTS_URL": f"{base}/google/oauth2/v1/certs",
            "IDENTITY_URL": f"{base}/google/oauth2/v2/userinfo",
            "ID_TOKEN_ISSUER": f"{base}/google",
        },
    }


def social_providers(
    env: environ.Env,
    *,
    emulator_url: str = "",
    emulator_secret: str = "",
    from_environment: bool = True,
) -> dict[str, dict[str, Any]]:
    """Build SOCIALACCOUNT_PROVIDERS: PKCE everywhere, apps from the environment or the emulators.

    `from_environment=False` ignores any credentials in the environment (the test settings use it,
    so a developer's real client id never sends a test to the real provider).
    """
    providers: dict[str, dict[str, Any]] = {
        # GitHub and Google say whether they verified an email, and allauth trusts only what
        # they verified: such a person may sign into the account with that (verified) address.
        # Any other provider gets this only by its app's `"email_authentication": true`.
        "github": {
            # allauth's GitHub provider, plus sign-in with an access token an app holds.
            "provider_class": "accounts.providers.GitHubProvider",
            "SCOPE": ["read:user", "user:email"],
            "OAUTH_PKCE_ENABLED": True,
            "EMAIL_AUTHENTICATION": True,
        },
        "google": {
            "SCOPE": ["openid", "profile", "email"],
            "AUTH_PARAMS": {"access_type": "online", "prompt": "select_account"},
            "OAUTH_PKCE_ENABLED": True,
            "EMAIL_AUTHENTICATION": True,
            # Ask userinfo (step 7) when the ID token lacks a picture; otherwise the signed ID
            # token alone says who the person is.
            "FETCH_USERINFO": True,
        },
        "openid_connect": {"OAUTH_PKCE_ENABLED": True, "APPS": []},
    }
    emulated = emulated_provider_urls(emulator_url) if emulator_url else {}
    for provider, name in PROVIDER_NAMES.items():
        prefix = provider.upper()
        client_id = env.str(f"{prefix}_CLIENT_ID", default="") if from_environment else ""
        if client_id:
            providers[provider]["APPS"] = [
                {
                    "name": name,
                    "client_id": client_id,
                    "secret": env.str(f"{prefix}_CLIENT_SECRET"),
                },
                *_app_clients(env, provider, name),
            ]
        elif emulator_url:
            providers[provider].update(emulated[provider])
            providers[provider]["APPS"] = [
                {
                    "name": f"{name} (local emulator)",
                    "client_id": f"signin-lab-{provider}-emulator",
                    "secret": emulator_secret,
                    "settings": {"emulator": True},
                },
                {
                    "name": f"{name} (app, local emulator)",
                    "client_id": emulated_app_client_id(provider),
                    # GitHub's check needs the app's secret; Google's (a desktop client's, which
                    # Google says is not secret) only serves the app's own token request.
                    "secret": emulator_secret,
                    "settings": {"emulator": True, "hidden": True},
                },
            ]
    oidc_providers = env.str("OPENID_CONNECT_PROVIDERS", default="[]") if from_environment else "[]"
    for oidc in json.loads(oidc_providers):
        providers["openid_connect"]["APPS"].append(
            {
                "provider_id": oidc["provider_id"],
                "name": oidc["name"],
                "client_id": oidc["client_id"],
                "secret": oidc["secret"],
                "settings": {"server_url": oidc["server_url"]},
            }
        )
    return providers


def _app_clients(env: environ.Env, provider: str, name: str) -> list[dict[str, Any]]:
    """The hidden applications of apps that sign in with `provider` themselves:
    GOOGLE_APP_CLIENT_IDS (comma-separated, the audiences of the ID tokens accepted), or
    GITHUB_APP_CLIENT_ID and GITHUB_APP_CLIENT_SECRET (one OAuth app)."""
    if provider == "google":
        client_ids = env.list("GOOGLE_APP_CLIENT_IDS", default=[])
        return [
            {"name": f"{name} (app)", "client_id": cid, "secret": "", "settings": {"hidden": True}}
            for cid in client_ids
        ]
    client_id = env.str("GITHUB_APP_CLIENT_ID", default="")
    if not client_id:
        return []
    return [
        {
            "name": f"{name} (app)",
            "client_id": client_id,
            "secret": env.str("GITHUB_APP_CLIENT_SECRET"),
            "settings": {"hidden": True},
        }
    ]


def providers_from_environment(env: environ.Env) -> set[str]:
    """Provider ids whose application comes from the environment (admin may not add another)."""
    configured = {p for p in PROVIDER_NAMES if env.str(f"{p.upper()}_CLIENT_ID", default="")}
    configured |= {
        oidc["provider_id"]
        for oidc in json.loads(env.str("OPENID_CONNECT_PROVIDERS", default="[]"))
    }
    return configured


def emulator_clients(providers: dict[str, dict[str, Any]], *, site_urls: list[str]) -> list[dict]:
    """The applications to register with the emulators: every provider configured to use them.

    Redirect URIs are exact, one per site URL, as a real provider's registration would hold.
    """
    clients = []
    for provider in PROVIDER_NAMES:
        for app in providers.get(provider, {}).get("APPS", []):
            app_settings = app.get("settings", {})
            if not app_settings.get("emulator"):
                continue
            if app_settings.get("hidden"):
                redirect_uris = [EMULATED_APP_REDIRECT_URI]
            else:
                redirect_uris = [
                    f"{url.rstrip('/')}/accounts/{provider}/login/callback/" for url in site_urls
                ]
            clients.append(
                {
                    "provider": provider,
                    "name": "signin-lab app" if app_settings.get("hidden") else "signin-lab",
                    "client_id": app["client_id"],
                    "client_secret": app["secret"],
                    "redirect_uris": redirect_uris,
                }
            )
    return clients
