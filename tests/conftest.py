"""Fixtures: an app per test on a fresh SQLite file (WAL, foreign keys on) and, for
database-sensitive tests, the same on PostgreSQL when MUSTER_TEST_DATABASE_URL is set.

Fixtures that create rows are factories returning functions (`make_volunteer(**kw)`), so a
test says only what matters to it. Only pytest fixtures live here: the helpers and types tests
import by name (`login`, `PASSWORD`, `make_roster`, `publish_roster`, `build_app`, ...) are in
tests/fixtures/, and no test imports a conftest (tests/test_fixtures.py)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from scheduler.extensions import db
from scheduler.models import (
    COORDINATOR,
    Demand,
    PlanningPeriod,
    Role,
    Site,
    User,
    Volunteer,
)
from scheduler.models.base import set_clock
from scheduler.services.accounts import create_account
from scheduler.services.catalogue import ensure_default_catalogue
from tests.fixtures.app import TEST_CLOCK_START, build_app
from tests.fixtures.auth import PASSWORD, login
from tests.fixtures.database import POSTGRES_URL, postgres_schema_url
from tests.fixtures.redis_server import RedisServer, running_redis
from tests.fixtures.translations import compile_catalogs


def pytest_configure(config: pytest.Config) -> None:
    """Compile the message catalogs once per session, before any test runs: in the xdist
    controller (before it starts the workers), or in the one process without xdist."""
    if not hasattr(config, "workerinput"):
        compile_catalogs()


@pytest.fixture(autouse=True)
def fixed_calendar() -> Iterator[None]:
    set_clock(TEST_CLOCK_START)
    yield
    set_clock(datetime.now(UTC))


@pytest.fixture(scope="session")
def postgres_url(worker_id: str) -> str:
    if not POSTGRES_URL:
        pytest.skip("MUSTER_TEST_DATABASE_URL is not set: PostgreSQL variant not run")
    return postgres_schema_url(worker_id)


@pytest.fixture
def app_factory(tmp_path: Any) -> Iterator[Callable[..., Flask]]:
    """Build an app on a fresh SQLite file, with config overrides (e.g. CSRF on)."""
    apps: list[Flask] = []

    def factory(database_url: str | None = None, **overrides: Any) -> Flask:
        url = database_url or f"sqlite:///{tmp_path / f'muster{len(apps)}.sqlite'}"
        app = build_app(url, **overrides)
        with app.app_context():
            db.drop_all()
            db.create_all()
            ensure_default_catalogue()
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(app_factory: Callable[..., Flask]) -> Iterator[Flask]:
    app = app_factory()
    with app.app_context():
        yield app


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_app(
    request: pytest.FixtureRequest, app_factory: Callable[..., Flask]
) -> Iterator[Flask]:
    """The same test on SQLite and on PostgreSQL (for constraints, imports, concurrency)."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    app = app_factory(url)
    with app.app_context():
        yield app


@pytest.fixture
def redis_server(tmp_path: Any) -> Iterator[RedisServer]:
    """A real redis-server of the test's own (see tests.fixtures.redis_server.running_redis)."""
    with running_redis(tmp_path) as server:
        yield server


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


_phones = itertools.count(13800000001)


@pytest.fixture
def make_user() -> Callable[..., User]:
    def make(
        role: str = "volunteer",
        name: str | None = None,
        phone: str | None = None,
        password: str = PASSWORD,
        **volunteer_fields: Any,
    ) -> User:
        volunteer = (
            Volunteer(**volunteer_fields) if role == "volunteer" or volunteer_fields else None
        )
        number = phone or str(next(_phones))
        return create_account(
            name=name or f"用户{number[-4:]}",
            phone=number,
            password=password,
            role=role,
            volunteer=volunteer,
        )

    return make


@pytest.fixture
def make_volunteer(make_user: Callable[..., User]) -> Callable[..., User]:
    def make(**kwargs: Any) -> User:
        return make_user("volunteer", **kwargs)

    return make


@pytest.fixture
def coordinator(make_user: Callable[..., User]) -> User:
    return make_user(COORDINATOR, name="协调员")


@pytest.fixture
def make_site() -> Callable[..., Site]:
    counter = itertools.count(1)

    def make(
        name: str | None = None,
        kind: str = "checkpoint",
        demand: dict[str, int] | None = None,
        **fields: Any,
    ) -> Site:
        site = Site(
            name=name or f"测试点位{next(counter)}", kind=kind, address="测试路1号", **fields
        )
        roles = {r.code: r for r in db.session.scalars(db.select(Role))}
        for shift in site.shift_kinds or ("night", "day", "evening"):
            for code, count in (demand or {"site_lead": 1, "code_checker": 2}).items():
                site.demands.append(Demand(shift=shift, role=roles[code], headcount=count))
        db.session.add(site)
        db.session.commit()
        return site

    return make


@pytest.fixture
def make_period() -> Callable[..., PlanningPeriod]:
    def make(
        start: date = date(2026, 12, 7),
        end: date = date(2026, 12, 20),
        sites: list[Site] | None = None,
        is_open: bool = True,
        name: str = "第一期",
    ) -> PlanningPeriod:
        period = PlanningPeriod(
            name=name, start_date=start, end_date=end, is_open=is_open, sites=list(sites or [])
        )
        db.session.add(period)
        db.session.commit()
        return period

    return make


@pytest.fixture
def login_as(client: FlaskClient) -> Callable[..., FlaskClient]:
    def do(user: User, password: str = PASSWORD) -> FlaskClient:
        login(client, user, password)
        return client

    return do
