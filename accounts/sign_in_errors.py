"""What went wrong in a third-party sign-in, told in plain words without echoing the provider."""

from dataclasses import dataclass

import requests
from allauth.socialaccount.providers.base.constants import AuthError
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.core.exceptions import PermissionDenied

# allauth's fixed wording when the token endpoint gave no token; what follows it is the provider's
# answer, which is never shown or logged.
TOKEN_ERROR_PREFIX = "Error retrieving access token"  # noqa: S105 -- a message, not a secret


@dataclass(frozen=True)
class SignInProblem:
    """A failed sign-in: a stable `kind` for logs and tests, a title and advice for the person."""

    kind: str
    title: str
    advice: str


def sign_in_problem(*, provider, error, exception, context: dict) -> SignInProblem:
    """Classify a failure reported by allauth's callback view.

    The exception's text is never shown or logged: allauth puts the provider's raw answer in it,
    and that answer may hold a token.
    """
    name = getattr(provider, "name", None) or "The provider"
    if error == AuthError.CANCELLED:
        return SignInProblem(
            "cancelled",
            "You cancelled the sign-in",
            f"{name} reported that you declined. Nothing was created or changed.",
        )
    if exception is None and "state_id" in context:
        return SignInProblem(
            "state",
            "This sign-in link is not valid here",
            "Its state value matches no sign-in that this browser started: it was already used, "
            "started in another browser, or forged. Start again from the sign-in page.",
        )
    if isinstance(exception, requests.Timeout):
        return SignInProblem(
            "timeout",
            f"{name} took too long to answer",
            "The site gave up waiting. Try again in a moment.",
        )
    if isinstance(exception, requests.ConnectionError):
        return SignInProblem(
            "unreachable",
            f"{name} could not be reached",
            "The connection failed or was cut before an answer came. Try again in a moment.",
        )
    if isinstance(exception, ValueError | KeyError | TypeError):
        return SignInProblem(
            "garbage",
            f"{name} sent an answer this site could not read",
            "It was not the JSON the OAuth protocol calls for. Try again in a moment.",
        )
    if isinstance(exception, requests.HTTPError):
        return SignInProblem(
            "provider_error",
            f"{name} answered with an error",
            "Its API failed while the site asked who you are. Try again in a moment.",
        )
    if isinstance(exception, OAuth2Error) and not str(exception).startswith(TOKEN_ERROR_PREFIX):
        return SignInProblem(
            "provider_error",
            f"{name} answered with an error",
            "Its API failed while the site asked who you are. Try again in a moment.",
        )
    if isinstance(exception, OAuth2Error):
        return SignInProblem(
            "token_refused",
            f"{name} did not give this site an access token",
            "The authorization code was refused, or the answer carried no token. A code works "
            "once and only for minutes, so a replayed or stale link ends here. Start again.",
        )
    if isinstance(exception, PermissionDenied):
        return SignInProblem(
            "denied", "The sign-in was refused", "Start again from the sign-in page."
        )
    return SignInProblem(
        "provider_error",
        f"{name} reported an error",
        "The sign-in did not complete. Start again from the sign-in page.",
    )
