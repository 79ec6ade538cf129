"""App configuration living in config: Django admin with this project's admin site."""

from django.contrib.admin.apps import AdminConfig


class SigninLabAdminConfig(AdminConfig):
    default_site = "config.admin.AdminSite"
