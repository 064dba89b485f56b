"""The demo period's name does not repeat its dates: every page shows a period's dates beside
its name ("第一期 · 12月7日 – 12月20日"), so a name with dates read them twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import PlanningPeriod


def test_demo_period_is_named_without_its_dates(app_factory: Callable[..., Flask]) -> None:
    app = app_factory()
    runner: Any = app.test_cli_runner()
    for _ in range(2):  # a second run reuses the period
        assert runner.invoke(args=["seed-demo", "--volunteers", "20", "--seed", "3"]).exit_code == 0
    with app.app_context():
        periods = list(db.session.scalars(select(PlanningPeriod).order_by(PlanningPeriod.id)))
        # The city's period, and 崇川区's own the fortnight after (issue 13).
        assert [p.name for p in periods] == ["第一期", "崇川区第二期"]
        assert not any("月" in p.name for p in periods)
