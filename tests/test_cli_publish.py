"""`flask solve --publish` publishes the draft revision its report showed, and a refused
publish (nothing changed since the latest version, say) is a clear error, not a traceback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Roster
from scheduler.models.rosters import PUBLISHED
from tests.test_planning import build_small_world


def test_cli_publish_twice_says_nothing_changed(
    app_factory: Callable[..., Flask], make_site: Any, make_volunteer: Any
) -> None:
    app = app_factory(JOBS_SOLVER_WORKERS=1)
    with app.app_context():
        period_id = build_small_world(make_site, make_volunteer).period.id
    args = ["solve", "--period", str(period_id), "--time-limit", "5", "--publish"]
    first = app.test_cli_runner().invoke(args=args)
    assert first.exit_code == 0, first.output
    assert "published version 1" in first.output
    again = app.test_cli_runner().invoke(args=args)
    assert again.exit_code == 1, again.output
    assert again.exception is None or isinstance(again.exception, SystemExit)
    assert "Traceback" not in again.output
    assert "Error:" in again.output
    with app.app_context():
        versions = db.session.scalars(
            select(Roster.version).where(Roster.period_id == period_id, Roster.status == PUBLISHED)
        ).all()
    assert versions == [1]
