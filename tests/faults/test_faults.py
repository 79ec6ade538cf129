"""Faults under load, for real: two production app servers (gunicorn, config.settings.production)
on a PostgreSQL cluster and a Redis server of this module's own, called by threads while the
suite stops PostgreSQL, kills Redis, or drops what a subscription receives.

Server A reaches Redis through a proxy (tests/faults/services.py) that passes everything until a
test tells it to drop or delay; server B reaches Redis directly. Each test prints the figures it
measured on a `FAULT` line (`pytest -s` shows them); the README's "What happens when…" quotes
them.
"""

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from http import HTTPStatus

import pytest
import requests

from config.memory import MAX_STALE_SECONDS
from tests.faults.services import (
    KillableRedis,
    Load,
    PrivatePostgres,
    PubSubProxy,
    postgres_binaries,
    wait_until,
)
from tests.servers import (
    HOST,
    HTTP_TIMEOUT,
    Browser,
    bearer,
    person_create,
    production_env_prepared,
    redis_server_binary,
    running_gunicorn,
    sign_in,
)

SESSION_COOKIE = "__Host-sessionid"
PASSWORD = "correct horse battery staple"
# How long a request may take to reach the server and be answered, on top of a documented bound.
REQUEST_SLACK_SECONDS = 0.5


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[dict]:
    if not os.environ.get("SIGNIN_LAB_TEST_POSTGRES_URL"):
        if os.environ.get("CI"):
            pytest.fail("CI's second pass must run the fault suite (.ci/services)")
        pytest.skip('the PostgreSQL + Redis pass runs this: eval "$(bash .ci/services)" first')
    assert postgres_binaries() is not None
    assert redis_server_binary() is not None
    with ExitStack() as cleanup:
        postgres = PrivatePostgres()
        cleanup.callback(postgres.remove)
        postgres.start()
        postgres.create_database()
        redis_server = KillableRedis(tmp_path_factory.mktemp("redis"))
        cleanup.callback(redis_server.stop)
        redis_server.start()
        proxy = PubSubProxy(redis_server.port)
        cleanup.callback(proxy.close)
        env = production_env_prepared(
            tmp_path_factory, database_url=postgres.url, redis_url=redis_server.url()
        )
        for name in ("faults", "other"):
            person_create(env, name)
        servers = {
            "A": cleanup.enter_context(
                running_gunicorn({**env, "REDIS_URL": proxy.url()}, workers=2)
            ),
            "B": cleanup.enter_context(running_gunicorn(env, workers=2)),
        }
        for server in servers.values():
            wait_until(lambda s=server: healthy(s.url), seconds=60, step=0.2)
        yield {
            "A": servers["A"].url,
            "B": servers["B"].url,
            "postgres": postgres,
            "redis": redis_server,
            "proxy": proxy,
            "servers": servers,
        }
    # Stopped: neither server wrote a traceback, whatever was done to them.
    for name, server in servers.items():
        assert "Traceback" not in server.output[0], f"server {name}:\n{server.output[0][-3000:]}"


def healthy(url: str) -> bool:
    try:
        return Browser().request("GET", f"{url}/healthz").status_code == HTTPStatus.OK
    except requests.RequestException:
        return False


def headers(**extra: str) -> dict[str, str]:
    return {"Host": HOST, "X-Forwarded-Proto": "https", **extra}


def token_pair(server: str, login: str) -> dict:
    answer = Browser().request(
        "POST", f"{server}/api/auth/token/", json={"username": login, "password": PASSWORD}
    )
    assert answer.status_code == HTTPStatus.OK, answer.text
    return answer.json()


def signed_in_cookie(server: str, login: str) -> str:
    browser = Browser()
    sign_in(browser, server, login=f"{login}@example.com", password=PASSWORD)
    return f"{SESSION_COOKIE}={browser.cookies[SESSION_COOKIE]}"


def get(url: str, **extra: str):
    """A load call: GET `url` with these headers, on the thread's own session."""
    return lambda session: session.get(url, headers=headers(**extra), timeout=HTTP_TIMEOUT)


