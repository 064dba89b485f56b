"""psycopg's prepared statements outlive a read-only request's rollback on PostgreSQL
(scheduler.connections): the server keeps them across ROLLBACK, so hot statements are planned
once per connection, not once per request. A rollback still undoes writes, and a failed
transaction is still rolled back (by psycopg, which then forgets its statements)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from psycopg import pq
from sqlalchemy import Engine, insert, text
from sqlalchemy.exc import OperationalError

from scheduler.extensions import db
from scheduler.models import User

HOT = text("SELECT count(*) FROM users WHERE id > :floor")


@pytest.fixture
def engine(postgres_url: str, app_factory: Callable[..., Flask]) -> Iterator[Engine]:
    flask_app = app_factory(postgres_url)
    with flask_app.app_context():
        yield db.engine


def prepared_names(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT statement FROM pg_prepared_statements"))
        return {statement for (statement,) in rows}


def test_a_statement_run_in_read_only_requests_gets_prepared_and_stays(engine: Engine) -> None:
    for n in range(8):  # psycopg prepares a statement on its sixth run (prepare_threshold 5)
        with engine.connect() as connection:  # one request: BEGIN, the read, ROLLBACK
            assert connection.execute(HOT, {"floor": n}).scalar_one() == 0
            dbapi_connection = connection.connection.dbapi_connection
            assert dbapi_connection is not None
            connection.rollback()
            assert dbapi_connection.pgconn.transaction_status == pq.TransactionStatus.IDLE
    assert any("FROM users WHERE id >" in s for s in prepared_names(engine))


def test_a_rollback_still_undoes_the_transaction_s_writes(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(insert(User).values(phone="+8613900000001", name="x", password_hash="x"))
        connection.rollback()
        assert connection.execute(text("SELECT count(*) FROM users")).scalar_one() == 0


def test_a_failed_transaction_is_rolled_back_and_the_connection_serves_again(
    engine: Engine,
) -> None:
    for n in range(8):
        with engine.connect() as connection:
            connection.execute(HOT, {"floor": n})
    with engine.connect() as connection:
        with pytest.raises(Exception, match="no_such_table"):
            connection.execute(text("SELECT * FROM no_such_table"))
        connection.rollback()
        assert connection.execute(HOT, {"floor": 0}).scalar_one() == 0


def test_a_connection_lost_mid_transaction_is_rolled_back_as_before(engine: Engine) -> None:
    """The server ended the connection (a restart): the rollback fails as SQLAlchemy reports
    a lost connection, and the next checkout gets a fresh one."""
    connection = engine.connect()
    pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with engine.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    with pytest.raises(OperationalError):
        connection.rollback()
    connection.close()
    with engine.connect() as fresh:
        assert fresh.execute(text("SELECT 1")).scalar_one() == 1


@pytest.mark.parametrize("on", ["sqlite", "postgresql"])
def test_an_invalidated_connection_rolls_back_without_error(
    on: str, app_factory: Callable[..., Flask], request: pytest.FixtureRequest
) -> None:
    """After a disconnect SQLAlchemy invalidates the connection; rolling it back (the error
    page does) must not fail on the way."""
    url = request.getfixturevalue("postgres_url") if on == "postgresql" else None
    with app_factory(url).app_context():
        connection = db.engine.connect()
        connection.execute(text("SELECT 1"))
        connection.invalidate()
        connection.rollback()
        connection.close()
