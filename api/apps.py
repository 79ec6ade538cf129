"""App configuration: connects the receiver that revokes tokens when credentials change."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "Bearer-token API"

    def ready(self) -> None:
        from api import checks, receivers  # noqa: F401 -- checks register themselves

        receivers.connect()
