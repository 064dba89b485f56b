"""Surviving a PostgreSQL connection the server has closed (a restart, a failover,
pg_terminate_backend, idle_session_timeout), without a round trip on every request.

SQLAlchemy's `pool_pre_ping` sends an (empty) query on every checkout and waits for the
answer: one round trip per request, ~1 in 6 of a tap's and ~1 in 12 of /me's, paid by every
request to guard against a rare event. But a server that ends a connection says so: the
backend sends its FATAL message and closes the socket, so the client's socket becomes
readable. A healthy idle connection has nothing to read (every answer was read to its
ReadyForQuery). So on checkout we ask the kernel, without waiting, whether the socket has
anything to read: if it has, the connection is thrown away and the pool opens a fresh one
(SQLAlchemy retries the checkout on DisconnectionError), exactly what a failed pre-ping does.

What neither catches in time is a peer that vanished silently (a dead host, a firewall that
dropped the connection's state without a reset): a pre-ping then waits for TCP's timeout too.
A false alarm (say an asynchronous notice on an idle connection) costs one reconnect.
SQLite connections are in-process and are not checked.

Ending a read-only request keeps psycopg's prepared statements. psycopg prepares a statement
it has run five times on a connection (the server then plans it once, not on every run: most
of /me's server CPU), but its `rollback()` forgets them all and sends DEALLOCATE ALL, and every
GET ends with a rollback, so in a night of taps and page views hardly anything stayed
prepared. Its reason is caution (objects made in the transaction may be gone), yet the
server keeps prepared statements across a ROLLBACK (they belong to the session, not to the
transaction), and the app makes no tables at run time (a migration comes with new code, so
with restarted workers and new connections). So a transaction in which every
command succeeded is rolled back by libpq directly, and psycopg's `rollback()`, which then
finds the connection idle, has nothing left to do; a failed transaction is left to psycopg.
"""

from __future__ import annotations

import select
from typing import Any

import psycopg
from psycopg import pq
from sqlalchemy import Engine, event, exc
from sqlalchemy.pool import Pool


def install() -> None:
    """Check every pool's checkouts (once per process, whatever the number of apps)."""
    if not event.contains(Pool, "checkout", _drop_if_closed_by_server):
        event.listen(Pool, "checkout", _drop_if_closed_by_server)
    if not event.contains(Engine, "rollback", _roll_back_keeping_prepared):
        event.listen(Engine, "rollback", _roll_back_keeping_prepared)


def _drop_if_closed_by_server(
    dbapi_connection: Any, connection_record: Any, connection_proxy: Any
) -> None:
    if not type(dbapi_connection).__module__.startswith("psycopg"):
        return
    if dbapi_connection.closed or server_has_spoken(dbapi_connection.fileno()):
        raise exc.DisconnectionError("the server closed the connection")


def server_has_spoken(fileno: int) -> bool:
    """Whether anything (data, end of file or an error) is waiting on an idle connection's
    socket: a poll that returns at once (a system call, no round trip)."""
    poller = select.poll()
    poller.register(fileno, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def _roll_back_keeping_prepared(connection: Any) -> None:
    if connection.invalidated:  # lost (a disconnect): SQLAlchemy has no connection to roll back
        return
    dbapi_connection = connection.connection.dbapi_connection
    if not type(dbapi_connection).__module__.startswith("psycopg"):
        return
    pgconn = dbapi_connection.pgconn
    if pgconn.transaction_status == pq.TransactionStatus.INTRANS:
        libpq_rollback(pgconn)  # if it fails, psycopg's rollback() follows and raises


def libpq_rollback(pgconn: Any) -> bool:
    """ROLLBACK sent by libpq itself (one round trip), unseen by psycopg's statement cache;
    False when it failed (the connection broke), leaving the rollback to psycopg."""
    try:
        return bool(pgconn.exec_(b"ROLLBACK").status == pq.ExecStatus.COMMAND_OK)
    except psycopg.Error:
        return False
