"""Sign-in providers for allauth: real credentials from the environment, else the local emulators.

Each provider gets its application (step 1 of the OAuth flow: client id and secret) from exactly
one place. Credentials in the environment win; without them, development and tests point the
provider at `emulators/` over loopback; production never does. An application registered in
Django admin (SocialApp) is used only for a provider configured neither way, and
`accounts.adapters.SocialAccountAdapter.list_apps` keeps it that way at run time.
"""

import json
from typing import Any

import environ

PROVIDER_NAMES = {"github": "GitHub", "google": "Google"}


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
                {"name": name, "client_id": client_id, "secret": env.str(f"{prefix}_CLIENT_SECRET")}
            ]
        elif emulator_url:
            providers[provider].update(emulated[provider])
            providers[provider]["APPS"] = [
                {
                    "name": f"{name} (local emulator)",
                    "client_id": f"signin-lab-{provider}-emulator",
                    "secret": emulator_secret,
                    "settings": {"emulator": True},
                }
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
            if app.get("settings", {}).get("emulator"):
                clients.append(
                    {
                        "provider": provider,
                        "name": "signin-lab",
                        "client_id": app["client_id"],
                        "client_secret": app["secret"],
                        "redirect_uris": [
                            f"{url.rstrip('/')}/accounts/{provider}/login/callback/"
                            for url in site_urls
                        ],
                    }
                )
    return clients
