"""App configuration living in config: the project's start-up, and Django admin with this
project's admin site."""

from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class SigninLabConfig(AppConfig):
    name = "config"
    verbose_name = "Sign-in lab"


class SigninLabAdminConfig(AdminConfig):
    default_site = "config.admin.AdminSite"
