"""The one home of each roster and period lookup (scheduler.services.lookups and the models)."""

from __future__ import annotations

from datetime import date

from scheduler.models import PlanningPeriod


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
