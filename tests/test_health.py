from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.fixtures.app import build_app
from tests.fixtures.redis_server import RedisServer


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


def test_healthz_reports_redis_and_the_workers_of_each_queue(
    app_factory: Callable[..., Flask], redis_server: RedisServer
) -> None:
    """With REDIS_URL, runs and messages need Redis and a worker on each queue: without one
    the site still serves (200) but says it is degraded and why."""
    from redis import Redis
    from rq import Worker

    from scheduler.jobs import queue_for
    from scheduler.sending import notify_queue_for

    app = app_factory(REDIS_URL=redis_server.url)
    client = app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "degraded",
        "database": "ok",
        "redis": "ok",
        "workers": {"solve": 0, "notify": 0},
    }

    connection = Redis.from_url(redis_server.url)
    notify_only = Worker([notify_queue_for(app, connection)], connection=connection)
    notify_only.register_birth()
    assert client.get("/healthz").get_json()["workers"] == {"solve": 0, "notify": 1}
    assert client.get("/healthz").get_json()["status"] == "degraded"

    both = Worker(
        [queue_for(app, connection), notify_queue_for(app, connection)], connection=connection
    )
    both.register_birth()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "database": "ok",
        "redis": "ok",
        "workers": {"solve": 1, "notify": 2},
    }

    redis_server.stop()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "degraded",
        "database": "ok",
        "redis": "unreachable: ConnectionError",
    }


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
