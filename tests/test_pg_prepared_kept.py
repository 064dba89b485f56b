"""psycopg's prepared statements outlive a read-only request's rollback on PostgreSQL
(scheduler.connections): the server keeps them across ROLLBACK, so hot statements are planned
once per connection, not once per request. A rollback still undoes writes, and a failed
transaction is still rolled back (by psycopg, which then forgets its statements)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy import Engine, insert, text

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
    assert any("FROM users WHERE id >" in s for s in prepared_names(engine))
    with engine.connect() as connection:
        dbapi_connection = connection.connection.dbapi_connection
        assert dbapi_connection is not None
        assert dbapi_connection.pgconn.transaction_status == 0  # idle: rolled back


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
