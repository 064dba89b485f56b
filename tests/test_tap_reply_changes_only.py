"""A tap's reply carries 'whole day' and 'whole week' only when the tap changed the tapped
day's 'whole day' state (issue 9, call-up night throughput): most taps change neither, and
rendering both buttons on every tap was a tenth of its Python calls. The other days are as
they were, so 'whole week' cannot change unless the day did. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import Flask

from scheduler.models import PlanningPeriod, Site, User
from scheduler.services.availability import toggle_cell
from tests.fixtures.auth import login
from tests.test_availability_shortcuts import pressed, tap

MON, TUE = date(2026, 12, 7), date(2026, 12, 8)


def test_the_buttons_come_only_with_a_change_of_the_day(
    any_db_app: Flask,
    make_volunteer: Callable[..., User],
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
) -> None:
    period = make_period(start=MON, end=TUE, sites=[make_site()])  # 00, 08 and 16
    volunteer = make_volunteer(accepts_nights=True).volunteer
    assert volunteer is not None

    first = toggle_cell(volunteer, MON, 0, period.id)
    assert (first.whole_day, first.whole_week) == (None, None)  # one of three: unchanged
    assert first.week_count == 1
    toggle_cell(volunteer, MON, 8, period.id)
    full = toggle_cell(volunteer, MON, 16, period.id)
    assert (full.whole_day, full.whole_week) == (True, False)  # Tuesday is still empty
    toggle_cell(volunteer, TUE, 0, period.id)
    toggle_cell(volunteer, TUE, 8, period.id)
    week = toggle_cell(volunteer, TUE, 16, period.id)
    assert (week.whole_day, week.whole_week) == (True, True)
    back = toggle_cell(volunteer, TUE, 16, period.id)
    assert (back.whole_day, back.whole_week) == (False, False)
    again = toggle_cell(volunteer, TUE, 8, period.id)  # two of three off: still not whole
    assert (again.whole_day, again.whole_week) == (None, None)
    assert again.week_count == 4


def test_a_night_tap_does_not_change_the_day_of_who_serves_no_nights(
    any_db_app: Flask,
    make_volunteer: Callable[..., User],
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
) -> None:
    """'Whole day' leaves nights out for them (bulk_starts): their day is whole with 08 and
    16, and a night tapped by hand, on or off, leaves it whole, so nothing is sent."""
    period = make_period(start=MON, end=MON, sites=[make_site()])
    user = make_volunteer(accepts_nights=False)
    client = any_db_app.test_client()
    login(client, user)
    tap(client, MON, 8, period)
    html = tap(client, MON, 16, period)
    assert pressed(html, f"whole-day-{MON.isoformat()}") == "true"
    assert pressed(html, "whole-week") == "true"
    for _ in range(2):
        html = tap(client, MON, 0, period)
        assert 'id="cell-2026-12-07-00"' in html
        assert pressed(html, f"whole-day-{MON.isoformat()}") is None
        assert pressed(html, "whole-week") is None
