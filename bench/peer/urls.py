"""
URL configuration for the benchmark's stock peer project (startproject's, plus its four views).

The `urlpatterns` list routes URLs to views. For more information please see:
    https://docs.djangoproject.com/en/5.2/topics/http/urls/
"""

from django.contrib import admin
from django.urls import path

from bench.peer import views

urlpatterns = [
    path("admin/", admin.site.urls),
    # Benchmark: what bench/load.py drives.
    path("none/", views.NoneView.as_view()),
    path("jwt/", views.JwtView.as_view()),
    path("jwt-stateless/", views.JwtStatelessView.as_view()),
    path("session/", views.SessionView.as_view()),
]
