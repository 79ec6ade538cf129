"""`manage.py demo_setup`: a demo admin with a password printed once, never a fixed one."""

import re
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.contrib.sites.models import Site
from django.core.management import call_command

from accounts.models import User

pytestmark = pytest.mark.django_db

PASSWORD_LINE = re.compile(r"Admin: .*, password (\S+)$", re.MULTILINE)


def demo_setup(**options) -> str:
    out = StringIO()
    call_command("demo_setup", stdout=out, **options)
    return out.getvalue()


def test_first_run_creates_the_admin_with_a_random_password_printed_once(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)

    first = demo_setup()
    second = demo_setup()

    printed = PASSWORD_LINE.search(first).group(1)
    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    assert admin.is_staff
    assert admin.check_password(printed)
    assert printed not in second
    assert PASSWORD_LINE.search(second) is None
    assert EmailAddress.objects.get(user=admin).verified


def test_each_new_database_gets_a_different_admin_password(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    first = PASSWORD_LINE.search(demo_setup()).group(1)
    User.objects.all().delete()

    second = PASSWORD_LINE.search(demo_setup()).group(1)

    assert first != second


def test_the_password_comes_from_the_environment_when_given(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "chosen-by-the-operator-42")

    output = demo_setup()

    assert User.objects.get(username="admin").check_password("chosen-by-the-operator-42")
    assert "chosen-by-the-operator-42" not in output
    assert "DJANGO_SUPERUSER_PASSWORD" in output


def test_prints_what_to_open_and_records_the_site_domain():
    output = demo_setup(host="127.0.0.1", port=8123)

    assert "http://127.0.0.1:8123/" in output
    assert Site.objects.get_current().domain == "127.0.0.1:8123"
