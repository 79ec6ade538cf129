"""The API keeps its OpenAPI contract under a fuzzer: schemathesis's whole run (every phase, every
check) over every operation of the schema the project serves, against the app in process.

A failure lists each disagreement with a curl command that reproduces it against a server on
http://localhost. The run is seeded, derandomized and keeps no example database, so every run
(CI's included) sends the same requests.
"""

import traceback
from http import HTTPStatus

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.db import connections
from schemathesis.engine import events
from schemathesis.transport.wsgi import WSGITransport

from api import selectors, services
from api.models import TokenFamily
from tests.factories import UserFactory

# The app answers in schemathesis's worker threads, each with a database connection of its own:
# they see only what is committed.
pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES_PER_OPERATION = 25
SEED = 20_261_126


@pytest.fixture
def wsgi_transport(monkeypatch):
    """schemathesis 4.32 hands its in-process transport the socket options of the run
    (max_redirects, ...) when the ignored_auth check sends a request again without credentials,
    and werkzeug's client refuses them. The transport drops them on its usual path: drop them on
    this one too."""
    send = WSGITransport.send

    def send_without_socket_options(self, case, *, session=None, **kwargs):
        for name in ("max_redirects", "verify", "cert", "proxies"):
            kwargs.pop(name, None)
        return send(self, case, session=session, **kwargs)

    monkeypatch.setattr(WSGITransport, "send", send_without_socket_options)


@pytest.fixture
def unthrottled(settings):
    """Every rate limit far above what the run sends, so that it is answered on its requests'
    merits, not 429 after the first 60 (429 stays documented: it is a real answer)."""
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {scope: "100000/min" for scope in rates},
    }


def served_app():
    django_application = get_wsgi_application()

    def application(environ, start_response):
        """The app as a WSGI server runs it, which werkzeug's test client does not quite: with
        a client address (without one, allauth refuses every login with a 403 and the rate
        limits count no address), and each response closed once read (Django's request_finished,
        which closes the thread's database connection)."""
        environ.setdefault("REMOTE_ADDR", "127.0.0.1")
        response = django_application(environ, start_response)
        try:
            return [b"".join(response)]
        finally:
            response.close()

    return application


def contract_schema(user):
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            # The failures name the test's own tokens and passwords: nothing to hide.
            "output": {"sanitization": {"enabled": False}},
            "generation": {
                "max-examples": EXAMPLES_PER_OPERATION,
                "deterministic": True,
                "database": "none",
            },
        }
    )
    schema = schemathesis.openapi.from_wsgi("/api/schema/", served_app(), config=config)

    # Every operation that needs credentials is called as `user`, with a bearer access token.
    # No operation is left out. One needs handling: the run calls revoke-all too, which revokes
    # this token with all the user's others, so the next case gets a new pair rather than 401s
    # for the rest of the run. POST /api/auth/token/refresh/ is only ever answered 400 or 401
    # (no refresh token a fuzzer makes up is ours), which is its contract for such input.
    @schema.auth.auth(refresh_interval=None)
    class Bearer:
        access = ""

        def get(self, case, context):
            try:
                if not Bearer.access or not selectors.token_verdict(token=Bearer.access).valid:
                    pair = services.token_pair_issue(user=user, origin=TokenFamily.Origin.PASSWORD)
                    Bearer.access = pair.access
            finally:
                # A worker thread outside any request: nothing else closes its connection, which
                # would keep PostgreSQL from dropping the test database.
                connections.close_all()
            return Bearer.access

        def set(self, case, access, context):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {access}"}

    return schema


def contract_run(schema) -> tuple[list[str], set[str]]:
    """The failures of a whole schemathesis run, and the operations it got a 2xx from."""
    failures, succeeded = [], set()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            label = event.recorder.label
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.failure_info is not None:
                        info = check.failure_info
                        steps = "\n".join(step.curl for step in info.steps) or info.code_sample
                        failures.append(
                            f"[{event.phase.value}] {label} {check.name}: "
                            f"{info.failure.title}\n{info.failure.message}\n{steps}"
                        )
            for interaction in event.recorder.interactions.values():
                response = interaction.response
                if response is not None and 200 <= response.status_code < 300:
                    succeeded.add(f"{interaction.request.method} {label.split(' ', 1)[-1]}")
        elif isinstance(event, events.NonFatalError):
            failures.append("".join(traceback.format_exception(event.value)))
        elif isinstance(event, events.FatalError):
            failures.append("".join(traceback.format_exception(event.exception)))
    return failures, succeeded


def test_every_operation_keeps_the_contract(wsgi_transport, unthrottled):
    schema = contract_schema(UserFactory())

    failures, succeeded = contract_run(schema)

    assert not failures, "\n\n".join(failures)
    # The run got past authentication: every operation that needs it answered the user.
    authenticated = {
        f"{method.upper()} {path}"
        for path, operations in schema.raw_schema["paths"].items()
        for method, operation in operations.items()
        if operation.get("security", [{}]) != [{}]
    }
    assert authenticated
    assert authenticated <= succeeded


def test_the_errors_any_request_can_meet_are_documented_where_they_apply(client):
    """406 (an Accept header JSON cannot satisfy) for every operation; 400, 413 and 415 (a body
    that is invalid, too large or not JSON) for every operation that reads one. A fuzzer rarely
    sends such requests, so this is checked here."""
    paths = client.get("/api/schema/?format=json").json()["paths"]

    for path, operations in paths.items():
        for method, operation in operations.items():
            documented = set(operation["responses"])
            assert str(HTTPStatus.NOT_ACCEPTABLE.value) in documented, (method, path)
            if "requestBody" in operation:
                assert {"400", "413", "415"} <= documented, (method, path)
