"""The one home of each roster and period lookup (scheduler.services.lookups and the models)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import Flask

from scheduler.extensions import db
from scheduler.models import PlanningPeriod
from scheduler.services import lookups
from tests.fixtures.rosters import make_roster


def test_a_period_s_days_are_every_date_from_start_to_end_in_order() -> None:
    period = PlanningPeriod(name="跨月", start_date=date(2026, 11, 29), end_date=date(2026, 12, 2))
    assert period.days == [
        date(2026, 11, 29),
        date(2026, 11, 30),
        date(2026, 12, 1),
        date(2026, 12, 2),
    ]
    one = PlanningPeriod(name="一天", start_date=date(2026, 12, 7), end_date=date(2026, 12, 7))
    assert one.days == [date(2026, 12, 7)]


def test_the_draft_and_the_latest_published_version_of_each_period(
    app: Flask, make_period: Callable[..., PlanningPeriod]
) -> None:
    first = make_period(name="一期")
    second = make_period(name="二期", start=date(2026, 12, 21), end=date(2026, 12, 27))
    assert lookups.current_draft(first.id) is None
    assert lookups.latest_published(first.id) is None
    make_roster(first, [], version=1)
    v2 = make_roster(first, [], version=2)
    draft = make_roster(first, [])
    other = make_roster(second, [], version=1)
    assert lookups.current_draft(first.id) == draft
    assert lookups.current_draft(second.id) is None
    assert lookups.latest_published(first.id) == v2
    ids = set(db.session.scalars(lookups.latest_published_rosters()))
    assert ids == {v2.id, other.id}


def test_open_periods_earliest_first(
    app: Flask, make_period: Callable[..., PlanningPeriod]
) -> None:
    later = make_period(name="后", start=date(2026, 12, 21), end=date(2026, 12, 27))
    make_period(name="关", start=date(2026, 11, 1), end=date(2026, 11, 7), is_open=False)
    earlier = make_period(name="前", start=date(2026, 12, 7), end=date(2026, 12, 13))
    assert lookups.open_periods() == [earlier, later]
