"""What a volunteer commits while a solve or repair run is solving wins when the run saves:
a cancellation, a day off or an availability cell taken back leaves the post unfilled with a
reason the coordinator understands, a pin the volunteer cancelled stays off, and publishing
never withdraws a volunteer's cancellation unless a coordinator gave them the post back
knowingly. Publishing and hand edits are refused while a run is queued or running, and a
publish carries the draft revision the coordinator reviewed (refused when it changed).

The race is made deterministic by running the job inline and changing the data between
`build_problem` and `save_solution` (a hook around save_solution), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select

import solver
from scheduler import jobs
from scheduler.extensions import db
from scheduler.models import (
    Assignment,
    Availability,
    DayOff,
    Notification,
    PlanningPeriod,
    Roster,
    ShiftResponse,
    Site,
    SolveRun,
    UnfilledPost,
    User,
)
from scheduler.models.base import utcnow
from scheduler.services import editing, lookups, my_shifts, publishing, rosters
from scheduler.services.editing import EditError
from scheduler.services.lookups import current_draft
from scheduler.services.publishing import PublishError
from tests.fixtures.auth import login
from tests.fixtures.rosters import publish_form

MON, TUE = date(2026, 12, 7), date(2026, 12, 8)


@dataclass
class World:
    period: PlanningPeriod
    site: Site
    people: list[User]

    def user_of(self, volunteer_id: int) -> User:
        return next(u for u in self.people if u.volunteer.id == volunteer_id)  # type: ignore[union-attr]


def build(
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
    count: int = 4,
) -> World:
    """One checkpoint with two code checkers on each day shift over two days, and `count`
    trained volunteers available on both."""
    site = make_site(
        name="东卡口", demand={"code_checker": 2}, runs_night=False, runs_evening=False
    )
    period = make_period(start=MON, end=TUE, sites=[site])
    people = [make_volunteer(name=f"志愿者{n}", trained_at=utcnow()) for n in "安博陈丁鄂"[:count]]
    for user in people:
        for day in (MON, TUE):
            db.session.add(Availability(volunteer_id=user.volunteer.id, day=day, start_hour=8))  # type: ignore[union-attr]
    db.session.commit()
    return World(period, site, people)


@pytest.fixture
def world(
    any_db_app: Flask,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
) -> World:
    any_db_app.config.update(JOBS_SYNCHRONOUS=True, JOBS_SOLVER_WORKERS=1)
    return build(make_site, make_period, make_volunteer)


def solve(world: World, minimal_change: bool = False) -> SolveRun:
    run = rosters.start_run(world.period, [world.site.id], 5, None, minimal_change=minimal_change)
    jobs.execute_run(run.id)
    db.session.expire_all()
    run = db.session.get(SolveRun, run.id)
    assert run is not None
    assert run.status == "succeeded", run.error
    return run


def publish_v1(world: World) -> Roster:
    solve(world)
    version, _changes = publishing.publish(world.period, None)
    db.session.commit()
    return version


def between_build_and_save(
    monkeypatch: pytest.MonkeyPatch, change: Callable[[solver.Solution, Any], None]
) -> None:
    """Run `change(solution, mapping)` after the run built its problem and solved it, just
    before it saves: what a volunteer commits while the run is solving."""
    real = jobs.save_solution

    def hooked(run: SolveRun, solution: solver.Solution, problem: Any, mapping: Any) -> Any:
        change(solution, mapping)
        return real(run, solution, problem, mapping)

    monkeypatch.setattr(jobs, "save_solution", hooked)


def in_solution(solution: solver.Solution, mapping: Any, volunteer_id: int, day: date) -> bool:
    return any(
        mapping.volunteers[a.person] == volunteer_id and mapping.shifts[a.shift].day == day
        for a in solution.assignments
    )


def draft_holds(world: World, volunteer_id: int, day: date) -> bool:
    db.session.expire_all()
    draft = current_draft(world.period.id)
    assert draft is not None
    return (
        db.session.scalar(
            select(Assignment.id).where(
                Assignment.roster_id == draft.id,
                Assignment.volunteer_id == volunteer_id,
                Assignment.day == day,
            )
        )
        is not None
    )


def monday_reasons(world: World) -> list[dict[str, Any]]:
    draft = current_draft(world.period.id)
    assert draft is not None
    post = db.session.scalars(
        select(UnfilledPost).where(UnfilledPost.roster_id == draft.id, UnfilledPost.day == MON)
    ).one()
    assert post.missing == 1
    return post.reasons


# --- 1. the volunteer's change made during the run wins -------------------------------------


def test_a_cancellation_during_a_repair_run_is_not_undone_by_save_or_publish(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    v1 = publish_v1(world)
    mine = min((a for a in v1.assignments if a.day == MON), key=lambda a: a.volunteer_id)
    canceller = world.user_of(mine.volunteer_id)
    seen: list[bool] = []

    def cancel_now(solution: solver.Solution, mapping: Any) -> None:
        # The run's problem still had them on Monday (the minimal-change baseline keeps them).
        seen.append(in_solution(solution, mapping, mine.volunteer_id, MON))
        my_shifts.cancel(canceller.volunteer, mine.id, "孩子发烧")  # type: ignore[arg-type]

    between_build_and_save(monkeypatch, cancel_now)
    solve(world, minimal_change=True)
    assert seen == [True]
    # The draft keeps the hole, with the reason in the coordinator's words.
    assert not draft_holds(world, mine.volunteer_id, MON)
    assert {"code": "cancelled_during_run", "people": [mine.volunteer_id]} in monday_reasons(world)
    # Publishing keeps the cancellation and does not tell them the shift is theirs.
    notes_before = db.session.scalar(
        select(func.count(Notification.id)).where(Notification.user_id == canceller.id)
    )
    v2, _changes = publishing.publish(world.period, None)
    db.session.commit()
    db.session.expire_all()
    answer = db.session.scalars(
        select(ShiftResponse).where(ShiftResponse.volunteer_id == mine.volunteer_id)
    ).one()
    assert (answer.status, answer.reason) == ("cancelled", "孩子发烧")
    new_kinds = db.session.scalars(
        select(Notification.kind)
        .where(Notification.user_id == canceller.id)
        .order_by(Notification.id)
        .offset(notes_before)
    ).all()
    assert "shift_new" not in new_kinds
    assert not any(a.volunteer_id == mine.volunteer_id and a.day == MON for a in v2.assignments)


@pytest.mark.parametrize("change", ["day_off", "availability"])
def test_a_day_off_or_availability_taken_back_during_a_run_wins(
    world: World, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    chosen: list[int] = []

    def change_now(solution: solver.Solution, mapping: Any) -> None:
        vid = min(
            mapping.volunteers[a.person]
            for a in solution.assignments
            if mapping.shifts[a.shift].day == MON
        )
        chosen.append(vid)
        if change == "day_off":
            db.session.add(DayOff(volunteer_id=vid, day=MON))
        else:
            db.session.execute(
                delete(Availability).where(
                    Availability.volunteer_id == vid, Availability.day == MON
                )
            )
        db.session.commit()

    between_build_and_save(monkeypatch, change_now)
    run = solve(world)
    [vid] = chosen
    assert not draft_holds(world, vid, MON)
    code = "day_off_during_run" if change == "day_off" else "unavailable_during_run"
    assert {"code": code, "people": [vid]} in monday_reasons(world)
    # The run's figures count the hole.
    assert (run.posts_total, run.posts_filled) == (4, 3)


def test_a_pinned_post_cancelled_during_the_run_stays_off(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    v1 = publish_v1(world)
    mine = min((a for a in v1.assignments if a.day == MON), key=lambda a: a.volunteer_id)
    draft = current_draft(world.period.id)
    assert draft is not None
    pinned = db.session.scalars(
        select(Assignment).where(
            Assignment.roster_id == draft.id,
            Assignment.volunteer_id == mine.volunteer_id,
            Assignment.day == MON,
        )
    ).one()
    editing.set_pinned(pinned, True)
    db.session.commit()
    canceller = world.user_of(mine.volunteer_id)

    def cancel_now(solution: solver.Solution, mapping: Any) -> None:
        my_shifts.cancel(canceller.volunteer, mine.id, "临时加班")  # type: ignore[arg-type]

    between_build_and_save(monkeypatch, cancel_now)
    run = solve(world, minimal_change=True)
    assert not draft_holds(world, mine.volunteer_id, MON)
    # The reopened post is a hole with its reason, counted in the run's figures.
    assert {"code": "cancelled_during_run", "people": [mine.volunteer_id]} in monday_reasons(world)
    assert (run.posts_total, run.posts_filled) == (4, 3)


# --- publishing never withdraws a cancellation unless a coordinator did so knowingly ------


def test_publish_refuses_a_draft_that_still_holds_a_cancelled_post(world: World) -> None:
    v1 = publish_v1(world)
    mine = min((a for a in v1.assignments if a.day == MON), key=lambda a: a.volunteer_id)
    my_shifts.cancel(world.user_of(mine.volunteer_id).volunteer, mine.id, "家里有事")  # type: ignore[arg-type]
    draft = current_draft(world.period.id)
    assert draft is not None
    # A row put back without the hand-edit warning (as an older run did).
    db.session.add(
        Assignment(
            roster_id=draft.id,
            site_id=mine.site_id,
            day=mine.day,
            shift=mine.shift,
            role_id=mine.role_id,
            volunteer_id=mine.volunteer_id,
        )
    )
    db.session.commit()
    with pytest.raises(PublishError, match="cancelled their shift"):
        publishing.publish(world.period, None)
    db.session.rollback()
    assert lookups.latest_published(world.period.id).version == 1  # type: ignore[union-attr]
    assert db.session.scalars(select(ShiftResponse)).one().status == "cancelled"


def test_giving_a_canceller_their_post_back_needs_the_warning_confirmed(world: World) -> None:
    v1 = publish_v1(world)
    mine = min((a for a in v1.assignments if a.day == MON), key=lambda a: a.volunteer_id)
    my_shifts.cancel(world.user_of(mine.volunteer_id).volunteer, mine.id, "家里有事")  # type: ignore[arg-type]
    role = mine.role
    outcome = editing.assign(world.period, world.site, MON, "day", role, mine.volunteer_id)
    assert not outcome.applied
    [warning] = [w for w in outcome.warnings if w.rule == editing.CANCELLED_RULE]
    assert warning.volunteer_id == mine.volunteer_id
    assert warning.detail == "家里有事"
    assert "withdraws their cancellation" in warning.label
    db.session.rollback()
    outcome = editing.assign(
        world.period, world.site, MON, "day", role, mine.volunteer_id, confirm=True, note="电话确认"
    )
    assert outcome.applied
    db.session.commit()
    publishing.publish(world.period, None)
    db.session.commit()
    assert db.session.scalars(select(ShiftResponse)).all() == []


# --- 3. no publish or hand edit while a run is queued or running; the reviewed revision ----


@pytest.mark.parametrize("status", ["queued", "running"])
def test_publish_and_hand_edits_are_refused_while_a_run_is_active(
    world: World, status: str
) -> None:
    v1 = publish_v1(world)
    draft = current_draft(world.period.id)
    assert draft is not None
    revision = draft.revision
    db.session.add(
        SolveRun(period_id=world.period.id, time_limit=30, status=status, started_at=utcnow())
    )
    db.session.commit()
    with pytest.raises(PublishError, match="being generated"):
        publishing.publish(world.period, None, revision=revision)
    db.session.rollback()
    row = db.session.scalars(select(Assignment).where(Assignment.roster_id == draft.id)).first()
    assert row is not None
    other = db.session.scalars(
        select(Assignment).where(
            Assignment.roster_id == draft.id, Assignment.volunteer_id != row.volunteer_id
        )
    ).first()
    free = next(
        u.volunteer.id  # type: ignore[union-attr]
        for u in world.people
        if not draft_holds(world, u.volunteer.id, MON)  # type: ignore[union-attr]
    )
    edits: list[Callable[[], object]] = [
        lambda: editing.unassign(row),
        lambda: editing.set_pinned(row, True),
        lambda: editing.swap(world.period, row, other),  # type: ignore[arg-type]
        lambda: editing.assign(world.period, world.site, MON, "day", row.role, free),
    ]
    for edit in edits:
        with pytest.raises(EditError, match="being generated"):
            edit()
        db.session.rollback()
    db.session.expire_all()
    assert current_draft(world.period.id).revision == revision  # type: ignore[union-attr]
    assert lookups.latest_published(world.period.id).id == v1.id  # type: ignore[union-attr]


def test_every_draft_change_bumps_the_revision(world: World) -> None:
    v1 = publish_v1(world)
    seen = [current_draft(world.period.id).revision]  # type: ignore[union-attr]

    def bumped() -> None:
        db.session.commit()
        db.session.expire_all()
        now = current_draft(world.period.id).revision  # type: ignore[union-attr]
        assert now > seen[-1]
        seen.append(now)

    draft = current_draft(world.period.id)
    assert draft is not None
    row = db.session.scalars(select(Assignment).where(Assignment.roster_id == draft.id)).first()
    assert row is not None
    editing.set_pinned(row, True)
    bumped()
    mine = next(a for a in v1.assignments if a.day == TUE)
    my_shifts.cancel(world.user_of(mine.volunteer_id).volunteer, mine.id, "出差")  # type: ignore[arg-type]
    bumped()
    solve(world, minimal_change=True)
    bumped()
    row = db.session.scalars(select(Assignment).where(Assignment.roster_id == draft.id)).first()
    editing.unassign(row)  # type: ignore[arg-type]
    bumped()


def test_publishing_a_draft_changed_since_review_is_refused(world: World) -> None:
    v1 = publish_v1(world)
    reviewed = publishing.draft_revision(world.period)
    assert reviewed is not None
    mine = next(a for a in v1.assignments if a.day == TUE)
    my_shifts.cancel(world.user_of(mine.volunteer_id).volunteer, mine.id, "出差")  # type: ignore[arg-type]
    notes = db.session.scalar(select(func.count(Notification.id)))
    with pytest.raises(PublishError, match="The draft changed — review it again"):
        publishing.publish(world.period, None, revision=reviewed)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Notification.id))) == notes
    assert lookups.latest_published(world.period.id).version == 1  # type: ignore[union-attr]
    version, _changes = publishing.publish(
        world.period, None, revision=publishing.draft_revision(world.period)
    )
    assert version.version == 2


def test_the_publish_page_carries_the_revision_and_refuses_a_changed_draft(
    world: World, any_db_app: Flask, coordinator: User
) -> None:
    v1 = publish_v1(world)
    staff: FlaskClient = any_db_app.test_client()
    login(staff, coordinator)
    base = f"/coordinator/periods/{world.period.id}/roster"
    # Something to publish: a hand edit takes Monday's first post off the draft.
    draft = current_draft(world.period.id)
    assert draft is not None
    editing.unassign(min((a for a in draft.assignments if a.day == MON), key=lambda a: a.id))
    db.session.commit()
    reviewed = publish_form(staff, base)
    assert reviewed == {"revision": str(publishing.draft_revision(world.period))}
    mine = next(a for a in v1.assignments if a.day == TUE)
    my_shifts.cancel(world.user_of(mine.volunteer_id).volunteer, mine.id, "出差")  # type: ignore[arg-type]
    refused = staff.post(
        f"{base}/publish",
        data=reviewed,
        headers={"Accept-Language": "zh-CN"},
        follow_redirects=True,
    )
    assert "草稿已更改，请重新审阅" in refused.get_data(as_text=True)
    # A form without a revision is not a review either.
    missing = staff.post(f"{base}/publish", data={}, follow_redirects=True)
    assert "The draft changed — review it again." in missing.get_data(as_text=True)
    db.session.expire_all()
    assert lookups.latest_published(world.period.id).version == 1  # type: ignore[union-attr]
    # Reviewed again: published.
    assert staff.post(f"{base}/publish", data=publish_form(staff, base)).status_code == 302
    db.session.expire_all()
    assert lookups.latest_published(world.period.id).version == 2  # type: ignore[union-attr]


def test_the_pages_refuse_edits_and_publishing_while_a_run_is_active(
    world: World, any_db_app: Flask, coordinator: User
) -> None:
    publish_v1(world)
    staff: FlaskClient = any_db_app.test_client()
    login(staff, coordinator)
    base = f"/coordinator/periods/{world.period.id}/roster"
    # The revision a publish page showed before the run started.
    form = {"revision": str(publishing.draft_revision(world.period))}
    draft = current_draft(world.period.id)
    assert draft is not None
    row = db.session.scalars(select(Assignment).where(Assignment.roster_id == draft.id)).first()
    assert row is not None
    row_id, revision = row.id, draft.revision
    db.session.add(SolveRun(period_id=world.period.id, time_limit=30, status="queued"))
    db.session.commit()
    unassigned = staff.post(
        f"{base}/assignments/{row_id}/unassign",
        headers={"Accept-Language": "zh-CN"},
        follow_redirects=True,
    )
    assert "本期正在生成排班：请在完成后再编辑草稿。" in unassigned.get_data(as_text=True)
    published = staff.post(f"{base}/publish", data=form, follow_redirects=True)
    assert "A roster is being generated for this period" in published.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Assignment, row_id) is not None
    assert current_draft(world.period.id).revision == revision  # type: ignore[union-attr]
    assert lookups.latest_published(world.period.id).version == 1  # type: ignore[union-attr]
