"""Fixtures: an app per test on a fresh SQLite file (WAL, foreign keys on) and, for
database-sensitive tests, the same on PostgreSQL when MUSTER_TEST_DATABASE_URL is set.

Fixtures that create rows are factories returning functions (`make_volunteer(**kw)`), so a
test says only what matters to it."""

from __future__ import annotations

import contextvars
import itertools
import os
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from werkzeug.test import TestResponse

from scheduler import create_app
from scheduler.config import TestConfig
from scheduler.extensions import db
from scheduler.models import (
    COORDINATOR,
    Assignment,
    Demand,
    PlanningPeriod,
    Role,
    Roster,
    ShiftResponse,
    Site,
    User,
    Volunteer,
)
from scheduler.models.base import set_clock
from scheduler.models.responses import CANCELLED_BY_VOLUNTEER
from scheduler.services.accounts import create_account
from scheduler.services.catalogue import ensure_default_catalogue

PASSWORD = "correct-horse-9"
# Fixtures use fixed dates (December 2026 periods); the app's clock runs from this instant
# in every test, whatever the real date, so "upcoming" and cancel cut-offs stay true.
TEST_CLOCK_START = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
POSTGRES_URL = os.environ.get("MUSTER_TEST_DATABASE_URL")


def _postgres_schema_url(worker: str) -> str:
    """Each xdist worker gets its own schema so parallel runs never see each other's tables.
    A set but unreachable URL fails loudly here instead of skipping."""
    assert POSTGRES_URL
    schema = f"muster_{worker}"
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture(autouse=True)
def fixed_calendar() -> Iterator[None]:
    set_clock(TEST_CLOCK_START)
    yield
    set_clock(datetime.now(UTC))


@pytest.fixture(scope="session")
def postgres_url(worker_id: str) -> str:
    if not POSTGRES_URL:
        pytest.skip("MUSTER_TEST_DATABASE_URL is not set: PostgreSQL variant not run")
    return _postgres_schema_url(worker_id)


class IsolatedClient(FlaskClient):
    """Runs every request in a fresh context, as a real server does: its own app context, `g`
    and database session. Without this, Flask reuses the app context the test pushed, so `g`
    (the logged-in user, the locale, the CSRF token) and the session leak from one request to
    the next — a missing commit or a second client acting as the first would go unnoticed.
    The test's own session is separate: expire or re-query what a request changed."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        return contextvars.Context().run(super().open, *args, **kwargs)


def build_app(database_url: str, **overrides: Any) -> Flask:
    app = create_app({**vars_of(TestConfig), "SQLALCHEMY_DATABASE_URI": database_url, **overrides})
    app.test_client_class = IsolatedClient
    return app


def vars_of(config: type) -> dict[str, Any]:
    return {k: getattr(config, k) for k in dir(config) if k.isupper()}


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


def login(client: FlaskClient, user: User, password: str = PASSWORD) -> None:
    """Log `user` in through the real login form."""
    response = client.post("/login", data={"phone": user.phone, "password": password})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]


@pytest.fixture
def login_as(client: FlaskClient) -> Callable[..., FlaskClient]:
    def do(user: User, password: str = PASSWORD) -> FlaskClient:
        login(client, user, password)
        return client

    return do


RosterRow = tuple[Site, date, str, str, User]  # site, day, shift kind, role code, volunteer


def make_roster(
    period: PlanningPeriod,
    rows: list[RosterRow],
    version: int | None = None,
    published_at: datetime = TEST_CLOCK_START,
) -> Roster:
    """A published version (`version`) or the draft (None) of `period` holding `rows`, with
    each post's places numbered in order."""
    roles = {r.code: r.id for r in db.session.scalars(select(Role))}
    roster = Roster(
        period_id=period.id,
        status="draft" if version is None else "published",
        version=version,
        published_at=None if version is None else published_at,
    )
    db.session.add(roster)
    db.session.flush()
    for slot, (site, day, kind, code, user) in enumerate(rows, start=1):
        assert user.volunteer is not None
        db.session.add(
            Assignment(
                roster_id=roster.id,
                site_id=site.id,
                day=day,
                shift=kind,
                role_id=roles[code],
                volunteer_id=user.volunteer.id,
                slot=slot,
            )
        )
    db.session.commit()
    return roster


def cancel_shift(
    volunteer: User, site: Site, day: date, kind: str, reason: str = "家里有事"
) -> ShiftResponse:
    """`volunteer` (a user with a volunteer profile) has cancelled their `kind` shift at `site`
    on `day`, as the "cancel" button records it; committed."""
    assert volunteer.volunteer is not None
    response = ShiftResponse(
        volunteer_id=volunteer.volunteer.id,
        site_id=site.id,
        day=day,
        shift=kind,
        status=CANCELLED_BY_VOLUNTEER,
        reason=reason,
    )
    db.session.add(response)
    db.session.commit()
    return response


def publish_form(client: FlaskClient, roster_url: str) -> dict[str, str]:
    """What the Publish button posts: the draft revision its confirm page
    (`<roster_url>/publish`) shows, so the publish is of the draft as reviewed."""
    import re

    page = client.get(f"{roster_url}/publish").get_data(as_text=True)
    found = re.search(r'name="revision"[^>]*value="(\d+)"', page)
    assert found, "the publish page has no draft revision"
    return {"revision": found.group(1)}
