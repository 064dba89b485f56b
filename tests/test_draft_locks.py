"""The draft row is the lock every writer of a draft takes (PostgreSQL, two connections):
save_solution takes it before reading what changed during the run (a cancellation, which
touches the same row, waits or is seen: never undone), and a hand edit's check
(ensure_editable) and start_run take it, so an edit cannot slip in after a run starts building.

Deterministic: a second connection holds the row (as an uncommitted cancellation or edit
would) and each path, with a short lock_timeout, is shown to wait for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

import solver
from scheduler import jobs, planning
from scheduler.extensions import db
from scheduler.models import PlanningPeriod, Site, SolveRun, User
from scheduler.services import editing, rosters
from scheduler.services.lookups import current_draft
from tests.test_run_races import World, between_build_and_save, build, publish_v1


@pytest.fixture
def world(
    app_factory: Callable[..., Flask],
    postgres_url: str,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
) -> Iterator[World]:
    app = app_factory(postgres_url, JOBS_SYNCHRONOUS=True, JOBS_SOLVER_WORKERS=1)
    with app.app_context():
        yield build(make_site, make_period, make_volunteer)


def hold_draft(draft_id: int) -> Connection:
    """Another transaction holding the draft row, as an uncommitted cancellation would."""
    other = db.engine.connect()
    other.execute(text("SELECT id FROM rosters WHERE id = :id FOR UPDATE"), {"id": draft_id})
    return other


def short_lock_timeout() -> None:
    db.session.execute(text("SET lock_timeout = '300ms'"))


def test_a_hand_edit_check_waits_for_the_draft_row(world: World) -> None:
    publish_v1(world)
    draft = current_draft(world.period.id)
    assert draft is not None
    other = hold_draft(draft.id)
    try:
        short_lock_timeout()
        with pytest.raises(OperationalError, match="lock"):
            editing.ensure_editable(draft)
        db.session.rollback()
    finally:
        other.rollback()
        other.close()
    editing.ensure_editable(draft)  # free again


def test_start_run_waits_for_the_draft_row(world: World) -> None:
    publish_v1(world)
    draft = current_draft(world.period.id)
    assert draft is not None
    other = hold_draft(draft.id)
    try:
        short_lock_timeout()
        with pytest.raises(OperationalError, match="lock"):
            rosters.start_run(world.period, [world.site.id], 5, None)
        db.session.rollback()
    finally:
        other.rollback()
        other.close()
    assert not rosters.solving(world.period.id)


def test_save_solution_locks_the_draft_before_reading_the_changes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish_v1(world)
    draft = current_draft(world.period.id)
    assert draft is not None
    held: list[Connection] = []

    def hold_now(solution: solver.Solution, mapping: Any) -> None:
        held.append(hold_draft(draft.id))
        short_lock_timeout()

    between_build_and_save(monkeypatch, hold_now)
    read: list[bool] = []
    real_changed = planning._changed_since_build

    def changed(*args: Any) -> Any:
        read.append(True)
        return real_changed(*args)

    monkeypatch.setattr(planning, "_changed_since_build", changed)
    run = rosters.start_run(world.period, [world.site.id], 5, None)
    try:
        jobs.execute_run(run.id)
    finally:
        for other in held:
            other.rollback()
            other.close()
    db.session.rollback()
    db.session.expire_all()
    saved = db.session.get(SolveRun, run.id)
    assert saved is not None
    assert saved.status == "failed", saved.status
    assert held
    # It waited for the row before reading the volunteers' changes, not after.
    assert read == []
