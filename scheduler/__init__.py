"""Muster: volunteer call-up and shift rostering. `create_app()` builds the Flask app."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import bindparam, event, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, Map

from scheduler import form_html, models  # models: registers every table with the metadata
from scheduler.config import CONFIGS, Config
from scheduler.connections import install as install_connection_check
from scheduler.extensions import (
    as_loaded,
    babel,
    compress,
    csrf,
    db,
    login_manager,
    migrate,
)
from scheduler.i18n import (
    colon,
    comma,
    current_locale,
    install_template_gettext,
    list_comma,
    localized_name,
    selected_locale,
)
from scheduler.limits import init_app as init_limits
from scheduler.models.base import MAX_ID
from scheduler.models.sites import span_label
from scheduler.services.senders import require_channel
from scheduler.sessions import SigningOnceSessionInterface
from scheduler.static_assets import init_app as init_static_assets
from scheduler.template_globals import install as install_template_globals
from scheduler.warm_up import install as install_warm_up

log = logging.getLogger(__name__)


def create_app(config: type[Config] | str | dict[str, Any] | None = None) -> Flask:
    """Build the app. `config` is a Config class, a config name ("development", "production",
    "testing"), or a dict of overrides on the class chosen by the MUSTER_ENV environment
    variable (development by default)."""
    project_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    app = _Muster(
        __name__,
        template_folder=os.path.join(project_root, "templates"),
        static_folder=os.path.join(project_root, "static"),
    )
    if isinstance(config, type):
        base = config
    else:
        name = config if isinstance(config, str) else os.environ.get("MUSTER_ENV", "development")
        if name not in CONFIGS:
            raise ValueError(f"unknown configuration {name!r}; one of {sorted(CONFIGS)}")
        base = CONFIGS[name]
    app.config.from_object(base)
    if isinstance(config, dict):
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY must be set (environment variable) in production")
    if app.config.get("NOTIFY_REQUIRE_CHANNEL"):
        require_channel(app.config)

    # Ids in URLs are database integers: anything beyond 32 bits is simply not found (404),
    # rather than overflowing the database driver (a 500).
    app.url_map.converters["int"] = DatabaseId
    app.session_interface = SigningOnceSessionInterface()
    install_connection_check()
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(project_root, "migrations"))
    csrf.init_app(app)
    compress.init_app(app)
    init_static_assets(app)
    init_limits(app)
    babel.init_app(app, locale_selector=selected_locale)
    install_template_gettext(app)
    install_template_globals(app)
    form_html.install()
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    from scheduler.admin import bp as admin_bp
    from scheduler.auth import bp as auth_bp
    from scheduler.checkin import bp as checkin_bp
    from scheduler.coordinator import bp as coordinator_bp
    from scheduler.main import bp as main_bp
    from scheduler.sheets import bp as sheets_bp
    from scheduler.volunteer import bp as volunteer_bp

    for blueprint in (
        main_bp,
        auth_bp,
        volunteer_bp,
        coordinator_bp,
        admin_bp,
        sheets_bp,
        checkin_bp,
    ):
        app.register_blueprint(blueprint)

    from scheduler.access import audit_actor
    from scheduler.services import audit

    audit.init_app(app, audit_actor)

    from scheduler.cli import register_cli

    register_cli(app)
    _register_error_handlers(app)
    _register_template_context(app)

    from scheduler.sending import start_delivery_thread

    start_delivery_thread(app)  # only under `flask run` (development): see scheduler.sending
    install_warm_up(app)
    return app


class _Muster(Flask):
    """Flask, asking once per function whether it is a coroutine function. Every request runs
    `ensure_sync` on each hook, context processor and view it calls (a tap: seventeen), and
    inspect's answer costs nine Python calls each time; a function's answer never changes.
    At most _MAX_SYNC functions are remembered (hooks registered for one request, with
    after_this_request, would otherwise be kept for the life of the process)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            sync = self._sync.get(func)
        except TypeError:  # an unhashable callable object
            return super().ensure_sync(func)
        if sync is None:
            sync = super().ensure_sync(func)
            if len(self._sync) < _MAX_SYNC:
                self._sync[func] = sync
        return sync

    def redirect(self, location: str, code: int = 302) -> Any:
        """flask.redirect's response without werkzeug's "Redirecting..." page: browsers and
        htmx follow the Location header and never show a redirect's body. An empty body is
        one write to the socket instead of two (gunicorn sends the headers and each body
        chunk with a sendall of their own) and one wake-up less for the client."""
        response = self.response_class(status=code)
        response.headers["Location"] = location
        return response


_MAX_SYNC = 1000


