"""The production server's access log never holds a query string (OAuth codes travel in them)."""

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.config.test_health import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_the_access_log_leaves_out_query_strings(tmp_path):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": "1",
            "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                url = f"http://127.0.0.1:{port}/healthz?code=SECRET-CODE&state=abc"
                with urllib.request.urlopen(url, timeout=5) as response:
                    assert response.status == 200
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)

    assert '"GET /healthz HTTP/1.1" 200' in output
    assert "SECRET-CODE" not in output
