"""What ``GET /healthz`` reports: the database, and with ``REDIS_URL`` Redis and the RQ workers.

Only the database makes the site unusable (503). Without Redis or without a worker the pages
still serve, but solve runs stay queued until they are failed as lost and messages wait in the
outbox: that is "degraded" (still 200, so a load balancer keeps every web worker), with the
reason, for whoever watches the deployment to act on.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import text

from scheduler.extensions import db
from scheduler.jobs import queue_for
from scheduler.sending import notify_queue_for

# Seconds /healthz waits for Redis: a host that drops packets must not hang the check.
REDIS_TIMEOUT = 2


def health(app: Flask) -> tuple[dict[str, Any], int]:
    """The report and its HTTP status."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means the database is not usable
        db.session.rollback()
        return {"status": "error", "database": f"unreachable: {type(exc).__name__}"}, 503
    report: dict[str, Any] = {"status": "ok", "database": "ok"}
    if app.config.get("REDIS_URL"):
        report.update(_queues(app))
        if report["redis"] != "ok" or not all(report["workers"].values()):
            report["status"] = "degraded"
    return report, 200


def _queues(app: Flask) -> dict[str, Any]:
    """Whether Redis answers, and how many RQ workers listen on each of Muster's queues (see
    `flask --app wsgi worker`)."""
    from redis import Redis
    from rq import Worker

    connection = Redis.from_url(
        app.config["REDIS_URL"],
        socket_connect_timeout=REDIS_TIMEOUT,
        socket_timeout=REDIS_TIMEOUT,
    )
    queues = {"solve": queue_for(app, connection), "notify": notify_queue_for(app, connection)}
    try:
        connection.ping()
        workers = {name: Worker.count(connection, queue=queue) for name, queue in queues.items()}
    except Exception as exc:  # any client error means Redis is not usable
        return {"redis": f"unreachable: {type(exc).__name__}"}
    finally:
        connection.close()
    return {"redis": "ok", "workers": workers}
