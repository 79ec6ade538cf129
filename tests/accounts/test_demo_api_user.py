"""`manage.py demo_api_user`: an account the README's curl example gets tokens with, and the
README's own way of reading `access` from the token answer."""

import json
import re
import subprocess
import sys
from http import HTTPStatus
from io import StringIO
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command

from accounts.models import User

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[2] / "README.md"


def demo_api_user(**options) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("demo_api_user", stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def token_answer(client, password: str):
    return client.post(
        "/api/auth/token/",
        {"email": "api-demo@example.com", "password": password},
        content_type="application/json",
    )


def test_the_command_prints_only_a_password_that_gets_tokens(client):
    out, err = demo_api_user()

    password = out.strip()
    assert out == f"{password}\n"
    assert "api-demo@example.com" in err
    user = User.objects.get(username="api-demo")
    assert not user.is_staff
    assert EmailAddress.objects.get(user=user).verified
    answer = token_answer(client, password)
    assert answer.status_code == HTTPStatus.OK
    me = client.get("/api/me/", headers={"Authorization": f"Bearer {answer.json()['access']}"})
    assert me.status_code == HTTPStatus.OK
    assert me.json()["email"] == "api-demo@example.com"


def test_each_run_sets_a_new_password_and_revokes_the_tokens_of_the_old_one(client):
    first = demo_api_user()[0].strip()
    access = token_answer(client, first).json()["access"]

    second = demo_api_user()[0].strip()

    assert second != first
    assert token_answer(client, first).status_code == HTTPStatus.UNAUTHORIZED
    assert token_answer(client, second).status_code == HTTPStatus.OK
    me = client.get("/api/me/", headers={"Authorization": f"Bearer {access}"})
    assert me.json()["error"]["code"] == "token_revoked"


def test_a_chosen_password_is_kept(client):
    out, _ = demo_api_user(password="a password of my own")

    assert out.strip() == "a password of my own"
    assert token_answer(client, "a password of my own").status_code == HTTPStatus.OK


def test_the_readme_reads_access_from_the_token_answer_as_written(client):
    demo_call = re.search(r"python3 -c '([^']+)'", README.read_text())
    body = token_answer(client, demo_api_user()[0].strip()).content

    printed = subprocess.run(  # noqa: S603 -- the README's own line, our own interpreter
        [sys.executable, "-c", demo_call.group(1)], input=body, capture_output=True, check=True
    ).stdout.decode()

    assert printed == json.loads(body)["access"] + "\n"
