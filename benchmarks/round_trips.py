"""Count the round trips psycopg 3 makes to PostgreSQL: every query, BEGIN, COMMIT, ROLLBACK,
PREPARE and pool ping waits for the server's answer once. SQLAlchemy's `before_cursor_execute`
sees only the app's statements; on a server whose commits wait for the disk, and with a
network between app and database, the round trips are what a request waits for.

    with counting_round_trips() as seen:
        ...
    seen.count, seen.commands  # how many, and the first words of each (e.g. "BEGIN", "SELECT")
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RoundTrips:
    count: int = 0
    commands: list[str] = field(default_factory=list)


@contextmanager
def counting_round_trips() -> Iterator[RoundTrips]:
    """Wraps psycopg's `execute` generator (send what is queued, wait for every result), the
    one place where both cursors and the connection's own commands (BEGIN, COMMIT, ROLLBACK)
    wait for the server, and the ROLLBACK the app sends through libpq itself
    (scheduler.connections). The commands are read back from the results' command tags."""
    import psycopg._cursor_base as cursor_base
    import psycopg.generators as generators
    from psycopg.pq import ExecStatus

    from scheduler import connections

    EMPTY_QUERY = ExecStatus.EMPTY_QUERY

    seen = RoundTrips()
    real = generators.execute

    def execute(pgconn: Any, *args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        seen.count += 1
        results = yield from real(pgconn, *args, **kwargs)
        for result in results:
            tag = (result.command_status or b"").decode().split(" ")[0]
            if not tag:  # an empty query (SQLAlchemy's pre-ping) or a PREPARE
                tag = "(ping)" if result.status == EMPTY_QUERY else "PREPARE"
            seen.commands.append(tag)
        return results

    real_rollback = connections.libpq_rollback

    def libpq_rollback(pgconn: Any) -> bool:
        seen.count += 1
        seen.commands.append("ROLLBACK")
        return real_rollback(pgconn)

    cursor_base.execute = execute
    generators.execute = execute
    connections.libpq_rollback = libpq_rollback
    try:
        yield seen
    finally:
        cursor_base.execute = real
        generators.execute = real
        connections.libpq_rollback = real_rollback
