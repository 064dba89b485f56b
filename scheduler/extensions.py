"""Flask extensions, created unbound here and init_app'd in the factory."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import CursorResult, Executable

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
