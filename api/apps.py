"""App configuration: connects the receivers that revoke tokens when credentials change and that
note an app's provider sign-in (api.headless)."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "Bearer-token API"

    def ready(self) -> None:
        from api import checks, headless, receivers  # noqa: F401 -- checks register themselves

        receivers.connect()
        headless.connect()
