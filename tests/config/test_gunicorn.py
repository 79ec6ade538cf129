"""The production server: its access log never holds a query string (OAuth codes travel in
them), and its default shape."""

import importlib
import multiprocessing
from http import HTTPStatus

from config import gunicorn as gunicorn_config
from tests.servers import http, running_gunicorn


def test_the_access_log_leaves_out_query_strings(tmp_path):
    with running_gunicorn({"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}) as server:
        answer = http(f"{server.url}/healthz?code=SECRET-CODE&state=abc")

    assert answer.status == HTTPStatus.OK
    assert '"GET /healthz HTTP/1.1" 200' in server.output[0]
    assert "SECRET-CODE" not in server.output[0]


def test_the_default_shape_is_one_worker_per_core_with_four_threads(monkeypatch):
    """The shape bench/shapes.py measured best on 2 cores (README, "Sizing the workers"); the
    environment overrides it."""
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("GUNICORN_THREADS", raising=False)
    default = importlib.reload(gunicorn_config)
    default_shape = (default.workers, default.threads, default.worker_class)
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("GUNICORN_THREADS", "8")
    overridden = importlib.reload(gunicorn_config)
    overridden_shape = (overridden.workers, overridden.threads)
    monkeypatch.undo()
    importlib.reload(gunicorn_config)

    assert default_shape == (multiprocessing.cpu_count(), 4, "gthread")
    assert overridden_shape == (3, 8)
