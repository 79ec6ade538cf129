"""Records the seven steps of each third-party sign-in, masked, so a person can see their own flow.

allauth runs the flow; this module only watches it. The middleware notices the two requests that
carry a flow through this site (the POST that starts it and the provider's redirect back to the
callback) and the adapter's HTTP session reports each call allauth makes to the provider. Steps
1-3 wait in the session, keyed by `state`, until the callback; a flow that ends signed in is saved
(`accounts.services.oauth_flow_record_save`), one that fails is dropped. Secrets, codes and tokens
are masked before anything is stored; the provider's access token is kept only in the person's
server-side session, for the live API demo, and leaves with it at sign-out.
"""

import base64
import json
import time
from contextvars import ContextVar
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.helpers import render_authentication_error
from allauth.socialaccount.providers import registry
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from accounts.flow_steps import FlowInProgress
from accounts.services import oauth_flow_record_save

PENDING_FLOWS_SESSION_KEY = "accounts.pending_oauth_flows"
PROVIDER_TOKEN_SESSION_KEY = "accounts.provider_access_token"  # noqa: S105 -- a key name
MAX_PENDING_FLOWS = 5
SECRET_FIELDS = {
    "client_secret",
    "code",
    "code_verifier",
    "access_token",
    "refresh_token",
    "id_token",
    "password",
}
MAX_RECORDED_ITEMS = 5


def mask(value: str) -> str:
    """Enough of a secret to recognise it, never enough to use it."""
    value = str(value)
    prefix = value[:4] if len(value) >= 16 else ""
    return f"{prefix}…({len(value)} characters, masked)"


def masked_authorization(header: str) -> str:
    """`token gho_…(40 characters, masked)`: the scheme stays readable, the credential does not."""
    scheme, _, credential = header.partition(" ")
    return f"{scheme} {mask(credential)}" if credential else mask(header)


def masked_fields(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: mask(val) if key in SECRET_FIELDS and val else val for key, val in fields.items()}


def jwt_parts_unverified(token: str) -> dict[str, Any] | None:
    """Header and claims of a JWT for display; the signature is masked, nothing is verified."""
    try:
        header, payload, signature = token.split(".")
        decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
        return {"header": decode(header), "claims": decode(payload), "signature": mask(signature)}
    except (ValueError, TypeError):
        return None


def trimmed(answer: Any) -> Any:
    """Keep recorded API answers small: the first few items of a list."""
    if isinstance(answer, list) and len(answer) > MAX_RECORDED_ITEMS:
        return [*answer[:MAX_RECORDED_ITEMS], f"… {len(answer) - MAX_RECORDED_ITEMS} more"]
    return answer


_current_flow: ContextVar[FlowInProgress | None] = ContextVar("oauth_flow", default=None)


def record_provider_exchange(response: requests.Response, *args, **kwargs) -> None:
    """requests hook: add a call to the provider's token endpoint or API to the current flow."""
    flow = _current_flow.get()
    if flow is None:
        return
    request = response.request
    duration_ms = response.elapsed.total_seconds() * 1000
    url = urlsplit(request.url)
    if request.method == "POST":
        body = request.body.decode() if isinstance(request.body, bytes) else request.body or ""
        flow.add(
            5,
            {
                "request": f"POST {url.scheme}://{url.netloc}{url.path}",
                "parameters": masked_fields(dict(parse_qsl(body))),
                "client_authentication": (
                    "HTTP Basic (masked)" if "Authorization" in request.headers else "in the body"
                ),
            },
        )
        flow.add(6, _token_answer(flow, response), duration_ms=duration_ms)
    else:
        flow.add(
            7,
            {
                "request": f"{request.method} {request.url}",
                "authorization": masked_authorization(request.headers.get("Authorization", "")),
                "status": response.status_code,
                "answer": trimmed(_json_or_text(response)),
            },
            duration_ms=duration_ms,
        )


