"""allauth adapters: the one place where this project changes allauth's behaviour."""

import logging
import time
from typing import Any

import requests
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest

from accounts import services
from accounts.flow_recording import mark_flow_failed, record_provider_exchange
from accounts.login_failures import FailureLimit, LoginFailures, login_typed, rate_parse
from accounts.sign_in_errors import sign_in_problem
from config.client_address import client_address, client_network

logger = logging.getLogger(__name__)

# The web sign-in's failure counters (accounts.login_failures), apart from the token endpoint's.
SIGN_IN_ADDRESS_SCOPE = "sign_in_account_address"
SIGN_IN_SCOPE = "sign_in_account"


class AccountAdapter(DefaultAccountAdapter):
    """Passwords: allauth's change, set and reset flows all end here, its sign-in and
    reauthentication count their failures here. Client addresses."""

    def set_password(self, user, password: str) -> None:
        """Through the account service, so every other credential of the person ends."""
        services.user_password_set(user=user, password=password, actor=user)

    def pre_authenticate(self, request: HttpRequest, **credentials) -> None:
        """Reserve this attempt's place among the login's failures, from this address and from
        every address (accounts.login_failures, as the token endpoint does), or refuse it: past
        the limit from this address, or, while the login is under attack from everywhere, from
        an address that has failed for it lately.

        This replaces allauth's own check, whose limit per login from every address (5 failures
        in 5 minutes) let anyone lock a person out, the admin too, by typing their email with
        wrong passwords. allauth's limit on every attempt per address ("login") still applies,
        and its "login_failed" limit still guards second-factor codes, per person.
        """
        now = time.time()
        self._reserved = self._login_failures(request, credentials, now=now)
        if self._reserved is not None and self._reserved.reserve(now) is not None:
            self._reserved = None
            raise self.validation_error("too_many_login_attempts")

    def authenticate(self, request: HttpRequest, **credentials) -> Any:
        """allauth's, then a right password gives its reserved place back: only failures stay
        counted."""
        self._reserved = None
        user = super().authenticate(request, **credentials)
        if user is not None and self._reserved is not None:
            self._reserved.release()
        return user

    @staticmethod
    def _login_failures(
        request: HttpRequest, credentials: dict, *, now: float
    ) -> LoginFailures | None:
        return LoginFailures.of(
            login=login_typed(credentials),
            address=client_network(request),
            here=FailureLimit(
                SIGN_IN_ADDRESS_SCOPE, rate_parse(settings.SIGN_IN_RATE_PER_ACCOUNT_ADDRESS)
            ),
            everywhere=FailureLimit(SIGN_IN_SCOPE, rate_parse(settings.SIGN_IN_RATE_PER_ACCOUNT)),
            now=now,
        )

    def get_client_ip(self, request: HttpRequest) -> str:
        """The project's one rule (config.client_address), for allauth's rate limits, its
        sessions page and its notifications: allauth's own counts proxies from the right of
        X-Forwarded-For, whoever the peer is."""
        address = client_address(request)
        if not address:
            raise PermissionDenied("Unable to determine the client's address")
        return address


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Third-party sign-in: one application per provider, safe linking, recorded HTTP exchanges."""

    def list_apps(
        self, request: HttpRequest | None, provider=None, client_id=None
    ) -> list[SocialApp]:
        """At most one visible application per provider, so allauth's `get_app` can never find
        two, and every hidden one (an app's own client id, which allauth finds only by that id:
        config.settings.providers).

        Precedence: the environment, then Django admin, then the local emulators. Admin refuses a
        second SocialApp for a provider (accounts.admin); this keeps run time safe regardless.
        """
        by_provider: dict[str, list[SocialApp]] = {}
        hidden: list[SocialApp] = []
        for app in super().list_apps(request, provider=provider, client_id=client_id):
            if app.settings.get("hidden"):
                hidden.append(app)
            else:
                by_provider.setdefault(app.provider_id or app.provider, []).append(app)
        return [*(self._preferred_app(apps) for apps in by_provider.values()), *hidden]

    def list_providers(self, request: HttpRequest) -> list[Any]:
        """The providers people may pick (sign-in page, headless config): an app's hidden
        application is no choice of its own."""
        return [
            provider
            for provider in super().list_providers(request)
            if not (provider.app and provider.app.settings.get("hidden"))
        ]

    @staticmethod
    def _preferred_app(apps: list[SocialApp]) -> SocialApp:
        configured = [app for app in apps if app.pk is None and not app.settings.get("emulator")]
        admin = sorted((app for app in apps if app.pk is not None), key=lambda app: app.pk)
        emulated = [app for app in apps if app.settings.get("emulator")]
        return (configured or admin or emulated)[0]

    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form=None):
        """The new user, their connected account and their email addresses, all or none."""
        with transaction.atomic():
            return super().save_user(request, sociallogin, form)

    def authenticate_by_email(self, sociallogin: SocialLogin):
        """Join an existing account only when its own copy of the email is verified too.

        allauth matches a provider's verified email against local accounts and, failing a verified
        one, also an unverified one. Joining that account would let whoever registered the address
        first (without proving it) share the account: pre-account hijacking. Such a person is sent
        to allauth's sign-up form instead, which says the address is taken and what to do.
        """
        match = super().authenticate_by_email(sociallogin)
        if match is None:
            return None
        user, email = match
        if not EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists():
            return None
        return match

    def get_requests_session(self) -> requests.Session:
        """allauth's session for provider calls, with each exchange added to the recorded flow."""
        session = super().get_requests_session()
        session.hooks["response"].append(record_provider_exchange)
        return session

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ) -> None:
        """Explain the failure in plain words; log its kind, never the provider's answer."""
        problem = sign_in_problem(
            provider=provider, error=error, exception=exception, context=extra_context or {}
        )
        mark_flow_failed(request)
        logger.warning(
            "sign-in with %s failed: %s", getattr(provider, "id", provider), problem.kind
        )
        if extra_context is not None:
            extra_context["problem"] = problem
        super().on_authentication_error(
            request, provider, error=error, exception=exception, extra_context=extra_context
        )
