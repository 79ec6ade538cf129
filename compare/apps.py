"""App configuration of the sessions-vs-JWT comparison."""

from django.apps import AppConfig


class CompareConfig(AppConfig):
    name = "compare"
    verbose_name = "Sessions vs JWT"
