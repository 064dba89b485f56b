"""Flask extensions, created unbound here and init_app'd in the factory."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar, cast

from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import CursorResult, Executable, inspect
from sqlalchemy.orm import make_transient_to_detached

from scheduler.models.base import Base

db = SQLAlchemy(model_class=Base)
# The models' base class. mypy cannot take a base class from an attribute of the `db` instance;
# db.Model is Base plus Flask-SQLAlchemy's bookkeeping (the app never reads Model.query).
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Volunteers register on mobile data: text responses and static assets go out compressed.
compress = Compress()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
_T = TypeVar("_T")


def rowcount(statement: Executable) -> int:
    """Execute an UPDATE or DELETE in the session; how many rows it matched. (Session.execute
    is typed as returning a Result, which has no rowcount; for these statements it is a
    CursorResult.)"""
    return cast("CursorResult[Any]", db.session.execute(statement)).rowcount


@contextmanager
def keep_loaded_on_commit() -> Iterator[None]:
    """Commits inside leave the session's objects loaded instead of expiring them, for a
    request that goes on using rows it has just written, whose values it knows (no server
    defaults or triggers): each would otherwise be read back with a SELECT, in a new
    transaction. A rollback still expires everything."""
    session = db.session()
    before = session.expire_on_commit
    session.expire_on_commit = False
    try:
        yield
    finally:
        session.expire_on_commit = before


_inserts: dict[Any, Any] = {}  # INSERT statements by table, built once


def insert_loaded(model: type[_T], values: dict[str, Any]) -> _T:
    """INSERT one row of `model` with `values` (the columns' own defaults for the rest) as a
    Core statement in the session's transaction, and return the row as an instance the
    session holds as loaded, as if it had been read back. For a hot path's plain rows: the
    unit of work's flush of a user and a volunteer is some two thousand Python calls, this a
    few hundred. No ORM event runs: attribute listeners (User.name_pinyin) and flush hooks
    (scheduler.models.tree_sync) are the caller's to apply. Relationships are not loaded
    (sqlalchemy.orm.attributes.set_committed_value sets one that is known). Columns with a
    server default or a SQL-expression default are refused: their values would be unknown."""
    mapper = inspect(model)
    row: dict[str, Any] = {}
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if prop.key in values:
            row[prop.key] = values[prop.key]
        elif column.server_default is not None:
            raise ValueError(f"{model.__name__}.{prop.key} has a server default")
        elif column.default is None:
            if not column.primary_key:
                row[prop.key] = None
        elif column.default.is_scalar:
            row[prop.key] = column.default.arg
        elif column.default.is_callable:
            row[prop.key] = column.default.arg(None)  # SQLAlchemy wraps it to take a context
        else:
            raise ValueError(f"{model.__name__}.{prop.key} has a SQL default")
    table = mapper.local_table
    insert = _inserts.get(table)
    if insert is None:
        insert = _inserts[table] = table.insert()
    columns = {
        prop.columns[0].key: row[prop.key] for prop in mapper.column_attrs if prop.key in row
    }
    result = db.session.connection().execute(insert, columns)
    for column, value in zip(mapper.primary_key, result.inserted_primary_key or (), strict=True):
        row[mapper.get_property_by_column(column).key] = value
    return as_loaded(model, row)


def as_loaded(model: type[_T], values: dict[str, Any]) -> _T:
    """The instance of `model` for a row a Core statement has read (`values` by attribute
    name: every column, and any relationship that is known, e.g. None for none), held by the
    session as if the ORM had loaded it: the same values, identity and lazy loading of what
    is not given. The instance the session holds already, if any, is returned as it is. For a
    hot path (the user loader of every request): the ORM's execution and loading of one row
    with a joined relationship costs several times the Core statement's."""
    mapper = inspect(model)
    key = mapper.identity_key_from_primary_key(
        [values[mapper.get_property_by_column(column).key] for column in mapper.primary_key]
    )
    session = db.session()
    held = session.identity_map.get(key)
    if held is not None:
        return cast("_T", held)
    instance = mapper.class_manager.new_instance()
    # The values go straight into the instance's dict (where the ORM keeps loaded values:
    # set_committed_value one by one costs six calls each); make_transient_to_detached then
    # commits them as loaded and gives the instance its identity.
    instance.__dict__.update(values)
    make_transient_to_detached(instance)
    session.add(instance)
    return cast("_T", instance)
