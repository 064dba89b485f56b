"""The availability grid costs the same SQL statements whatever the week holds: one site or
many (with different shift hours), one date or seven, nothing offered or every cell, days off.
Its week (cells, days off, the period's spans) is read in one statement. And a tap's reply
renders its cell with the grid's own markup (one macro serves both). On SQLite and
PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from flask import Flask

from scheduler.extensions import db
from scheduler.models import Availability, DayOff, PlanningPeriod, Site, User
from tests.fixtures.auth import login
from tests.fixtures.statements import statements

MON = date(2026, 12, 7)

# The user (with the volunteer), the open periods, and the week: cells, days off and the
# period's spans together (services.availability.week_view).
STATEMENTS = 3


def grid_url(period: PlanningPeriod) -> str:
    return f"/me/availability?period={period.id}&week={MON.isoformat()}"


@pytest.mark.parametrize(("sites_count", "days_count"), [(1, 1), (6, 14)])
def test_the_grid_s_statements_do_not_grow_with_sites_days_or_cells(
    any_db_app: Flask,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
    sites_count: int,
    days_count: int,
) -> None:
    # Sites starting their shifts at different hours: more columns (白班 07:00 and 08:00).
    sites = [make_site(first_shift_hour=(23, 0)[n % 2]) for n in range(sites_count)]
    days = [MON + timedelta(days=n) for n in range(days_count)]
    period = make_period(start=days[0], end=days[-1], sites=sites)
    me = make_volunteer(name="我自己")
    assert me.volunteer is not None
    shown = days[:7]
    if len(shown) > 1:  # every cell of the week offered, an hour no site runs, a day off
        db.session.add_all(
            Availability(volunteer_id=me.volunteer.id, day=d, start_hour=h)
            for d in shown[1:]
            for h in (0, 3, 7, 8, 15, 16, 23)
        )
        db.session.add(DayOff(volunteer_id=me.volunteer.id, day=shown[0]))
        db.session.commit()
    client = any_db_app.test_client()
    login(client, me)
    client.get(grid_url(period))  # warm caches (translations, templates) as a server has them
    with statements() as seen:
        page = client.get(grid_url(period))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    columns = 3 if len(shown) == 1 else 7  # the sites' spans, plus what was offered
    assert len(re.findall(r'class="avail-cell[ "]', html)) == len(shown) * columns
    assert len(seen) == STATEMENTS, seen


def button(html: str, cell_id: str) -> str:
    match = re.search(
        rf'<button type="submit" name="cell"[^>]*id="{cell_id}".*?</button>', html, re.S
    )
    assert match, cell_id
    return match.group(0)


@pytest.mark.parametrize("accept", ["en", "zh-CN"])
def test_a_tap_s_reply_is_the_grid_s_own_cell(
    any_db_app: Flask,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
    accept: str,
) -> None:
    period = make_period(sites=[make_site()])
    me = make_volunteer()
    client = any_db_app.test_client()
    login(client, me)
    headers = {"Accept-Language": accept}
    for _ in range(2):  # on, then off again
        reply = client.post(
            "/me/availability/cell",
            data={"cell": f"{MON.isoformat()} 08", "period": period.id},
            headers={"HX-Request": "true", **headers},
        )
        assert reply.status_code == 200
        grid = client.get(grid_url(period), headers=headers).get_data(as_text=True)
        cell = "cell-2026-12-07-08"
        assert button(reply.get_data(as_text=True), cell) == button(grid, cell)
