"""A re-solve keeps a pin only while its volunteer may still serve it (scheduler.planning).

A pinned draft row of someone who left the period's unions, or who lost the training the role
needs, is dropped from a solve of its site: the post is solved again, the row goes, and the
run lists who, where and why for the coordinator (SolveRun.dropped_pins, on the roster page).
Before, such a pin either failed the whole run with a misleading message ("account no longer
active") or a solver library error. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select

from scheduler import jobs
from scheduler.extensions import db
from scheduler.models import (
    CITY,
    COORDINATOR,
    Assignment,
    Availability,
    District,
    Organisation,
    PlanningPeriod,
    Site,
    SolveRun,
    User,
    Volunteer,
)
from scheduler.models.base import utcnow
from scheduler.planning import NOT_DRAWN_ON, NOT_QUALIFIED, build_problem, person_id
from scheduler.services import editing, rosters
from scheduler.services.lookups import current_draft
from tests.fixtures.auth import login

MON, TUE = date(2026, 12, 7), date(2026, 12, 8)


class World:
    def __init__(self, period: PlanningPeriod, site: Site, home: District, away: District):
        self.period, self.site, self.home, self.away = period, site, home, away


@pytest.fixture
def world(
    any_db_app: Flask,
    make_site: Callable[..., Site],
    make_volunteer: Callable[..., User],
) -> World:
    """The city, 甲区 and 乙区; a checkpoint of 甲区 with two code checkers on each day shift
    over two days, its period (甲区's own), and four trained 甲区 volunteers available on both."""
    any_db_app.config.update(JOBS_SYNCHRONOUS=True, JOBS_SOLVER_WORKERS=1)
    db.session.add(Organisation(kind=CITY, name="市总工会"))
    db.session.commit()
    home, away = District(name="甲区"), District(name="乙区")
    db.session.add_all([home, away])
    db.session.commit()
    site = make_site(
        name="东卡口",
        demand={"code_checker": 2},
        runs_night=False,
        runs_evening=False,
        district_id=home.id,
    )
    period = PlanningPeriod(
        name="甲区一期",
        start_date=MON,
        end_date=TUE,
        is_open=True,
        sites=[site],
        organisation_id=home.organisation_id,
    )
    db.session.add(period)
    for n in "安博陈丁":
        user = make_volunteer(name=f"志愿者{n}", trained_at=utcnow(), district_id=home.id)
        assert user.volunteer is not None
        for day in (MON, TUE):
            db.session.add(Availability(volunteer_id=user.volunteer.id, day=day, start_hour=8))
    db.session.commit()
    return World(period, site, home, away)


def solve(world: World) -> SolveRun:
    run = rosters.start_run(world.period, [world.site.id], 5, None)
    jobs.execute_run(run.id)
    db.session.expire_all()
    run = db.session.get_one(SolveRun, run.id)
    assert run.status == "succeeded", run.error
    return run


def draft_rows(world: World) -> list[Assignment]:
    db.session.expire_all()
    draft = current_draft(world.period.id)
    assert draft is not None
    return list(db.session.scalars(select(Assignment).where(Assignment.roster_id == draft.id)))


def pin_one(world: World) -> Assignment:
    solve(world)
    mine = min((a for a in draft_rows(world) if a.day == MON), key=lambda a: a.volunteer_id)
    editing.set_pinned(mine, True)
    db.session.commit()
    return mine


def make_ineligible(world: World, volunteer_id: int, how: str) -> None:
    volunteer = db.session.get_one(Volunteer, volunteer_id)
    if how == NOT_DRAWN_ON:
        volunteer.district_id = world.away.id  # moved to 乙区: no longer 甲区's
    else:
        volunteer.trained_at = None  # a code checker must be trained
    db.session.commit()


@pytest.mark.parametrize("how", [NOT_DRAWN_ON, NOT_QUALIFIED])
def test_a_pin_of_someone_no_longer_eligible_is_dropped_with_its_reason(
    any_db_app: Flask, world: World, how: str, make_user: Callable[..., User]
) -> None:
    mine = pin_one(world)
    vid, post = mine.volunteer_id, (mine.day, mine.shift, mine.role_id)
    make_ineligible(world, vid, how)

    problem, mapping = build_problem(world.period)
    assert person_id(vid) not in {p.person for p in problem.pins}
    assert [(d.volunteer_id, d.reason) for d in mapping.dropped] == [(vid, how)]

    run = solve(world)
    rows = draft_rows(world)
    assert not any(a.volunteer_id == vid for a in rows)
    # The post was solved again: Monday's day shift still holds its two code checkers.
    assert len([a for a in rows if (a.day, a.shift, a.role_id) == post]) == 2
    assert run.dropped_pins is not None
    (dropped,) = run.dropped_pins
    assert (dropped["volunteer_id"], dropped["reason"], dropped["day"]) == (vid, how, "2026-12-07")
    assert dropped["name"] == db.session.get_one(Volunteer, vid).user.name
    # The coordinator reads it with the run's result.
    coordinator = make_user(COORDINATOR, name="市协调员")
    coordinator.organisation_id = world.home.organisation_id
    db.session.commit()
    client = any_db_app.test_client()
    login(client, coordinator)
    page = client.get(f"/coordinator/periods/{world.period.id}/roster").get_data(as_text=True)
    assert dropped["name"] in page
    assert ("left its unions" if how == NOT_DRAWN_ON else "training the role needs") in page


def test_eligible_pins_are_kept_and_nothing_is_listed(world: World) -> None:
    mine = pin_one(world)
    run = solve(world)
    assert run.dropped_pins is None
    kept = db.session.get(Assignment, mine.id)
    assert kept is not None
    assert kept.pinned
