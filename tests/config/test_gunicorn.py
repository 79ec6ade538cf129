"""The production server's access log never holds a query string (OAuth codes travel in them)."""

from http import HTTPStatus

from tests.servers import http, running_gunicorn


def test_the_access_log_leaves_out_query_strings(tmp_path):
    with running_gunicorn({"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}) as server:
        answer = http(f"{server.url}/healthz?code=SECRET-CODE&state=abc")

    assert answer.status == HTTPStatus.OK
    assert '"GET /healthz HTTP/1.1" 200' in server.output[0]
    assert "SECRET-CODE" not in server.output[0]
