from flask.testing import FlaskClient

from tests.conftest import build_app


def test_healthz_reports_database_ok(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_with_reason_when_database_unreachable() -> None:
    app = build_app("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error"
    assert body["database"].startswith("unreachable")
