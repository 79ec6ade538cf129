"""Key material: the retirement grace, and keys of another algorithm than the one configured."""

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured

from api.keys.material import key_generate, retirement_grace
from api.keys.store import key_store


def test_the_retirement_grace_outlasts_every_token_a_retired_key_signed(settings):
    grace = retirement_grace()

    assert grace >= settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
    assert grace >= settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
    assert grace - settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"] >= dt.timedelta(
        seconds=settings.JWT_KEYS_RELOAD_SECONDS
    )


def test_a_key_of_the_wrong_type_is_refused(settings):
    settings.JWT_SIGNING_KEY_PEM = key_generate(algorithm="ES256").as_pem(private=True).decode()

    with pytest.raises(ImproperlyConfigured):
        key_store().signing_key()