def revoked_three_ways(server: str) -> dict[str, str]:
    """Access tokens refused by each kind of mark: its own, its family's, its user's."""
    one, family = token_pair(server, "faults"), token_pair(server, "faults")
    others = token_pair(server, "other")
    client = Browser()
    for body in ({"token": one["access"]}, {"token": family["refresh"]}):
        assert client.request("POST", f"{server}/api/auth/token/revoke/", json=body).ok
    revoke_all = client.request(
        "POST", f"{server}/api/auth/token/revoke-all/", headers=bearer(others["access"])
    )
    assert revoke_all.ok, revoke_all.text
    return {
        "token mark": one["access"],
        "family mark": family["access"],
        "user mark": others["access"],
    }


def statuses(outcomes) -> set[int]:
    return {outcome.status for outcome in outcomes}


@pytest.mark.parametrize("link", ["pass", "delay"])
def test_a_token_revoked_on_one_server_is_refused_on_the_other_from_the_next_request(stack, link):
    """With A's subscription on a plain link, and on one that delivers everything 0.2 s late
    ("delay"): B's revoke has returned while its announcement is still on the way to A."""
    a, b, proxy = stack["A"], stack["B"], stack["proxy"]
    access = token_pair(b, "faults")["access"]
    me = f"{a}/api/me/"

    proxy.mode = link
    try:
        with Load({"bearer on A": get(me, **bearer(access))}, threads=4) as load:
            time.sleep(1)
            sent_at = time.monotonic()
            revoke = Browser().request(
                "POST", f"{b}/api/auth/token/revoke/", json={"token": access}
            )
            revoked_at = time.monotonic()
            time.sleep(1)
    finally:
        proxy.mode = "pass"

    assert revoke.status_code == HTTPStatus.OK
    # Requests that started while the revoke was on its way may go either way.
    before = load.of("bearer on A", before=sent_at)
    after = load.of("bearer on A", after=revoked_at)
    assert statuses(before) == {HTTPStatus.OK}
    assert after
    assert statuses(after) == {HTTPStatus.UNAUTHORIZED}, {o.body for o in after if o.status != 401}
    accepted = [o.started for o in load.outcomes if o.status == HTTPStatus.OK]
    print(
        f"\nFAULT revocation across servers, {link} link: {len(before)} accepted before the "
        "revoke was sent, "
        f"{len(after)} refused after it returned, 0 accepted; the revoke took "
        f"{(revoked_at - sent_at) * 1000:.0f} ms and the last accepted request on A started "
        f"{(max(accepted) - sent_at) * 1000:.0f} ms after it was sent"
    )


def session_and_token_load(stack, revoked: dict[str, str], good: str, cookie: str) -> dict:
    a, b = stack["A"], stack["B"]
    calls = {
        f"revoked by {kind} on {name}": get(f"{url}/api/me/", **bearer(token))
        for kind, token in revoked.items()
        for name, url in (("A", a), ("B", b))
    }
    calls |= {
        "good token on A": get(f"{a}/api/me/", **bearer(good)),
        "session on A": get(f"{a}/api/me/", Cookie=cookie),
        "session on B": get(f"{b}/api/me/", Cookie=cookie),
    }
    return calls


def outage(
    load: Load,
    *,
    stop: Callable[[], None],
    start: Callable[[], None],
    down_seconds: float,
    recovered: str,
    while_down: Callable[[], None] = lambda: None,
) -> tuple[float, float, float]:
    """Under `load`, after 1 s: `stop()`, `while_down()`, `down_seconds` later `start()`; then
    wait until the `recovered` call is answered 200, and 4 s more, so every call is answered
    again. When the dependency went down, when its start began and when it was back."""
    time.sleep(1)
    stop()
    stopped_at = time.monotonic()
    while_down()
    time.sleep(max(0.0, stopped_at + down_seconds - time.monotonic()))
    start_at = time.monotonic()
    start()
    back_at = time.monotonic()
    wait_until(lambda: HTTPStatus.OK in statuses(load.of(recovered, after=back_at)), seconds=30)
    time.sleep(4)
    return stopped_at, start_at, back_at


def kill_and_restart_redis(
    stack, *, keep_data: bool, calls: dict
) -> tuple[Load, float, float, float]:
    """Redis killed under load and started again 2 s later: the load, and the outage's times."""
    redis_server = stack["redis"]
    with Load(calls, threads=6) as load:
        times = outage(
            load,
            stop=redis_server.kill,
            start=lambda: redis_server.start(keep_data=keep_data),
            down_seconds=2,
            recovered="good token on A",
        )
    return (load, *times)


