"""A head count is exact: a roster the app generates or repairs never holds more people in a
role on a shift than that shift needs, a hand edit above it is a broken rule to confirm, and
the coverage heat map shows anyone above the head count instead of hiding them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from scheduler import jobs
from scheduler.extensions import db
from scheduler.models import (
    Assignment,
    Availability,
    Demand,
    PlanningPeriod,
    Role,
    Roster,
    Site,
    User,
)
from scheduler.models.base import utcnow
from scheduler.models.rosters import SUCCEEDED
from scheduler.planning import build_problem
from scheduler.services import editing, publishing, rosters
from scheduler.services.demand import demand_of, urgent_extra
from scheduler.services.lookups import current_draft
from tests.fixtures.auth import login
from tests.fixtures.rosters import make_roster

MON, TUE = date(2026, 12, 7), date(2026, 12, 8)


@dataclass
class World:
    period: PlanningPeriod
    site: Site
    people: list[User]


@pytest.fixture
def sync_app(app_factory: Callable[..., Flask]) -> Iterator[Flask]:
    app = app_factory(JOBS_SYNCHRONOUS=True, JOBS_SOLVER_WORKERS=1, REPAIR_TIME_LIMIT=5)
    with app.app_context():
        yield app


@pytest.fixture
def staff(sync_app: Flask, coordinator: User) -> FlaskClient:
    client = sync_app.test_client()
    login(client, coordinator)
    return client


def build_world(
    make_site: Callable[..., Site],
    make_volunteer: Callable[..., User],
    make_period: Callable[..., PlanningPeriod],
    count: int = 5,
) -> World:
    """A checkpoint running day shifts needing two code checkers, over two days; `count`
    trained volunteers available on both days."""
    site = make_site(
        name="东卡口", demand={"code_checker": 2}, runs_night=False, runs_evening=False
    )
    period = make_period(start=MON, end=TUE, sites=[site])
    people = [make_volunteer(name=f"志愿者{i}", trained_at=utcnow()) for i in range(count)]
    for user in people:
        for day in (MON, TUE):
            db.session.add(Availability(volunteer_id=user.volunteer.id, day=day, start_hour=8))  # type: ignore[union-attr]
    db.session.commit()
    return World(period, site, people)


def above_head_count(period: PlanningPeriod, roster: Roster) -> dict[tuple, tuple[int, int]]:
    """(site, day, shift, role) -> (held, needed) for every post holding more than it needs."""
    held = Counter(
        (a.site_id, a.day, a.shift, a.role_id)
        for a in db.session.scalars(select(Assignment).where(Assignment.roster_id == roster.id))
    )
    extra = urgent_extra(period.id)
    sites = {s.id: s for s in db.session.scalars(select(Site))}
    out = {}
    for (site_id, day, kind, role_id), n in held.items():
        need = demand_of(sites[site_id], day, kind, extra).get(role_id, 0)
        if n > need:
            out[(site_id, day, kind, role_id)] = (n, need)
    return out


def solve_now(period: PlanningPeriod, *, minimal_change: bool) -> None:
    run = rosters.start_run(
        period, [s.id for s in period.sites], 5, None, minimal_change=minimal_change
    )
    jobs.execute_run(run.id)
    db.session.expire_all()
    assert db.session.get(type(run), run.id).status == SUCCEEDED  # type: ignore[union-attr]


def lower_head_count(site: Site, code: str, headcount: int) -> None:
    role = db.session.scalars(select(Role).where(Role.code == code)).one()
    for row in db.session.scalars(
        select(Demand).where(Demand.site_id == site.id, Demand.role_id == role.id)
    ):
        row.headcount = headcount
    db.session.commit()


@pytest.mark.parametrize("minimal_change", [False, True])
def test_a_generated_roster_never_exceeds_the_head_count(
    sync_app: Flask,
    make_site: Any,
    make_volunteer: Any,
    make_period: Any,
    minimal_change: bool,
) -> None:
    """The first roster fills each post exactly; after the coordinator lowers the head count,
    both a new generation and a minimal-change re-solve (a repair keeps what volunteers were
    told, which used to keep the surplus too) take the surplus off."""
    world = build_world(make_site, make_volunteer, make_period)
    problem, _mapping = build_problem(world.period)
    assert problem.cover_cap
    db.session.rollback()
    solve_now(world.period, minimal_change=False)
    draft = current_draft(world.period.id)
    assert draft is not None
    assert len(draft.assignments) == 4
    assert above_head_count(world.period, draft) == {}
    publishing.publish(world.period, None)
    db.session.commit()

    lower_head_count(world.site, "code_checker", 1)
    solve_now(world.period, minimal_change=minimal_change)
    draft = current_draft(world.period.id)
    assert draft is not None
    assert above_head_count(world.period, draft) == {}
    assert Counter(a.day for a in draft.assignments) == {MON: 1, TUE: 1}


def test_a_pinned_override_holds_its_place(
    sync_app: Flask, make_site: Any, make_volunteer: Any, make_period: Any
) -> None:
    """A deliberate override stays out of the solver's problem but not out of the count: the
    solver sends nobody on top of it."""
    world = build_world(make_site, make_volunteer, make_period)
    lower_head_count(world.site, "code_checker", 1)
    outsider = world.people[0]
    draft = make_roster(world.period, [(world.site, MON, "day", "code_checker", outsider)])
    row = draft.assignments[0]
    row.pinned, row.rule_override, row.override_note = True, True, "电话确认"
    # the outsider's Monday availability is gone: only an override keeps them there
    db.session.execute(
        Availability.__table__.delete().where(
            Availability.volunteer_id == outsider.volunteer.id,  # type: ignore[union-attr]
            Availability.day == MON,
        )
    )
    db.session.commit()
    solve_now(world.period, minimal_change=False)
    draft = current_draft(world.period.id)
    assert draft is not None
    monday = [a for a in draft.assignments if a.day == MON]
    assert [(a.volunteer_id, a.rule_override) for a in monday] == [(outsider.volunteer.id, True)]  # type: ignore[union-attr]
    assert above_head_count(world.period, draft) == {}
    assert len([a for a in draft.assignments if a.day == TUE]) == 1


def test_a_hand_edit_above_the_head_count_is_a_rule_to_confirm(
    sync_app: Flask, make_site: Any, make_volunteer: Any, make_period: Any
) -> None:
    world = build_world(make_site, make_volunteer, make_period)
    a, b, c = world.people[:3]
    make_roster(
        world.period,
        [(world.site, MON, "day", "code_checker", a), (world.site, MON, "day", "code_checker", b)],
    )
    role = db.session.scalars(select(Role).where(Role.code == "code_checker")).one()
    outcome = editing.assign(world.period, world.site, MON, "day", role, c.volunteer.id)  # type: ignore[union-attr]
    assert not outcome.applied
    assert [w.rule for w in outcome.warnings] == ["over_cover"]
    assert outcome.warnings[0].label == "The post already has every person it needs"
    # a post with room takes them without a warning
    outcome = editing.assign(world.period, world.site, TUE, "day", role, c.volunteer.id)  # type: ignore[union-attr]
    assert outcome.applied
    assert outcome.warnings == []


def test_the_heat_map_shows_people_above_the_head_count(
    sync_app: Flask,
    staff: FlaskClient,
    make_site: Any,
    make_volunteer: Any,
    make_period: Any,
) -> None:
    world = build_world(make_site, make_volunteer, make_period)
    a, b, c, d = world.people[:4]
    rows = [(world.site, MON, "day", "code_checker", u) for u in (a, b, c)]
    rows.append((world.site, TUE, "day", "code_checker", d))
    make_roster(world.period, rows)

    review = rosters.review(world.period)
    (row,) = review.heat
    assert [(cell.filled, cell.needed, cell.over) for cell in row.cells] == [(2, 2, 1), (1, 2, 0)]

    html = staff.get(f"/coordinator/periods/{world.period.id}/roster").get_data(as_text=True)
    assert 'class="heat-full heat-over" title="1 person more than this shift needs"' in html
    assert '2/2 <span class="heat-surplus">+1</span>' in html
    assert "people above the head count: nobody should be there" in html
    assert 'class="heat-some"' in html  # Tuesday: 1/2, nothing above
    chinese = staff.get(
        f"/coordinator/periods/{world.period.id}/roster", headers={"Accept-Language": "zh-CN"}
    ).get_data(as_text=True)
    assert "超出所需人数" in chinese
