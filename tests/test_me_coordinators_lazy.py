"""/me looks up the coordinators to call only when a shift card shows them (no lead on the
shift, or too late to cancel online), once per union for all such cards of one page, and
never keeps them from one request to the next: a coordinator appointed or deactivated
between two requests shows (or is gone) on the second."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from scheduler.extensions import db
from scheduler.models import COORDINATOR, PlanningPeriod, Site, User
from scheduler.services import my_shifts, scope
from tests.fixtures.auth import login
from tests.fixtures.rosters import RosterRow, make_roster
from tests.fixtures.statements import statements
from tests.test_me_statements import STATEMENTS

MON = date(2026, 12, 7)
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def roster(
    leadless: int,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
) -> User:
    """Me on three day shifts at three sites; the first `leadless` of them have no lead."""
    sites = [make_site(name=f"点位{n}") for n in range(3)]
    period = make_period(start=MON, end=MON + timedelta(days=6), sites=sites)
    me = make_volunteer(name="我自己")
    rows: list[RosterRow] = []
    for n, site in enumerate(sites):
        day = MON + timedelta(days=n)
        rows.append((site, day, "day", "code_checker", me))
        if n >= leadless:
            rows.append((site, day, "day", "site_lead", make_volunteer(name=f"点位长{n}")))
    make_roster(period, rows, version=1)
    return me


@pytest.fixture
def client(any_db_app: Flask) -> FlaskClient:
    """On SQLite and on PostgreSQL (the crews are a JSON subquery of my shifts' statement)."""
    return any_db_app.test_client()


@pytest.fixture
def page(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> Callable[[], tuple[str, int]]:
    monkeypatch.setattr(my_shifts, "utcnow", lambda: NOW)

    def get() -> tuple[str, int]:
        with statements() as seen:
            response = client.get("/me")
        assert response.status_code == 200
        return response.get_data(as_text=True), len(seen)

    return get


@pytest.mark.parametrize("leadless", [1, 3])
def test_coordinators_are_looked_up_once_for_every_card_that_shows_them(
    page: Callable[[], tuple[str, int]],
    client: FlaskClient,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
    make_user: Callable[..., User],
    monkeypatch: pytest.MonkeyPatch,
    leadless: int,
) -> None:
    make_user(role=COORDINATOR, name="值班协调员")
    login(client, roster(leadless, make_site, make_period, make_volunteer))
    lookups: list[int] = []
    real = scope.staff_contacts_covering_node

    def covering(*args: Any, **kwargs: Any) -> list[User]:
        lookups.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(scope, "staff_contacts_covering_node", covering)
    page()  # warm caches as a running server has them
    lookups.clear()
    body, statements = page()
    assert body.count("shift-nolead") == leadless
    assert body.count("值班协调员") == leadless
    assert lookups == [1]  # one period, one union: one lookup for all its cards
    # The coordinators' accounts with the union tree (their scope), in one statement.
    assert statements == STATEMENTS + 1


def test_no_lookup_when_no_card_shows_them(
    page: Callable[[], tuple[str, int]],
    client: FlaskClient,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
    make_user: Callable[..., User],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_user(role=COORDINATOR, name="值班协调员")
    login(client, roster(0, make_site, make_period, make_volunteer))
    monkeypatch.setattr(scope, "staff_contacts_covering_node", pytest.fail)
    body, statements = page()
    assert "shift-nolead" not in body
    assert "值班协调员" not in body
    assert statements == STATEMENTS


def test_a_coordinator_changed_between_two_requests_shows_on_the_second(
    page: Callable[[], tuple[str, int]],
    client: FlaskClient,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
    make_user: Callable[..., User],
) -> None:
    first = make_user(role=COORDINATOR, name="第一位协调员")
    login(client, roster(1, make_site, make_period, make_volunteer))
    body, _ = page()
    assert "第一位协调员" in body
    make_user(role=COORDINATOR, name="新来的协调员")
    body, _ = page()
    assert "第一位协调员" in body
    assert "新来的协调员" in body
    first.active = False
    db.session.commit()
    body, _ = page()
    assert "第一位协调员" not in body
    assert "新来的协调员" in body
