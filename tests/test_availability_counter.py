"""The grid's week counter ("3 shifts this week" / 本周 3 个班次) follows every tap: the tap's
reply carries it out of band, counted by the tap's own query (no statement added: the tap
still costs three, tests/test_availability_hours.py). It counts what the grid counts: the
volunteer's cells on the week's dates inside the period the grid shows, whatever was offered
before. On SQLite and PostgreSQL (walkthrough, h12fix item 2)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient

from scheduler.extensions import db
from scheduler.models import Availability, PlanningPeriod, Site, User
from tests.fixtures.auth import login

MON, TUE, SUN = date(2026, 12, 7), date(2026, 12, 8), date(2026, 12, 13)
NEXT_MON = date(2026, 12, 14)


def counter(html: str) -> str | None:
    """The out-of-band counter of a tap's reply, as text."""
    match = re.search(r'<span id="week-count"[^>]*hx-swap-oob="true"[^>]*>(.*?)</span>', html)
    return match.group(1) if match else None


def tap(client: FlaskClient, day: date, hour: int, period: PlanningPeriod, accept: str) -> str:
    response = client.post(
        "/me/availability/cell",
        data={"cell": f"{day.isoformat()} {hour:02d}", "period": period.id},
        headers={"HX-Request": "true", "Accept-Language": accept},
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("accept", "one", "two"),
    [
        ("en", "1 shift this week", "2 shifts this week"),
        ("zh-CN", "本周 1 个班次", "本周 2 个班次"),
    ],
)
def test_each_tap_updates_the_week_counter(
    any_db_app: Flask,
    make_volunteer: Callable[..., User],
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    accept: str,
    one: str,
    two: str,
) -> None:
    period = make_period(sites=[make_site()])
    user = make_volunteer()
    assert user.volunteer is not None
    # Offered next week: another week, not counted in this one.
    db.session.add(Availability(volunteer_id=user.volunteer.id, day=NEXT_MON, start_hour=8))
    db.session.commit()
    client = any_db_app.test_client()
    login(client, user)
    assert counter(tap(client, MON, 8, period, accept)) == one
    assert counter(tap(client, SUN, 16, period, accept)) == two
    assert counter(tap(client, MON, 8, period, accept)) == one  # taken back
    # The whole page counts the same.
    page = client.get(
        f"/me/availability?period={period.id}&week={MON.isoformat()}",
        headers={"Accept-Language": accept},
    ).get_data(as_text=True)
    assert re.search(rf'<span id="week-count"[^>]*>{one}</span>', page)


def test_the_counter_counts_the_tapped_grid_s_period_only(
    any_db_app: Flask,
    make_volunteer: Callable[..., User],
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
) -> None:
    """Two open periods share a week (one ends on Wednesday, the next starts Thursday): each
    grid shows and counts its own dates of that week."""
    site = make_site()
    first = make_period(start=date(2026, 11, 30), end=date(2026, 12, 9), sites=[site])
    second = make_period(
        start=date(2026, 12, 10), end=date(2026, 12, 20), sites=[site], name="二期"
    )
    user = make_volunteer()
    client = any_db_app.test_client()
    login(client, user)
    assert counter(tap(client, MON, 8, first, "en")) == "1 shift this week"
    assert counter(tap(client, SUN, 8, second, "en")) == "1 shift this week"
    assert counter(tap(client, TUE, 8, first, "en")) == "2 shifts this week"
