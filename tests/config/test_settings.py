"""The settings split: production refuses to start without its secrets, passes `check --deploy`."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = [
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "JWT_SIGNING_KEYS_DIR",
]


@pytest.fixture
def production_env(tmp_path) -> dict[str, str]:
    return {
        "DJANGO_SECRET_KEY": "x7!kq2-production-like-secret-for-the-deploy-check-0123456789abcdef",
        "DJANGO_ALLOWED_HOSTS": "signin.example.com",
        "DATABASE_URL": "postgres://signin:unused@127.0.0.1:5432/signin",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "JWT_SIGNING_KEYS_DIR": str(tmp_path / "jwt-keys"),
    }


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CACHE_", "JWT_"))
    }
    return subprocess.run(  # noqa: S603 -- fixed argv, our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.production", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("missing", REQUIRED)
def test_production_refuses_to_start_without_a_required_variable(production_env, missing):
    env = {k: v for k, v in production_env.items() if k != missing}

    result = run_manage("check", env=env)

    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"config.settings.production: missing required environment variable(s): {missing} "
        "(see .env.example)"
    ]
    assert "Traceback" not in result.stderr


def test_production_without_a_signing_key_fails_the_checks(production_env):
    result = run_manage("check", env=production_env)

    assert result.returncode != 0
    assert "(api.E001) No JWT signing keys in" in result.stderr
    assert "manage.py jwt_rotate_key" in result.stderr


def test_production_passes_the_deploy_check(production_env):
    assert run_manage("jwt_rotate_key", env=production_env).returncode == 0

    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=production_env)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_argon2_is_the_first_hasher_outside_tests():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from config.settings import base; print(base.PASSWORD_HASHERS[0])",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.strip() == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_the_custom_user_model_is_in_use():
    assert settings.AUTH_USER_MODEL == "accounts.User"


def test_production_never_points_a_provider_at_the_emulators(production_env):
    code = (
        "import json; from django.conf import settings; "
        "print(settings.EMULATOR_URL == '' and 'emulator' not in json.dumps("
        "settings.SOCIALACCOUNT_PROVIDERS))"
    )

    result = run_manage(
        "shell", "--no-imports", "-c", code, env={**production_env, "EMULATOR_URL": "http://x"}
    )

    assert result.stdout.strip() == "True", result.stderr