def _json_or_text(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return f"(not JSON: {len(response.content)} bytes)"


def _token_answer(flow: FlowInProgress, response: requests.Response) -> dict[str, Any]:
    answer = _json_or_text(response)
    if not isinstance(answer, dict):
        # GitHub answers form-encoded unless asked for JSON.
        answer = dict(parse_qsl(response.text)) or answer
    detail: dict[str, Any] = {"status": response.status_code}
    if isinstance(answer, dict):
        flow.access_token = answer.get("access_token") or None
        detail["answer"] = masked_fields(answer)
        if answer.get("id_token"):
            detail["id_token"] = jwt_parts_unverified(answer["id_token"])
    else:
        detail["answer"] = answer
    return detail


def mark_flow_failed(request: HttpRequest) -> None:
    """Called by the adapter when allauth reports an error: the flow will not be saved."""
    flow = _current_flow.get()
    if flow is not None:
        flow.failed = True


def _provider_view(request: HttpRequest, suffix: str) -> str | None:
    """The provider id when this request is allauth's `<provider>_login` or `_callback` view."""
    match = request.resolver_match
    if match is None or not (match.url_name or "").endswith(suffix):
        return None
    provider_class_id = match.url_name.removesuffix(suffix)
    if provider_class_id not in {cls.id for cls in registry.get_class_list()}:
        return None
    return match.kwargs.get("provider_id") or provider_class_id


class OAuthFlowRecordingMiddleware:
    """Watch allauth's provider login and callback views and record the flow they carry."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        flow = getattr(request, "_oauth_flow", None)
        if flow is not None:
            _current_flow.set(None)
            self._finish(request, flow)
        elif request.method == "POST" and response.status_code == 302:
            provider_id = _provider_view(request, "_login")
            if provider_id:
                self._start(request, provider_id, response["Location"])
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        provider_id = _provider_view(request, "_callback")
        if provider_id is None:
            return
        state_id = request.GET.get("state", "")
        pending = request.session.get(PENDING_FLOWS_SESSION_KEY, {}).get(state_id)
        if pending is None or pending["provider_id"] != provider_id:
            # Not a flow this browser started: allauth refuses it; there is nothing to record.
            return
        flow = FlowInProgress(
            provider_id=provider_id,
            provider_name=pending["provider_name"],
            process=pending["process"],
            started_at=pending["started_at"],
            steps=pending["steps"],
        )
        flow.add(
            4,
            {
                "request": f"GET {request.path}",
                "code": mask(request.GET["code"]) if request.GET.get("code") else None,
                "error": request.GET.get("error"),
                "state": state_id,
                "state_matches_step_3": True,
            },
        )
        request._oauth_flow = flow
        _current_flow.set(flow)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """An answer allauth trips over (say, no Content-Type) still ends on the error page."""
        provider_id = _provider_view(request, "_callback")
        if provider_id is None:
            return None
        provider = get_adapter().get_provider(request, provider_id)
        return render_authentication_error(request, provider, exception=exception)

    def _start(self, request: HttpRequest, provider_id: str, location: str) -> None:
        query = dict(parse_qsl(urlsplit(location).query))
        state_id = query.get("state")
        if not state_id:
            return
        provider = get_adapter().get_provider(request, provider_id)
        app = provider.app
        source = (
            "local emulator"
            if app.settings.get("emulator")
            else ("Django admin (SocialApp)" if app.pk else "environment variables")
        )
        flow = FlowInProgress(
            provider_id=provider_id,
            provider_name=app.name or provider.name,
            process=request.POST.get("process", "login"),
            started_at=time.time(),
        )
        flow.add(
            1,
            {
                "provider": app.name or provider.name,
                "client_id": app.client_id,
                "client_secret": mask(app.secret) if app.secret else None,
                "registered_in": source,
            },
        )
        flow.add(
            2,
            {
                "page": request.POST.get("next") or "/accounts/login/",
                "choice": app.name or provider.name,
                "process": flow.process,
                "request": f"POST {request.path} (with the CSRF token)",
            },
        )
        flow.add(
            3,
            {
                "redirect_to": location.split("?", 1)[0],
                "parameters": masked_fields(query),
                "state": state_id,
                "code_challenge_method": query.get("code_challenge_method"),
            },
        )
        pending = request.session.get(PENDING_FLOWS_SESSION_KEY, {})
        pending[state_id] = {
            "provider_id": provider_id,
            "provider_name": flow.provider_name,
            "process": flow.process,
            "started_at": flow.started_at,
            "steps": flow.steps,
        }
        # Abandoned flows must not pile up in the session: keep the newest few.
        newest = sorted(pending.items(), key=lambda item: item[1]["started_at"])[
            -MAX_PENDING_FLOWS:
        ]
        request.session[PENDING_FLOWS_SESSION_KEY] = dict(newest)

    def _finish(self, request: HttpRequest, flow: FlowInProgress) -> None:
        state_id = request.GET.get("state", "")
        pending = request.session.get(PENDING_FLOWS_SESSION_KEY, {})
        if state_id in pending:
            del pending[state_id]
            request.session[PENDING_FLOWS_SESSION_KEY] = pending
        if flow.failed or not request.user.is_authenticated:
            return
        oauth_flow_record_save(user=request.user, flow=flow, completed_at=timezone.now())
        if flow.access_token:
            request.session[PROVIDER_TOKEN_SESSION_KEY] = {
                "provider_id": flow.provider_id,
                "token": flow.access_token,
            }