def recovery_seconds(load: Load, label: str, back_at: float) -> float:
    return (
        min(o.started for o in load.of(label, after=back_at) if o.status == HTTPStatus.OK) - back_at
    )


def test_redis_killed_and_restarted_with_its_data_signs_nobody_out(stack):
    revoked = revoked_three_ways(stack["B"])
    good = token_pair(stack["B"], "faults")["access"]
    cookie = signed_in_cookie(stack["B"], "faults")
    calls = session_and_token_load(stack, revoked, good, cookie)

    load, killed_at, restart_at, back_at = kill_and_restart_redis(
        stack, keep_data=True, calls=calls
    )

    assert not [o for o in load.outcomes if o.status == HTTPStatus.INTERNAL_SERVER_ERROR]
    for label in calls:
        if label.startswith("revoked"):
            assert HTTPStatus.OK not in statuses(load.of(label)), label
    for label in ("session on A", "session on B"):
        during = load.of(label, after=killed_at + 0.1, before=restart_at)
        assert HTTPStatus.SERVICE_UNAVAILABLE in statuses(during), label
        assert statuses(during) <= {HTTPStatus.SERVICE_UNAVAILABLE}, label
        assert not [o for o in load.of(label) if o.clears_session_cookie], label
        assert statuses(load.of(label, after=back_at + 1.0)) == {HTTPStatus.OK}, label
    print(
        "\nFAULT Redis killed, restarted with its data: "
        f"{len(load.outcomes)} requests, 0 revoked tokens accepted, 0 session cookies cleared; "
        f"sessions back {recovery_seconds(load, 'session on A', back_at):.2f} s (A) and "
        f"{recovery_seconds(load, 'session on B', back_at):.2f} s (B) after Redis listened, "
        f"bearer {recovery_seconds(load, 'good token on A', back_at):.2f} s"
    )


def test_redis_killed_and_restarted_empty_brings_no_revoked_token_back(stack):
    revoked = revoked_three_ways(stack["B"])
    good = token_pair(stack["B"], "faults")["access"]
    cookie = signed_in_cookie(stack["B"], "faults")
    calls = session_and_token_load(stack, revoked, good, cookie)

    load, _, restart_at, back_at = kill_and_restart_redis(stack, keep_data=False, calls=calls)

    assert not [o for o in load.outcomes if o.status == HTTPStatus.INTERNAL_SERVER_ERROR]
    for label in calls:
        if label.startswith("revoked"):
            assert HTTPStatus.OK not in statuses(load.of(label)), label
            assert statuses(load.of(label, after=back_at + 1.0)) == {HTTPStatus.UNAUTHORIZED}, label
    for label in ("session on A", "session on B"):
        # While Redis is down the cookie is left alone; once Redis is back without the session
        # (an answer that came after the restart began), the session is over and clearing the
        # cookie is right.
        assert not [o for o in load.of(label, before=restart_at) if o.clears_session_cookie], label
        assert statuses(load.of(label, after=back_at + 1.0)) == {HTTPStatus.UNAUTHORIZED}, label
    print(
        "\nFAULT Redis killed, restarted empty: "
        f"{len(load.outcomes)} requests, 0 revoked tokens accepted (marks copied back from "
        f"PostgreSQL), 0 session cookies cleared while it was down; bearer back "
        f"{recovery_seconds(load, 'good token on A', back_at):.2f} s after Redis listened"
    )


