"""`manage.py jwt_rotate_key`: provisions, rotates, and deletes keys whose tokens have expired."""

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command

from api import clock
from api.keys.material import key_generate, retirement_grace


@pytest.fixture
def keys_dir(settings, tmp_path):
    settings.JWT_SIGNING_KEYS_DIR = str(tmp_path / "keys")
    settings.JWT_GENERATE_MISSING_KEYS = False
    return tmp_path / "keys"


def rotate(*args: str) -> str:
    out = io.StringIO()
    call_command("jwt_rotate_key", *args, stdout=out)
    return out.getvalue()


def manifest(keys_dir) -> list[dict]:
    return json.loads((keys_dir / "keys.json").read_text())["keys"]


def test_the_first_run_provisions_the_first_key(keys_dir):
    output = rotate()

    (entry,) = manifest(keys_dir)
    assert entry["retired_at"] is None
    assert f"New signing key {entry['kid']} (RS256)" in output
    assert (keys_dir / f"{entry['kid']}.pem").exists()


def test_a_rotation_retires_the_current_key(keys_dir):
    rotate()
    output = rotate()

    old, new = manifest(keys_dir)
    assert old["retired_at"] == new["activated_at"]
    assert new["retired_at"] is None
    assert f"Retired {old['kid']}" in output


def test_keys_whose_tokens_have_all_expired_are_deleted(keys_dir, monkeypatch):
    rotate()
    first = manifest(keys_dir)[0]["kid"]
    rotate()
    later = clock.now() + retirement_grace() + dt.timedelta(seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)

    output = rotate()

    assert first not in [entry["kid"] for entry in manifest(keys_dir)]
    assert not (keys_dir / f"{first}.pem").exists()
    assert f"Deleted {first}" in output


def test_it_refuses_when_the_key_comes_from_the_environment(settings, keys_dir):
    settings.JWT_SIGNING_KEY_PEM = key_generate(algorithm="RS256").as_pem(private=True).decode()

    with pytest.raises(CommandError, match="JWT_SIGNING_KEY_PEM"):
        rotate()


def test_it_refuses_a_negative_delay(keys_dir):
    with pytest.raises(CommandError):
        rotate("--activate-in", "-1")