@login_manager.user_loader
def _load_user(user_id: str) -> models.User | None:
    # Flask-Login checks `is_active` only at login; checking here ends the session of an
    # account deactivated (or deleted) while logged in, or whose password changed since.
    from scheduler.sessions import session_is_current

    user = _user_with_volunteer(int(user_id))
    return user if user is not None and user.active and session_is_current(user) else None


def _user_with_volunteer(user_id: int) -> models.User | None:
    """The account and its volunteer profile (None for staff without one) in one statement,
    read as a Core row and held by the session as if the ORM had loaded them (extensions
    .as_loaded): every request behind a log-in runs this, and the ORM's execution and joined
    loading of the one row cost about three times the statement's own CPU."""
    row = db.session.connection().execute(_USER_WITH_VOLUNTEER, {"id": user_id}).first()
    if row is None:
        return None
    values = row._asdict()
    volunteer = None
    if values[_VOLUNTEER_ID] is not None:
        volunteer = as_loaded(
            models.Volunteer, {key: values[label] for label, key in _VOLUNTEER_COLUMNS}
        )
    return as_loaded(
        models.User,
        {**{key: values[label] for label, key in _USER_COLUMNS}, "volunteer": volunteer},
    )


def _labelled(model: type[Any], prefix: str) -> list[tuple[Any, str, str]]:
    """(column labelled prefix + attribute name, that label, the attribute name) for each
    column attribute of `model`."""
    return [
        (prop.columns[0].label(prefix + prop.key), prefix + prop.key, prop.key)
        for prop in sa_inspect(model).column_attrs
    ]


_USER_LABELLED = _labelled(models.User, "u_")
_VOLUNTEER_LABELLED = _labelled(models.Volunteer, "v_")
_USER_COLUMNS = [(label, key) for _column, label, key in _USER_LABELLED]
_VOLUNTEER_COLUMNS = [(label, key) for _column, label, key in _VOLUNTEER_LABELLED]
_VOLUNTEER_ID = "v_id"
# Built once, since building it costs more CPU than running it.
_USER_WITH_VOLUNTEER = (
    select(*(column for column, _l, _k in (*_USER_LABELLED, *_VOLUNTEER_LABELLED)))
    .select_from(models.User)
    .outerjoin(models.Volunteer, models.Volunteer.user_id == models.User.id)
    .where(models.User.id == bindparam("id"))
)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """Foreign keys are off by default in SQLite; WAL lets readers and a writer overlap.
    synchronous=NORMAL is what SQLite recommends with WAL: a commit no longer waits for fsync
    (every availability tap commits), the database cannot be corrupted, and only a power loss
    (not a crash of the app) can lose the last commits. Production runs on PostgreSQL."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


class DatabaseId(IntegerConverter):
    """`<int:...>` in routes: at most 2**31 - 1, the largest id an INTEGER column holds."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def _register_error_handlers(app: Flask) -> None:
    def render_error(status: int, message: str | None = None) -> tuple[str, int]:
        return render_template("error.html", status=status, message=message), status

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        return render_error(400, "csrf")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Any, int]:
        if request.path.startswith("/healthz"):
            return jsonify(status="error", reason=error.name), error.code or 500
        return render_error(error.code or 500)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[str, int]:
        # The endpoint, not the path: a calendar feed's path holds its secret token.
        log.exception("unhandled error on %s", request.endpoint or "an unknown route")
        db.session.rollback()
        return render_error(500)


_SECURITY_HEADERS = tuple(
    (name.lower(), name, value)
    for name, value in (
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
    )
)


def _register_template_context(app: Flask) -> None:
    @app.context_processor
    def inject_globals() -> dict[str, Any]:
        return {"current_locale": str(current_locale()), "languages": app.config["LANGUAGES"]}

    app.add_template_filter(localized_name, "localized")
    app.add_template_global(colon, "colon")  # {{ _("Role") }}{{ colon() }}
    app.add_template_global(comma, "comma")
    app.add_template_global(list_comma, "list_comma")
    app.add_template_filter(span_label, "span_to")  # {{ start|span_to(end) }}

    @app.after_request
    def close_streamed_files(response: Any) -> Any:
        # Runs before Flask-Compress (hooks run in reverse order), which swaps a streamed
        # body (a static file) for a compressing generator and so would never close the file.
        body = response.response
        if response.is_streamed and hasattr(body, "close"):
            response.call_on_close(body.close)
        return response

    @app.after_request
    def security_headers(response: Any) -> Any:
        # As headers.setdefault for each, with the response's header names lower-cased once
        # (setdefault scans and lower-cases them all for every one; every response runs this).
        headers = response.headers
        present = {name.lower() for name, _value in headers}
        for lower, name, value in _SECURITY_HEADERS:
            if lower not in present:
                headers.add(name, value)
        return response
