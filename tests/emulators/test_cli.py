"""`python -m emulators` as a process: start-up, logging without secrets, clean shutdown."""

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from emulators.__main__ import parse_arguments
from tests.emulator_process import PROJECT_ROOT, free_port, start_emulator
from tests.emulators.oauth import CLIENTS, GITHUB, TIMEOUT, approve, exchange, parse_token_response


@pytest.fixture
def clients_file(tmp_path: Path) -> Path:
    path = tmp_path / "clients.json"
    path.write_text(json.dumps(CLIENTS), encoding="utf-8")
    return path


def run(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 -- the emulator's own entry point
        [sys.executable, "-m", "emulators", *arguments],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_it_cleanly(tmp_path, clients_file, sig):
    emulator = start_emulator(
        host="localhost",
        port=free_port(),
        clients_file=clients_file,
        log_path=tmp_path / "log",
    )

    assert emulator.stop(sig, timeout=5) == 0
    assert emulator.log().splitlines()[-1] == "[emulators] stopped"


def test_it_logs_one_line_per_request_without_secrets(tmp_path, clients_file):
    emulator = start_emulator(
        host="localhost", port=free_port(), clients_file=clients_file, log_path=tmp_path / "log"
    )
    try:
        flow = approve(emulator.url, GITHUB)
        token = parse_token_response(exchange(emulator.url, flow))["access_token"]
        requests.get(
            f"{emulator.url}/github/api/v3/user",
            headers={"Authorization": f"token {token}"},
            timeout=TIMEOUT,
        )
    finally:
        emulator.stop()

    lines = emulator.log().splitlines()
    request_lines = [line for line in lines if "/github/" in line]
    # Each line is written whole and before its answer, so they come in request order.
    authorize, exchanged, user_read = request_lines
    assert "POST /github/login/oauth/authorize?" in authorize
    assert "state=[masked]" in authorize
    assert "code_challenge_method=S256" in authorize
    assert "POST /github/login/oauth/access_token 200" in exchanged
    assert "GET /github/api/v3/user 200" in user_read
    for secret in (flow.code, flow.state, flow.verifier, token, GITHUB.client["client_secret"]):
        assert secret not in emulator.log()


def test_public_url_overrides_the_issuer(tmp_path, clients_file):
    emulator = start_emulator(
        host="localhost",
        port=free_port(),
        clients_file=clients_file,
        log_path=tmp_path / "log",
        extra_args=["--public-url", "http://emulator.test:9000/"],
    )
    try:
        config = requests.get(
            f"{emulator.url}/google/.well-known/openid-configuration", timeout=TIMEOUT
        ).json()
    finally:
        emulator.stop()

    assert config["issuer"] == "http://emulator.test:9000/google"


def test_code_lifetime_is_configurable(tmp_path, clients_file):
    emulator = start_emulator(
        host="localhost",
        port=free_port(),
        clients_file=clients_file,
        log_path=tmp_path / "log",
        extra_args=["--code-lifetime-seconds", "0"],
    )
    try:
        response = exchange(emulator.url, approve(emulator.url, GITHUB))
    finally:
        emulator.stop()

    assert parse_token_response(response)["error"] == "bad_verification_code"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "is not JSON"),
        ('{"provider": "github"}', "expected a JSON list"),
        ('[{"provider": "gitlab"}]', "provider must be one of github, google"),
        (
            '[{"provider": "github", "client_id": "a", "client_secret": "b",'
            ' "redirect_uris": ["/relative"]}]',
            "must be an absolute http(s) URL",
        ),
    ],
)
def test_a_bad_clients_file_stops_it_with_a_message(tmp_path, content, message):
    path = tmp_path / "clients.json"
    path.write_text(content, encoding="utf-8")

    result = run("--port", str(free_port()), "--clients", str(path))

    assert result.returncode == 2
    assert message in result.stderr


def test_a_missing_clients_file(tmp_path):
    result = run("--port", str(free_port()), "--clients", str(tmp_path / "absent.json"))

    assert result.returncode == 2
    assert "cannot read" in result.stderr


def test_a_busy_port(tmp_path, clients_file):
    emulator = start_emulator(
        host="localhost", port=free_port(), clients_file=clients_file, log_path=tmp_path / "log"
    )
    try:
        port = emulator.url.rsplit(":", 1)[1]
        result = run("--port", port, "--clients", str(clients_file))
    finally:
        emulator.stop()

    assert result.returncode == 1
    assert "cannot listen" in result.stderr


def test_clients_come_from_the_environment_without_the_option(monkeypatch):
    monkeypatch.setenv("EMULATOR_CLIENTS_FILE", "/srv/clients.json")

    assert parse_arguments([]).clients == Path("/srv/clients.json")
    assert parse_arguments(["--clients", "x.json"]).clients == Path("x.json")


def test_clients_are_required(monkeypatch):
    monkeypatch.delenv("EMULATOR_CLIENTS_FILE", raising=False)

    with pytest.raises(SystemExit) as exited:
        parse_arguments([])

    assert exited.value.code == 2
