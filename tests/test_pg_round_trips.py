"""What a request waits for on PostgreSQL: a tap is BEGIN, its statements and COMMIT, nothing
else (no pre-ping on checkout; psycopg's own PREPAREs of statements it has seen five times are
kept: they save the server planning the hot statements, which share its cores -- taps/s 337 with
them off, 398 on, benchmarks.web, session 6); and a connection the
server closed (a restart, pg_terminate_backend) is replaced on checkout, so the next tap is
recorded, not answered with an error (scheduler.connections)."""

from __future__ import annotations

import select
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, func, text
from sqlalchemy import select as sql_select

from benchmarks.round_trips import counting_round_trips
from scheduler.connections import server_has_spoken
from scheduler.extensions import db
from scheduler.models import Availability, PlanningPeriod, Site, User
from tests.fixtures.auth import PASSWORD

MON, TUE = date(2026, 12, 7), date(2026, 12, 8)


@contextmanager
def statements(flask_app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []

    def statement(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        seen.append(sql.split()[0].upper())

    with flask_app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", statement)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)


def tap(client: FlaskClient, hour: int, period_id: int) -> None:
    response = client.post(
        "/me/availability/cell",
        data={"cell": f"{MON.isoformat()} {hour:02d}", "period": period_id},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:500]


@pytest.fixture
def volunteer_app(
    postgres_url: str,
    app_factory: Callable[..., Flask],
    make_volunteer: Callable[..., User],
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
) -> tuple[Flask, FlaskClient, int]:
    """An app on PostgreSQL, a logged-in volunteer's client and an open period's id. No app
    context stays pushed: each request gets its own session, as under gunicorn."""
    flask_app = app_factory(postgres_url)
    with flask_app.app_context():
        period_id = make_period(start=MON, end=TUE, sites=[make_site()]).id
        phone = make_volunteer(accepts_nights=True).phone
    client = flask_app.test_client()
    response = client.post("/login", data={"phone": phone, "password": PASSWORD})
    assert response.status_code == 302
    return flask_app, client, period_id


def test_a_tap_waits_only_for_begin_its_statements_and_commit(
    volunteer_app: tuple[Flask, FlaskClient, int],
) -> None:
    flask_app, client, period_id = volunteer_app
    tap(client, 8, period_id)  # warm the caches
    for n in range(8):  # more than psycopg's default prepare_threshold (5)
        with statements(flask_app) as sent, counting_round_trips() as trips:
            tap(client, (n % 3) * 8, period_id)
        assert _without_prepares(trips.commands) == ["BEGIN", *sent, "COMMIT"], n
    with statements(flask_app) as sent, counting_round_trips() as trips:
        assert client.get("/me").status_code == 200
    assert _without_prepares(trips.commands) == ["BEGIN", *sent, "ROLLBACK"]


def _without_prepares(commands: list[str]) -> list[str]:
    return [c for c in commands if c not in ("PREPARE", "DEALLOCATE")]


def test_a_tap_after_the_server_closed_the_connection_is_recorded(
    postgres_url: str, volunteer_app: tuple[Flask, FlaskClient, int]
) -> None:
    flask_app, client, period_id = volunteer_app
    assert client.get("/me").status_code == 200
    with flask_app.app_context():
        assert db.engine.pool.checkedin() == 1  # type: ignore[attr-defined]
        # (QueuePool has checkedin(); the Pool base class is what engine.pool is typed as.)
        dbapi_connection = db.session.connection().connection.dbapi_connection
        assert dbapi_connection is not None
        pid = dbapi_connection.info.backend_pid
        fileno = dbapi_connection.fileno()
        db.session.rollback()
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    admin.dispose()
    poller = select.poll()
    poller.register(fileno, select.POLLIN)
    assert poller.poll(5000), "the server did not close the connection"

    tap(client, 16, period_id)

    with flask_app.app_context():
        rows = db.session.scalar(sql_select(func.count()).select_from(Availability))
        new_pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
    assert rows == 1
    assert new_pid != pid


def test_a_socket_the_peer_wrote_to_or_closed_has_spoken() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        assert not server_has_spoken(ours.fileno())
        theirs.sendall(b"E")
        assert server_has_spoken(ours.fileno())
        ours.recv(1)
        assert not server_has_spoken(ours.fileno())
        theirs.close()
        assert server_has_spoken(ours.fileno())
