"""Repairing drop-outs: a volunteer cancels a published shift, the roster page shows the hole
with a Repair button, a minimal-change re-solve (the ordinary job path, run inline) fills it
with someone free and moves nobody else, the confirm page lists exactly those moves, and
confirming publishes version 2. The canceller is never put back on the slot they cancelled."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import (
    Assignment,
    Availability,
    Notification,
    PlanningPeriod,
    Roster,
    ShiftResponse,
    Site,
    SolveRun,
    User,
)
from scheduler.models.base import utcnow
from scheduler.models.rosters import PUBLISHED, SUCCEEDED
from scheduler.planning import build_problem, person_id, shift_id
from scheduler.services import lookups, my_shifts, publishing
from scheduler.services.lookups import current_draft
from tests.fixtures.auth import login
from tests.fixtures.rosters import publish_form

MON, TUE = date(2026, 12, 7), date(2026, 12, 8)


@dataclass
class RepairWorld:
    period: PlanningPeriod
    site: Site
    people: list[User]


@pytest.fixture
def sync_app(app_factory: Callable[..., Flask]) -> Iterator[Flask]:
    app = app_factory(JOBS_SYNCHRONOUS=True, JOBS_SOLVER_WORKERS=1, REPAIR_TIME_LIMIT=5)
    with app.app_context():
        yield app


def build_world(
    make_site: Callable[..., Site],
    make_volunteer: Callable[..., User],
    make_period: Callable[..., PlanningPeriod],
    count: int,
) -> RepairWorld:
    """One checkpoint running day shifts only, two code checkers a shift, over two days;
    `count` trained volunteers available on both days."""
    site = make_site(
        name="东卡口", demand={"code_checker": 2}, runs_night=False, runs_evening=False
    )
    period = make_period(start=MON, end=TUE, sites=[site])
    names = ["安", "博", "陈", "丁", "鄂", "方"][:count]
    people = [make_volunteer(name=f"志愿者{n}", trained_at=utcnow()) for n in names]
    for user in people:
        for day in (MON, TUE):
            db.session.add(Availability(volunteer_id=user.volunteer.id, day=day, start_hour=8))  # type: ignore[union-attr]
    db.session.commit()
    return RepairWorld(period, site, people)


@pytest.fixture
def staff(sync_app: Flask, coordinator: User) -> FlaskClient:
    client = sync_app.test_client()
    login(client, coordinator)
    return client


def base_url(world: RepairWorld) -> str:
    return f"/coordinator/periods/{world.period.id}/roster"


def rows(roster: Roster) -> set[tuple[int, date, str, int, int]]:
    return {(a.site_id, a.day, a.shift, a.role_id, a.volunteer_id) for a in roster.assignments}


def publish_v1(world: RepairWorld, staff: FlaskClient) -> Roster:
    """Generate (a real, tiny solve) and publish version 1."""
    generated = staff.post(
        f"{base_url(world)}/runs", data={"site_ids": [world.site.id], "time_limit": "5"}
    )
    assert generated.status_code == 302
    assert (
        staff.post(
            f"{base_url(world)}/publish", data=publish_form(staff, base_url(world))
        ).status_code
        == 302
    )
    db.session.expire_all()
    v1 = lookups.latest_published(world.period.id)
    assert v1 is not None
    assert v1.version == 1
    return v1


def cancel_monday(sync_app: Flask, world: RepairWorld, v1: Roster) -> tuple[User, Assignment]:
    """One of the volunteers on Monday's day shift cancels it through /me."""
    mine = min((a for a in v1.assignments if a.day == MON), key=lambda a: a.volunteer_id)
    canceller = next(u for u in world.people if u.volunteer.id == mine.volunteer_id)  # type: ignore[union-attr]
    client = sync_app.test_client()
    login(client, canceller)
    response = client.post(f"/me/shifts/{mine.id}/cancel", data={"reason": "家里有急事"})
    assert response.status_code == 302
    db.session.expire_all()
    return canceller, mine