def test_postgresql_stopped_keeps_bearer_identity_answering_and_the_rest_503(stack):
    a, b = stack["A"], stack["B"]
    access = token_pair(b, "faults")["access"]
    unused = token_pair(b, "faults")["access"]
    cookie = signed_in_cookie(b, "faults")
    promised = {
        "bearer /api/me/ on A": get(f"{a}/api/me/", **bearer(access)),
        "bearer /api/me/ on B": get(f"{b}/api/me/", **bearer(access)),
        "bearer probe on A": get(f"{a}/compare/probe/", **bearer(access)),
        "JWKS on B": get(f"{b}/.well-known/jwks.json"),
    }
    refused = {
        "bearer /api/notes/ on A": get(f"{a}/api/notes/", **bearer(access)),
        "session /api/me/ on B": get(f"{b}/api/me/", Cookie=cookie),
        "token grant on A": lambda session: session.post(
            f"{a}/api/auth/token/",
            json={"username": "other", "password": PASSWORD},  # not the tested family's owner
            headers=headers(),
            timeout=HTTP_TIMEOUT,
        ),
        "home page on B": get(f"{b}/", Cookie=cookie),
    }
    postgres = stack["postgres"]

    answers = []

    def first_use() -> None:
        # A family's first use in a minute writes its "last used" time: skipped, not refused.
        answers.append(Browser().request("GET", f"{a}/api/me/", headers=bearer(unused)))

    with Load(promised | refused, threads=6) as load:
        stopped_at, restart_at, back_at = outage(
            load,
            stop=postgres.stop,
            start=postgres.start,
            down_seconds=3,
            recovered="bearer /api/notes/ on A",
            while_down=first_use,
        )

    assert answers[0].status_code == HTTPStatus.OK, answers[0].text
    for label in promised:
        assert statuses(load.of(label)) == {HTTPStatus.OK}, label
    # A copy of the session's user lives at most MAX_STALE_SECONDS; then its row must be read.
    for label in refused:
        during = load.of(label, after=stopped_at + MAX_STALE_SECONDS + 0.2, before=restart_at)
        assert during, label
        assert statuses(during) == {HTTPStatus.SERVICE_UNAVAILABLE}, label
        if not label.startswith("home"):
            assert {json.loads(o.body)["error"]["code"] for o in during} == {
                "service_unavailable"
            }, label
        assert statuses(load.of(label, after=back_at + 2.0)) == {HTTPStatus.OK}, label
    down = [o for o in load.outcomes if stopped_at <= o.started < back_at]
    print(
        f"\nFAULT PostgreSQL stopped for {back_at - stopped_at:.1f} s: {len(down)} requests "
        f"meanwhile; bearer /api/me/, the bearer probe and JWKS: "
        f"{sum(len(load.of(label)) for label in promised)} answers, all 200; notes, session, "
        f"grants and pages 503; notes back "
        f"{recovery_seconds(load, 'bearer /api/notes/ on A', back_at):.2f} s, sessions "
        f"{recovery_seconds(load, 'session /api/me/ on B', back_at):.2f} s after PostgreSQL "
        "started"
    )


@pytest.mark.parametrize("mode", ["drop-messages", "blackhole"])
def test_with_the_subscription_losing_bytes_a_revocation_is_seen_within_the_bound(stack, mode):
    """Server A's subscription loses every announcement ("drop-messages", pings still answered)
    or everything ("blackhole"); a revocation made on B must still be refused on A within
    MAX_STALE_SECONDS (a copy's hard lifetime) plus the request's own time."""
    a, b, proxy = stack["A"], stack["B"], stack["proxy"]
    access = token_pair(b, "faults")["access"]
    client = requests.Session()

    def status_on_a() -> int:
        return client.get(f"{a}/api/me/", headers=headers(**bearer(access)), timeout=10).status_code

    for _ in range(20):  # both of A's workers now hold a copy: "no mark for this token"
        assert status_on_a() == HTTPStatus.OK
    dropped_before = proxy.dropped
    proxy.mode = mode
    try:
        time.sleep(0.5)
        revoke = Browser().request("POST", f"{b}/api/auth/token/revoke/", json={"token": access})
        revoked_at = time.monotonic()
        answers = []
        while time.monotonic() - revoked_at < MAX_STALE_SECONDS + 1.5:
            answers.append((time.monotonic() - revoked_at, status_on_a()))
            time.sleep(0.01)
    finally:
        proxy.mode = "pass"

    assert revoke.status_code == HTTPStatus.OK
    assert proxy.dropped > dropped_before, "the proxy dropped nothing: no fault was injected"
    accepted = [at for at, status in answers if status == HTTPStatus.OK]
    bound = MAX_STALE_SECONDS + REQUEST_SLACK_SECONDS
    assert not accepted or max(accepted) < bound
    assert {status for at, status in answers if at >= bound} == {HTTPStatus.UNAUTHORIZED}
    print(
        f"\nFAULT subscription {mode}: a token revoked on B was last accepted on A "
        f"{max(accepted, default=0) * 1000:.0f} ms after the revoke returned "
        f"(bound {MAX_STALE_SECONDS:.0f} s); {proxy.dropped - dropped_before} frames dropped"
    )
