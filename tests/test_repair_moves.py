"""A repair changes only what its hole forces, says why for every change, and needs the
coordinator's tick for each volunteer it would take off a shift they were already told.

- On a demo-like roster, after a newcomer signs up with time and skills for many open posts,
  one cancellation is repaired: only the cancelled place is refilled (directly or through a
  move into it), no old unfilled post is filled on the way, nobody else is touched.
- A chain (the cancelled post needs a lead; the only free lead holds another post, which a
  free volunteer can take) shows the reasons on the confirm page; publishing refuses until the
  moved volunteer's line is ticked, and the ordinary publish button refuses it too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from scheduler import jobs
from scheduler.extensions import db
from scheduler.models import (
    Assignment,
    Availability,
    DayOff,
    PlanningPeriod,
    Roster,
    Site,
    Skill,
    SolveRun,
    User,
    VolunteerSkill,
)
from scheduler.models.base import utcnow
from scheduler.models.rosters import SUCCEEDED
from scheduler.services import editing, lookups, my_shifts, publishing, repair, rosters
from scheduler.services.availability import period_starts
from scheduler.services.demo import seed_demo
from scheduler.services.lookups import current_draft
from scheduler.services.publishing import Slot
from tests.fixtures.auth import login
from tests.fixtures.rosters import make_roster, publish_form

MON = date(2026, 12, 7)


@pytest.fixture
def sync_app(app_factory: Callable[..., Flask]) -> Iterator[Flask]:
    app = app_factory(JOBS_SYNCHRONOUS=True, JOBS_SOLVER_WORKERS=1, REPAIR_TIME_LIMIT=5)
    with app.app_context():
        yield app


@pytest.fixture
def demo_app(app_factory: Callable[..., Flask]) -> Iterator[Flask]:
    # Time enough for a repair to search the whole demo period (the old repair used it to fill
    # old holes and move people); a repair that only refills the hole proves optimal at once.
    app = app_factory(JOBS_SYNCHRONOUS=True, JOBS_SOLVER_WORKERS=1, REPAIR_TIME_LIMIT=30)
    with app.app_context():
        yield app


@pytest.fixture
def staff(sync_app: Flask, coordinator: User) -> FlaskClient:
    client = sync_app.test_client()
    login(client, coordinator)
    return client


def run_repair(period: PlanningPeriod) -> None:
    run = repair.start_repair(period, None)
    jobs.execute_run(run.id)
    db.session.expire_all()
    done = db.session.get(SolveRun, run.id)
    assert done is not None
    assert done.status == SUCCEEDED, done.error


def test_a_demo_like_repair_refills_only_the_cancelled_place(
    demo_app: Flask, make_volunteer: Any
) -> None:
    seed_demo(volunteers=60, seed=5, today=date(2026, 11, 30))
    period = db.session.scalars(select(PlanningPeriod)).one()
    run = rosters.start_run(period, [s.id for s in rosters.active_sites(period)], 5, None)
    jobs.execute_run(run.id)
    db.session.expire_all()
    publishing.publish(period, None)
    db.session.commit()
    v1 = lookups.latest_published(period.id)
    assert v1 is not None
    assert publishing.draft_diff(period).empty  # type: ignore[union-attr]
    old_holes = {(p.site_id, p.day, p.shift, p.role_id) for p in v1.unfilled_posts}
    assert old_holes, "the demo leaves posts open"

    # A newcomer with every skill and time on every day: the old repair would have placed
    # them on open posts (and moved others to make room) although nobody asked for that.
    newcomer = make_volunteer(name="新来的", trained_at=utcnow(), accepts_nights=True)
    for skill in db.session.scalars(select(Skill)):
        db.session.add(
            VolunteerSkill(
                volunteer_id=newcomer.volunteer.id, skill_id=skill.id, verified_at=utcnow()
            )  # type: ignore[union-attr]
        )
    for n in range((period.end_date - period.start_date).days + 1):
        day = period.start_date.fromordinal(period.start_date.toordinal() + n)
        for start_hour in period_starts(period):
            db.session.add(
                Availability(volunteer_id=newcomer.volunteer.id, day=day, start_hour=start_hour)  # type: ignore[union-attr]
            )
    db.session.commit()

    gone = min(v1.assignments, key=lambda a: (a.day, a.site_id, a.shift, a.role_id, a.id))
    my_shifts.cancel(gone.volunteer, gone.id, "发烧了")
    hole = Slot(gone.day, gone.shift, gone.site_id, gone.role_id)
    run_repair(period)

    draft = current_draft(period.id)
    assert draft is not None
    diff = publishing.diff(v1, draft)
    # The newcomer is free for the cancelled place: it is filled.
    assert any(hole in c.added for c in diff.changes)
    removed = {(c.volunteer_id, s) for c in diff.changes for s in c.removed}
    added = {(c.volunteer_id, s) for c in diff.changes for s in c.added}
    movers = {vid for vid, _ in removed} & {vid for vid, _ in added}
    # Nobody loses a post but the canceller and people moved to fill a place.
    assert {vid for vid, _ in removed} - movers == {gone.volunteer_id}
    # People are added only to the cancelled place or to a place a move vacated.
    vacated = {s for vid, s in removed if vid in movers} | {hole}
    assert {s for _, s in added} <= vacated
    assert len(added) <= 1 + len(movers)
    # Old open posts stay open (none is filled on the way).
    after = {(p.site_id, p.day, p.shift, p.role_id) for p in draft.unfilled_posts}
    assert old_holes - {(hole.site_id, hole.day, hole.shift, hole.role_id)} <= after

    found = repair.proposal(period)
    assert found is not None
    assert {c.fills for c in found.changes if c.added} <= {"cancelled", "left"}
    assert {c.leaves for c in found.changes if c.removed} <= {"cancelled", "moved"}
    assert len(found.told) == len(movers)


@dataclass
class ChainWorld:
    period: PlanningPeriod
    checkpoint: Site  # Monday day shift: one site lead
    testing: Site  # Monday day shift: one code checker
    lead: User  # leads the checkpoint in version 1, then cancels
    able: User  # could lead; checks codes at the testing site in version 1
    free: User  # free on Monday, cannot lead


def chain_world(
    make_site: Callable[..., Site],
    make_volunteer: Callable[..., User],
    make_period: Callable[..., PlanningPeriod],
) -> ChainWorld:
    checkpoint = make_site(
        name="东卡口", demand={"site_lead": 1}, runs_night=False, runs_evening=False
    )
    testing = make_site(
        name="西检测点",
        kind="testing",
        demand={"code_checker": 1},
        runs_night=False,
        runs_evening=False,
    )
    period = make_period(start=MON, end=MON, sites=[checkpoint, testing])
    lead = make_volunteer(name="林点长", trained_at=utcnow())
    able = make_volunteer(name="王能干", trained_at=utcnow())
    free = make_volunteer(name="赵有空", trained_at=utcnow())
    leadership = db.session.scalars(select(Skill).where(Skill.code == "leadership")).one()
    for user in (lead, able, free):
        db.session.add(Availability(volunteer_id=user.volunteer.id, day=MON, start_hour=8))  # type: ignore[union-attr]
    for user in (lead, able):
        db.session.add(VolunteerSkill(volunteer_id=user.volunteer.id, skill_id=leadership.id))  # type: ignore[union-attr]
    db.session.commit()
    rows = [
        (checkpoint, MON, "day", "site_lead", lead),
        (testing, MON, "day", "code_checker", able),
    ]
    make_roster(period, rows, version=1)
    make_roster(period, rows)
    return ChainWorld(period, checkpoint, testing, lead, able, free)


def cancel_lead(world: ChainWorld) -> None:
    v1 = lookups.latest_published(world.period.id)
    assert v1 is not None
    mine = next(a for a in v1.assignments if a.volunteer_id == world.lead.volunteer.id)  # type: ignore[union-attr]
    my_shifts.cancel(world.lead.volunteer, mine.id, "家里有事")  # type: ignore[arg-type]


def versions(world: ChainWorld) -> int:
    return (
        db.session.scalar(
            select(func.count(Roster.id)).where(
                Roster.period_id == world.period.id, Roster.status == "published"
            )
        )
        or 0
    )


def test_a_chain_move_is_explained_and_needs_a_tick(
    sync_app: Flask,
    staff: FlaskClient,
    make_site: Any,
    make_volunteer: Any,
    make_period: Any,
) -> None:
    world = chain_world(make_site, make_volunteer, make_period)
    cancel_lead(world)
    base = f"/coordinator/periods/{world.period.id}/roster"
    assert staff.post(f"{base}/repair", data={}).status_code == 302
    db.session.expire_all()

    found = repair.proposal(world.period)
    assert found is not None
    lines = {c.name: c for c in found.changes}
    assert set(lines) == {"林点长", "王能干", "赵有空"}
    moved = lines["王能干"]
    assert (moved.leaves, moved.fills, moved.fills_other) == ("moved", "cancelled", "林点长")
    assert moved.taken_by == ["赵有空"]
    assert moved.told
    assert (lines["赵有空"].fills, lines["赵有空"].fills_other) == ("left", "王能干")
    assert not lines["赵有空"].told
    assert lines["林点长"].leaves == "cancelled"
    assert not lines["林点长"].told
    assert [c.key for c in found.told] == [moved.key]

    page = staff.get(f"{base}/repair").get_data(as_text=True)
    assert f'action="{base}/repair/publish"' in page
    assert f'name="approve" value="{moved.key}"' in page
    assert page.count('name="approve"') == 1
    assert "Moved to 东卡口 Dec 7 Day, Site lead to fill the place 林点长 cancelled." in page
    assert "Their place is taken by 赵有空." in page
    assert "Takes 西检测点 Dec 7 Day, Code checker to fill the place 王能干 left." in page
    assert "Cancelled it: 家里有事" in page
    assert "1 volunteer was already told a shift this repair takes off them" in page
    chinese = staff.get(f"{base}/repair", headers={"Accept-Language": "zh-CN"})
    assert "调往 东卡口 12月7日 白班，点位长，以填补 林点长 取消留下的空位。" in chinese.get_data(
        as_text=True
    )

    # Unticked: nothing is published, the page says why.
    refused = staff.post(f"{base}/repair/publish", data={})
    assert refused.status_code == 422
    assert "1 not ticked" in refused.get_data(as_text=True)
    assert versions(world) == 1
    # The ordinary publish button does not get past the repair page either.
    bypass = staff.post(f"{base}/publish", data={})
    assert bypass.status_code == 302
    assert bypass.location.endswith(f"{base}/repair")
    assert versions(world) == 1
    # A tick for a line that is not proposed (the draft changed meanwhile) is refused too, as
    # is a page showing other changes than the draft now holds.
    stale = staff.post(f"{base}/repair/publish", data={"approve": [moved.key, "1:2:3:day:4"]})
    assert stale.status_code == 422
    assert "changed since this page was shown" in stale.get_data(as_text=True)
    other = staff.post(f"{base}/repair/publish", data={"approve": moved.key, "shown": "0" * 20})
    assert other.status_code == 422
    assert versions(world) == 1

    assert f'name="shown" value="{found.digest}"' in page
    published = staff.post(
        f"{base}/repair/publish", data={"approve": moved.key, "shown": found.digest}
    )
    assert published.status_code == 302
    assert published.location.endswith(f"{base}/versions/2")
    db.session.expire_all()
    v2 = lookups.latest_published(world.period.id)
    assert v2 is not None
    held = {(a.site_id, a.role.code, a.volunteer_id) for a in v2.assignments}
    assert held == {
        (world.checkpoint.id, "site_lead", world.able.volunteer.id),  # type: ignore[union-attr]
        (world.testing.id, "code_checker", world.free.volunteer.id),  # type: ignore[union-attr]
    }

    # The repair is published: a hand edit after it is an ordinary change, published with the
    # ordinary button (the repair page's ticks are for the repair's own moves only).
    assert not repair.needs_approval(world.period)
    draft = current_draft(world.period.id)
    assert draft is not None
    editing.unassign(next(a for a in draft.assignments if a.role.code == "code_checker"))
    db.session.commit()
    assert not repair.needs_approval(world.period)
    again = staff.post(f"{base}/publish", data=publish_form(staff, base))
    assert again.status_code == 302
    assert again.location.endswith(f"{base}/versions/3")


def test_publish_repair_refuses_unticked_moves_of_told_people(
    sync_app: Flask, make_site: Any, make_volunteer: Any, make_period: Any
) -> None:
    world = chain_world(make_site, make_volunteer, make_period)
    cancel_lead(world)
    run_repair(world.period)
    assert repair.needs_approval(world.period)
    (told,) = repair.proposal(world.period).told  # type: ignore[union-attr]
    with pytest.raises(repair.RepairError, match="1 not ticked"):
        repair.publish_repair(world.period, None, [])
    with pytest.raises(repair.RepairError, match="changed since this page was shown"):
        repair.publish_repair(world.period, None, [told.key, "9:9:2026-12-07:day:9"])
    db.session.rollback()
    assert versions(world) == 1
    version, changes = repair.publish_repair(world.period, None, [told.key])
    db.session.commit()
    assert version.version == 2
    assert changes.added == 2
    assert not repair.needs_approval(world.period)


def test_a_removal_nobody_moved_says_why(
    sync_app: Flask, make_site: Any, make_volunteer: Any, make_period: Any
) -> None:
    """A head count lowered since version 1: the surplus goes, with the reason in words, and
    is a line to tick (they were told)."""
    world = chain_world(make_site, make_volunteer, make_period)
    # nobody can take the lead's place here: the able volunteer lost the skill
    db.session.execute(
        VolunteerSkill.__table__.delete().where(
            VolunteerSkill.volunteer_id == world.able.volunteer.id  # type: ignore[union-attr]
        )
    )
    extra = make_volunteer(name="钱多余", trained_at=utcnow())
    db.session.add(Availability(volunteer_id=extra.volunteer.id, day=MON, start_hour=8))  # type: ignore[union-attr]
    v1 = lookups.latest_published(world.period.id)
    draft = current_draft(world.period.id)
    assert v1 is not None
    assert draft is not None
    for roster in (v1, draft):
        model = next(a for a in roster.assignments if a.site_id == world.testing.id)
        db.session.add(
            Assignment(
                roster_id=roster.id,
                site_id=world.testing.id,
                day=MON,
                shift="day",
                role_id=model.role_id,
                volunteer_id=extra.volunteer.id,  # type: ignore[union-attr]
                slot=3,
            )
        )
    db.session.commit()
    cancel_lead(world)
    run_repair(world.period)
    found = repair.proposal(world.period)
    assert found is not None
    gone = [c for c in found.changes if c.leaves == "fewer"]
    assert len(gone) == 1
    assert (gone[0].need, gone[0].told_count) == (1, 2)
    assert gone[0].told
    assert gone[0].taken_by == []
    assert [c.leaves for c in found.changes] == ["fewer", "cancelled"]


def test_a_removal_forced_by_a_rule_says_which_and_its_place_is_refilled(
    sync_app: Flask,
    staff: FlaskClient,
    make_site: Any,
    make_volunteer: Any,
    make_period: Any,
) -> None:
    """The able volunteer took Monday off after version 1 without cancelling: the repair takes
    them off (a rule forces it), says so, and the free volunteer takes their place."""
    world = chain_world(make_site, make_volunteer, make_period)
    db.session.add(DayOff(volunteer_id=world.able.volunteer.id, day=MON))  # type: ignore[union-attr]
    db.session.commit()
    cancel_lead(world)
    run_repair(world.period)
    found = repair.proposal(world.period)
    assert found is not None
    lines = {c.name: c for c in found.changes}
    able = lines["王能干"]
    assert (able.leaves, able.rule, able.taken_by) == (
        "rule",
        "Not available for this shift",
        ["赵有空"],
    )
    assert able.told
    assert (lines["赵有空"].fills, lines["赵有空"].fills_other) == ("vacated", "王能干")
    page = staff.get(f"/coordinator/periods/{world.period.id}/roster/repair")
    html = page.get_data(as_text=True)
    assert "It breaks a rule for them now: Not available for this shift." in html
    assert "to fill the place 王能干 was taken off." in html
