import pytest
from flask.testing import FlaskClient

from tests.fixtures.app import build_app


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


def test_production_refuses_to_start_without_a_secret_key(monkeypatch) -> None:
    from scheduler import create_app
    from scheduler.config import ProductionConfig

    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", None)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")


def test_production_cookies_are_locked_down(monkeypatch) -> None:
    from scheduler import create_app
    from scheduler.config import ProductionConfig

    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "from-the-environment")
    monkeypatch.setattr(ProductionConfig, "NOTIFY_SENDER", "log")
    monkeypatch.setattr(ProductionConfig, "RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/2")
    app = create_app("production")
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert not app.config.get("TESTING")


def test_an_unknown_configuration_name_is_refused() -> None:
    from scheduler import create_app

    with pytest.raises(ValueError, match="unknown configuration"):
        create_app("testin")
