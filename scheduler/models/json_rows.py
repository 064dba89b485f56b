"""`json_rows(a, b, ...)`: an aggregate that folds the rows of a (sub)query into one JSON
array of arrays, `[[a, b, ...], ...]`, on PostgreSQL and SQLite alike.

A page that shows a few short lists (a volunteer's skills, the crew of each of their shifts)
reads them as correlated scalar subqueries of one statement instead of one statement each: on
PostgreSQL every statement is a round trip and some hundred Python calls of SQLAlchemy and
psycopg, more than the rows cost. What the caller gets back, per row, is a list of lists (an
empty list when no row matched) of JSON values: dates as ISO strings, booleans as true/false
on PostgreSQL and 1/0 on SQLite (read them as truth values), no order (sort in Python: SQLite
before 3.44 has no ORDER BY inside an aggregate)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction


class json_rows(GenericFunction[Any]):
    """JSON array of one array per row of the given columns (see the module docstring)."""

    type = JSON()
    inherit_cache = True


@compiles(json_rows, "postgresql")
def _postgresql(element: json_rows, compiler: SQLCompiler, **kw: Any) -> str:
    return f"coalesce(json_agg(json_build_array({compiler.process(element.clauses, **kw)})), '[]')"


@compiles(json_rows, "sqlite")
def _sqlite(element: json_rows, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"
