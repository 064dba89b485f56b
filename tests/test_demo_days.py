"""`flask seed-demo --days N`: a longer demo period whose volunteers offer time all through it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from scheduler import planning
from scheduler.extensions import db
from scheduler.models import Availability, DayOff, PlanningPeriod
from scheduler.models.planning import MAX_PERIOD_DAYS
from solver import check


def test_seed_demo_days_builds_a_longer_valid_period(any_db_app: Flask) -> None:
    result = any_db_app.test_cli_runner().invoke(
        args=["seed-demo", "--volunteers", "30", "--seed", "2", "--days", "30"]
    )
    assert result.exit_code == 0, result.output
    periods = db.session.scalars(select(PlanningPeriod).order_by(PlanningPeriod.start_date))
    city, district = list(periods)
    assert (city.end_date - city.start_date).days == 29
    # the district's own period still follows the city's and lasts a fortnight
    assert district.start_date == city.end_date + timedelta(days=1)
    assert (district.end_date - district.start_date).days == 13
    days = set(db.session.scalars(select(Availability.day)))
    assert min(days) == city.start_date
    assert max(d for d in days if d <= city.end_date) >= city.end_date - timedelta(days=2)
    assert all(d <= district.end_date for d in days)
    assert all(
        city.start_date <= d <= city.end_date for d in db.session.scalars(select(DayOff.day))
    )
    problem, _ = planning.build_problem(city)
    assert len(problem.days) == 30
    assert any(s.day >= city.start_date + timedelta(days=21) for s in problem.shifts)
    late = {s.id for s in problem.shifts if s.day >= city.start_date + timedelta(days=21)}
    assert any(p.available & late for p in problem.people)
    assert check(problem, ()).ok  # a valid problem: the empty roster breaks no hard rule


def test_seed_demo_refuses_a_period_longer_than_the_app_allows(
    app_factory: Callable[..., Flask],
) -> None:
    app = app_factory()
    too_long = str(MAX_PERIOD_DAYS + 1)
    result = app.test_cli_runner().invoke(
        args=["seed-demo", "--volunteers", "5", "--days", too_long]
    )
    assert result.exit_code != 0
    with app.app_context():
        assert db.session.scalar(select(PlanningPeriod.id)) is None
