"""/me costs the same number of SQL statements whether the volunteer serves at one site on one
day or at many sites over many days, and reads exactly the crews of their own shifts (not every
assignment of every site and day they appear on)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from scheduler.extensions import db
from scheduler.models import Assignment, PlanningPeriod, Site, User
from scheduler.services import my_shifts
from tests.fixtures.auth import login
from tests.fixtures.rosters import RosterRow, make_roster

MON = date(2026, 12, 7)
NOW = datetime(2026, 12, 1, tzinfo=UTC)


@contextmanager
def counting(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Statements sent to the database, Assignment objects loaded into the session, rows of my
    shifts read, and rows of other volunteers read for the crews."""
    seen = {"statements": 0, "assignments": 0, "my_rows": 0, "crew_rows": 0}
    real_member = my_shifts.CrewMember
    real_mine = my_shifts.Mine

    def statement(*_args: object) -> None:
        seen["statements"] += 1

    def loaded(*_args: object) -> None:
        seen["assignments"] += 1

    def member(*args: object) -> object:
        seen["crew_rows"] += 1
        return real_member(*args)

    def mine(*args: object) -> object:
        seen["my_rows"] += 1
        return real_mine(*args)

    monkeypatch.setattr(my_shifts, "CrewMember", member)
    monkeypatch.setattr(my_shifts, "Mine", mine)
    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(Assignment, "load", loaded)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(Assignment, "load", loaded)


def build(
    sites_count: int,
    days_count: int,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
) -> tuple[User, int]:
    """A published roster where `me` serves one day shift at every site on a different day
    (the diagonal), and every site is fully staffed on every day and shift by others: the
    crews of my shifts are a small part of it. Returns me and the crew size of my shifts."""
    sites = [make_site(name=f"点位{n}") for n in range(sites_count)]
    days = [MON + timedelta(days=n) for n in range(days_count)]
    period = make_period(start=MON, end=days[-1], sites=sites)
    me = make_volunteer(name="我自己")
    others = [make_volunteer(name=f"队员{n}") for n in range(3 * sites_count)]
    rows: list[RosterRow] = []
    crew = 0
    for s, site in enumerate(sites):
        for d, day in enumerate(days):
            for kind in ("night", "day", "evening"):
                mine = kind == "day" and d == s % days_count
                team = others[3 * s : 3 * s + 3]  # nobody at two sites at once
                lead, checkers = team[0], ([me] if mine else []) + team[1:]
                rows.append((site, day, kind, "site_lead", lead))
                rows += [(site, day, kind, "code_checker", who) for who in checkers]
                if mine:
                    crew += len(team)
    make_roster(period, rows, version=1)
    return me, crew


@pytest.mark.parametrize("scale", [(1, 1), (6, 7)])
def test_me_statement_count_does_not_grow_with_sites_and_days(
    app: Flask,
    client: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
    scale: tuple[int, int],
) -> None:
    monkeypatch.setattr(my_shifts, "utcnow", lambda: NOW)
    me, crew = build(*scale, make_site, make_period, make_volunteer)
    login(client, me)
    client.get("/me")  # warm caches (catalogue, translations) as a running server has them
    with counting(monkeypatch) as seen:
        page = client.get("/me")
    assert page.status_code == 200
    shifts = scale[0]  # one day shift per site
    assert page.get_data(as_text=True).count('class="shift-card') == shifts
    # The same statements for 1 shift at 1 site as for 6 shifts at 6 sites over 7 days.
    assert seen["statements"] == STATEMENTS
    # My shifts and the crews of my shifts, nothing else of the roster; as rows, not objects.
    assert seen["my_rows"] == shifts
    assert seen["assignments"] == 0
    assert seen["crew_rows"] == crew


# Measured once on the one-site roster; the point is that the 6-site roster needs no more.
# The user with the volunteer in one; my shifts with my answers and their crews in one; the
# profile, the inbox badge's count, the periods open to volunteers and the availability
# summary in one (services.my_page). Every shift here has a lead and is before the cut-off, so
# no card shows the coordinators to call and they are not looked up
# (tests/test_me_coordinators_lazy.py counts the other case).
STATEMENTS = 3
