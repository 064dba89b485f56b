"""A draft row of a volunteer whose account is no longer active (deleted after the shift
started, or deactivated by an admin) is the roster's history: later solves and repairs of the
period keep it as it is, never send that person to another shift, and do not fail. On SQLite
and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Assignment, PlanningPeriod, Site, User
from scheduler.services import editing, profile
from scheduler.services.lookups import current_draft
from tests.fixtures.auth import PASSWORD
from tests.test_run_races import MON, World, build, publish_v1, solve


@pytest.fixture
def world(
    any_db_app: Flask,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
) -> World:
    any_db_app.config.update(JOBS_SYNCHRONOUS=True, JOBS_SOLVER_WORKERS=1)
    return build(make_site, make_period, make_volunteer)


def _draft_rows(world: World) -> list[Assignment]:
    db.session.expire_all()
    draft = current_draft(world.period.id)
    assert draft is not None
    return list(db.session.scalars(select(Assignment).where(Assignment.roster_id == draft.id)))


@pytest.mark.parametrize("how", ["deleted", "deactivated"])
@pytest.mark.parametrize("pinned", [True, False])
@pytest.mark.parametrize("minimal_change", [True, False])
def test_a_run_after_an_account_left_keeps_their_started_post(
    world: World, how: str, pinned: bool, minimal_change: bool
) -> None:
    publish_v1(world)
    rows = _draft_rows(world)
    mine = min((a for a in rows if a.day == MON), key=lambda a: a.volunteer_id)
    vid = mine.volunteer_id
    if pinned:
        editing.set_pinned(mine, True)
        db.session.commit()
    user = world.user_of(vid)
    if how == "deleted":
        # Monday's shift has started: that post stays in the draft (the roster's history).
        profile.delete_account(user, PASSWORD, now=datetime(2026, 12, 7, 12, 0, tzinfo=UTC))
    else:
        user.active = False
        db.session.commit()
    before = {(a.day, a.shift, a.role_id) for a in _draft_rows(world) if a.volunteer_id == vid}
    assert (mine.day, mine.shift, mine.role_id) in before

    solve(world, minimal_change=minimal_change)

    rows = _draft_rows(world)
    theirs = {(a.day, a.shift, a.role_id) for a in rows if a.volunteer_id == vid}
    # Their started post is kept as it was; the solver gave them nothing new.
    assert (mine.day, mine.shift, mine.role_id) in theirs
    assert theirs <= before
    # Nobody was sent on top of it: Monday's day shift holds exactly its head count of two.
    monday = [a for a in rows if a.day == MON and a.shift == mine.shift]
    assert len(monday) == 2
    assert len({a.volunteer_id for a in monday}) == 2
