"""A tap's 'whole day' state reads the spans of the tapped period's sites only: the spans
subquery is correlated with the period row (services.availability.toggle_cell), so another
open period with other shift hours does not keep the day unpressed. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import Flask

from scheduler.models import PlanningPeriod, Site, User
from scheduler.services.availability import toggle_cell

MON, TUE = date(2026, 12, 7), date(2026, 12, 8)


def test_a_tap_reads_the_spans_of_its_own_period(
    any_db_app: Flask,
    make_volunteer: Callable[..., User],
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
) -> None:
    ours = make_period(start=MON, end=TUE, sites=[make_site()], name="甲期")  # 00, 08, 16
    make_period(start=MON, end=TUE, sites=[make_site(first_shift_hour=7)], name="乙期")
    volunteer = make_volunteer(accepts_nights=True).volunteer
    assert volunteer is not None
    toggle_cell(volunteer, MON, 0, ours.id)
    toggle_cell(volunteer, MON, 8, ours.id)
    tap = toggle_cell(volunteer, MON, 16, ours.id)
    assert tap.whole_day