def test_cancel_repair_confirm_publishes_version_2_with_the_hole_filled(
    sync_app: Flask,
    staff: FlaskClient,
    make_site: Any,
    make_volunteer: Any,
    make_period: Any,
) -> None:
    world = build_world(make_site, make_volunteer, make_period, 4)
    v1 = publish_v1(world, staff)
    assert len(v1.assignments) == 4  # two a day, two days
    v1_rows = rows(v1)
    canceller, mine = cancel_monday(sync_app, world, v1)
    gone = canceller.volunteer.id  # type: ignore[union-attr]
    monday_team = {a.volunteer_id for a in v1.assignments if a.day == MON}

    page = staff.get(base_url(world)).get_data(as_text=True)
    assert "Cancelled by volunteers (1)" in page
    assert "家里有急事" in page
    assert 'id="roster-repair-form"' in page
    assert f'action="{base_url(world)}/repair"' in page

    runs_before = db.session.scalar(select(func.count()).select_from(SolveRun))
    response = staff.post(f"{base_url(world)}/repair", data={})
    assert response.status_code == 302
    assert response.location.endswith(f"{base_url(world)}/repair")
    db.session.expire_all()
    run = db.session.scalars(select(SolveRun).order_by(SolveRun.id.desc())).first()
    assert db.session.scalar(select(func.count()).select_from(SolveRun)) == runs_before + 1
    assert run is not None
    assert run.status == SUCCEEDED, run.error
    assert run.time_limit == 5
    assert run.all_sites

    # The proposed moves: the canceller loses the post, one free volunteer takes it, nobody
    # else moves.
    draft = current_draft(world.period.id)
    assert draft is not None
    changes = publishing.diff(v1, draft)
    moved = {c.volunteer_id: (c.added, c.removed) for c in changes.changes}
    assert moved.pop(gone) == ([], [publishing.Slot(MON, "day", world.site.id, mine.role_id)])
    ((filler, (added, removed)),) = moved.items()
    assert filler != gone
    assert filler not in monday_team
    assert (added, removed) == ([publishing.Slot(MON, "day", world.site.id, mine.role_id)], [])
    filler_name = next(u.name for u in world.people if u.volunteer.id == filler)  # type: ignore[union-attr]

    confirm = staff.get(response.location)
    assert confirm.status_code == 200
    html = confirm.get_data(as_text=True)
    assert "Proposed moves" in html
    assert "Compared with version 1." in html
    assert "1 posts added, 1 posts removed, 2 volunteers affected." in html
    assert filler_name in html
    assert canceller.name in html
    assert f'action="{base_url(world)}/repair/publish"' in html

    published = staff.post(f"{base_url(world)}/publish", data=publish_form(staff, base_url(world)))
    assert published.status_code == 302
    assert published.location.endswith(f"{base_url(world)}/versions/2")
    db.session.expire_all()
    v2 = lookups.latest_published(world.period.id)
    assert v2 is not None
    assert (v2.version, v2.status) == (2, PUBLISHED)
    v2_rows = rows(v2)
    hole = (world.site.id, MON, "day", mine.role_id)
    assert v2_rows == (v1_rows - {(*hole, gone)}) | {(*hole, filler)}
    assert not any(r[4] == gone and r[1] == MON for r in v2_rows)
    assert rows(db.session.get(Roster, v1.id)) == v1_rows  # version 1 untouched

    # The hole is gone from the roster page once version 2 is out.
    assert "Cancelled by volunteers" not in staff.get(base_url(world)).get_data(as_text=True)
    # The canceller knows they are off that shift: no "shift removed" message for it.
    kinds = db.session.scalars(
        select(Notification.kind).where(Notification.user_id == canceller.id)
    ).all()
    assert "shift_removed" not in kinds


def test_a_canceller_put_back_by_hand_sees_the_shift_again(
    sync_app: Flask,
    staff: FlaskClient,
    make_site: Any,
    make_volunteer: Any,
    make_period: Any,
) -> None:
    """Their old "cancelled" answer would hide the shift: publishing removes it and tells them."""
    world = build_world(make_site, make_volunteer, make_period, 4)
    v1 = publish_v1(world, staff)
    canceller, mine = cancel_monday(sync_app, world, v1)
    volunteer_id = canceller.volunteer.id  # type: ignore[union-attr]
    assign = f"{base_url(world)}/posts/{world.site.id}/{MON.isoformat()}/day/{mine.role_id}/assign"
    done = staff.post(
        assign, data={"volunteer_id": volunteer_id, "confirm": "1", "note": "电话确认能来"}
    )
    assert done.status_code in (200, 302)
    before = db.session.scalar(
        select(func.count(Notification.id)).where(Notification.user_id == canceller.id)
    )
    assert (
        staff.post(
            f"{base_url(world)}/publish", data=publish_form(staff, base_url(world))
        ).status_code
        == 302
    )
    db.session.expire_all()
    answers = db.session.scalars(
        select(ShiftResponse).where(ShiftResponse.volunteer_id == volunteer_id)
    ).all()
    assert answers == []
    new = db.session.scalars(
        select(Notification.kind)
        .where(Notification.user_id == canceller.id)
        .order_by(Notification.id)
        .offset(before)
    ).all()
    assert [kind for kind in new if kind != "reminder"] == ["shift_new"]
    shifts = my_shifts.my_shifts(canceller.volunteer)  # type: ignore[arg-type]
    monday = [c for c in shifts.upcoming if c.day == MON]
    assert len(monday) == 1
    assert monday[0].status is None
    v2 = lookups.latest_published(world.period.id)
    assert v2 is not None
    assert any(a.volunteer_id == volunteer_id and a.day == MON for a in v2.assignments)


def test_the_canceller_is_never_put_back_even_when_nobody_else_is_free(
    sync_app: Flask,
    staff: FlaskClient,
    make_site: Any,
    make_volunteer: Any,
    make_period: Any,
) -> None:
    world = build_world(make_site, make_volunteer, make_period, 2)
    v1 = publish_v1(world, staff)
    canceller, _mine = cancel_monday(sync_app, world, v1)
    gone = canceller.volunteer.id  # type: ignore[union-attr]

    problem, _mapping = build_problem(world.period)
    person = next(p for p in problem.people if p.id == person_id(gone))
    assert shift_id(world.site.id, MON, "day") not in person.available
    assert shift_id(world.site.id, TUE, "day") in person.available
    db.session.rollback()

    assert staff.post(f"{base_url(world)}/repair", data={}).status_code == 302
    db.session.expire_all()
    run = db.session.scalars(select(SolveRun).order_by(SolveRun.id.desc())).first()
    assert run is not None
    assert run.status == SUCCEEDED, run.error
    draft = current_draft(world.period.id)
    assert draft is not None
    monday = {a.volunteer_id for a in draft.assignments if a.day == MON}
    assert gone not in monday
    assert len(monday) == 1
    html = staff.get(f"{base_url(world)}/repair").get_data(as_text=True)
    assert "0 posts added, 1 posts removed, 1 volunteers affected." in html


def test_repair_without_holes_is_refused_and_starts_nothing(
    sync_app: Flask,
    staff: FlaskClient,
    make_site: Any,
    make_volunteer: Any,
    make_period: Any,
) -> None:
    world = build_world(make_site, make_volunteer, make_period, 4)
    publish_v1(world, staff)
    page = staff.get(base_url(world)).get_data(as_text=True)
    assert 'id="roster-repair-form"' not in page
    runs_before = db.session.scalar(select(func.count()).select_from(SolveRun))
    response = staff.post(f"{base_url(world)}/repair", data={}, follow_redirects=True)
    assert response.status_code == 200
    assert "nothing to repair" in response.get_data(as_text=True)
    chinese = staff.get(f"{base_url(world)}/repair", headers={"Accept-Language": "zh-CN"})
    assert "修补排班" in chinese.get_data(as_text=True)
    assert "没有志愿者取消已发布的班次。" in chinese.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SolveRun)) == runs_before


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_repair_routes_are_staff_only(
    sync_app: Flask,
    make_site: Any,
    make_volunteer: Any,
    make_period: Any,
    make_user: Any,
    method: str,
) -> None:
    world = build_world(make_site, make_volunteer, make_period, 2)
    url = f"{base_url(world)}/repair"
    anonymous = sync_app.test_client().open(url, method=method)
    assert anonymous.status_code == 302
    assert "/login" in anonymous.location
    for user in (world.people[0], make_user("site_lead", name="点长")):
        client = sync_app.test_client()
        login(client, user)
        assert client.open(url, method=method).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(SolveRun)) == 0
