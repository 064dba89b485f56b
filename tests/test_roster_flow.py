"""The whole coordinator flow through the test clients, with real (tiny) solves run inline:
generate → progress → review → hand edit → pin → re-solve keeps the pin → publish → the
volunteer sees the shift on /me → cancels it → the hole shows → repair → version 2."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Assignment, Availability, PlanningPeriod, Roster, Site, User
from scheduler.models.base import utcnow
from scheduler.models.rosters import PUBLISHED, SUCCEEDED, SolveRun
from scheduler.services import lookups
from scheduler.services.lookups import current_draft
from tests.fixtures.auth import login
from tests.fixtures.rosters import publish_form

MON, TUE = date(2026, 12, 7), date(2026, 12, 8)
NAMES = ["安然", "博文", "陈静", "丁宁", "方圆"]

Row = tuple[int, date, str, int, int]


@pytest.fixture
def sync_app(app_factory: Callable[..., Flask]) -> Iterator[Flask]:
    app = app_factory(JOBS_SYNCHRONOUS=True, JOBS_SOLVER_WORKERS=1, REPAIR_TIME_LIMIT=5)
    with app.app_context():
        yield app


def rows(roster: Roster) -> set[Row]:
    return {(a.site_id, a.day, a.shift, a.role_id, a.volunteer_id) for a in roster.assignments}


def draft_rows(period: PlanningPeriod) -> set[Row]:
    db.session.expire_all()
    draft = current_draft(period.id)
    assert draft is not None
    return rows(draft)


def test_generate_edit_pin_resolve_publish_cancel_repair(
    sync_app: Flask,
    coordinator: User,
    make_site: Callable[..., Site],
    make_volunteer: Callable[..., User],
    make_period: Callable[..., PlanningPeriod],
) -> None:
    # A small world: one checkpoint with day shifts on two days, two code checkers and one
    # sampler a shift; five trained volunteers available both days, none of them medical, so
    # the sampler posts stay unfilled with a reason.
    site = make_site(
        name="南门卡口",
        demand={"code_checker": 2, "sampler": 1},
        runs_night=False,
        runs_evening=False,
    )
    period = make_period(start=MON, end=TUE, sites=[site])
    people = [make_volunteer(name=f"志愿者{n}", trained_at=utcnow()) for n in NAMES]
    for user in people:
        for day in (MON, TUE):
            db.session.add(Availability(volunteer_id=user.volunteer.id, day=day, start_hour=8))  # type: ignore[union-attr]
    db.session.commit()
    by_volunteer = {u.volunteer.id: u for u in people}  # type: ignore[union-attr]
    base = f"/coordinator/periods/{period.id}/roster"
    staff = sync_app.test_client()
    login(staff, coordinator)

    # Generate (htmx): the status fragment comes back finished, with the coverage.
    generated = staff.post(
        f"{base}/runs",
        data={"site_ids": [site.id], "time_limit": "5"},
        headers={"HX-Request": "true"},
    )
    assert generated.status_code == 200
    fragment = generated.get_data(as_text=True)
    assert 'id="solve-status"' in fragment
    assert "Roster generated." in fragment
    assert "4 of 6 posts filled" in fragment
    assert "2 posts unfilled." in fragment
    assert "hx-trigger" not in fragment  # finished: it stops polling
    run = db.session.scalars(select(SolveRun).order_by(SolveRun.id.desc())).first()
    assert run is not None
    assert run.status == SUCCEEDED, run.error
    progress = staff.get(f"{base}/runs/{run.id}", headers={"HX-Request": "true"})
    assert progress.status_code == 200
    assert "4 of 6 posts filled" in progress.get_data(as_text=True)

    # Review: the heat map and the honest reason for the unfilled sampler posts.
    page = staff.get(base)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="roster-heat"' in html
    assert "2/3" in html  # each shift: two of three posts filled
    assert "Unfilled posts (2)" in html
    assert "Nobody in the pool is qualified for this post." in html
    first = draft_rows(period)
    assert len(first) == 4
    code_checker = next(r[3] for r in first)

    # Hand edit: take one Monday volunteer off, then assign a candidate from the candidates page.
    draft = current_draft(period.id)
    assert draft is not None
    removed = min((a for a in draft.assignments if a.day == MON), key=lambda a: a.id)
    removed_volunteer = removed.volunteer_id
    response = staff.post(f"{base}/assignments/{removed.id}/unassign", data={})
    assert response.status_code == 302
    after_unassign = draft_rows(period)
    assert after_unassign == first - {(site.id, MON, "day", code_checker, removed_volunteer)}

    post_url = f"{base}/posts/{site.id}/{MON.isoformat()}/day/{code_checker}"
    candidates_page = staff.get(post_url)
    assert candidates_page.status_code == 200
    candidates_html = candidates_page.get_data(as_text=True)
    assert 'id="candidates"' in candidates_html
    offered = [int(v) for v in re.findall(r'name="volunteer_id" value="(\d+)"', candidates_html)]
    monday_team = {r[4] for r in after_unassign if r[1] == MON}
    chosen = next(v for v in offered if v != removed_volunteer and v not in monday_team)
    assert by_volunteer[chosen].name in candidates_html
    response = staff.post(f"{post_url}/assign", data={"volunteer_id": str(chosen)})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    after_assign = draft_rows(period)
    assert after_assign == after_unassign | {(site.id, MON, "day", code_checker, chosen)}

    # Pin the hand-made assignment, then re-solve: the pin survives.
    draft = current_draft(period.id)
    assert draft is not None
    hand = next(a for a in draft.assignments if a.volunteer_id == chosen and a.day == MON)
    response = staff.post(f"{base}/assignments/{hand.id}/pin", data={"pinned": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Assignment, hand.id).pinned  # type: ignore[union-attr]

    response = staff.post(f"{base}/runs", data={"site_ids": [site.id], "time_limit": "5"})
    assert response.status_code == 302
    db.session.expire_all()
    rerun = db.session.scalars(select(SolveRun).order_by(SolveRun.id.desc())).first()
    assert rerun is not None
    assert rerun.id != run.id
    assert rerun.status == SUCCEEDED, rerun.error
    draft = current_draft(period.id)
    assert draft is not None
    kept = [a for a in draft.assignments if (a.volunteer_id, a.day) == (chosen, MON)]
    assert len(kept) == 1
    assert kept[0].pinned
    assert (kept[0].site_id, kept[0].shift, kept[0].role_id) == (site.id, "day", code_checker)
    assert len(draft.assignments) == 4

    # Publish: version 1.
    response = staff.post(f"{base}/publish", data=publish_form(staff, base))
    assert response.status_code == 302
    assert response.location.endswith(f"{base}/versions/1")
    db.session.expire_all()
    v1 = lookups.latest_published(period.id)
    assert v1 is not None
    assert (v1.version, v1.status) == (1, PUBLISHED)
    v1_rows = rows(v1)
    mine = next(a for a in v1.assignments if (a.volunteer_id, a.day) == (chosen, MON))

    # The volunteer sees the shift on /me and cancels it well ahead of the cutoff.
    volunteer = sync_app.test_client()
    login(volunteer, by_volunteer[chosen])
    me = volunteer.get("/me")
    assert me.status_code == 200
    me_html = me.get_data(as_text=True)
    assert "南门卡口" in me_html
    assert "Code checker" in me_html
    response = volunteer.post(f"/me/shifts/{mine.id}/cancel", data={"reason": "孩子生病<b>"})
    assert response.status_code == 302
    db.session.expire_all()

    page = staff.get(base).get_data(as_text=True)
    assert "Cancelled by volunteers (1)" in page
    assert "孩子生病&lt;b&gt;" in page
    assert 'id="roster-repair-form"' in page

    # Repair: the confirm page lists the moves; publishing makes version 2.
    response = staff.post(f"{base}/repair", data={})
    assert response.status_code == 302
    assert response.location.endswith(f"{base}/repair")
    confirm = staff.get(response.location)
    assert confirm.status_code == 200
    confirm_html = confirm.get_data(as_text=True)
    assert "Proposed moves" in confirm_html
    assert "Compared with version 1." in confirm_html
    assert by_volunteer[chosen].name in confirm_html

    response = staff.post(f"{base}/publish", data=publish_form(staff, base))
    assert response.status_code == 302
    assert response.location.endswith(f"{base}/versions/2")
    db.session.expire_all()
    v2 = lookups.latest_published(period.id)
    assert v2 is not None
    assert (v2.version, v2.status) == (2, PUBLISHED)
    v2_rows = rows(v2)
    hole = (site.id, MON, "day", code_checker)
    fillers = {r[4] for r in v2_rows if r[:4] == hole}
    assert len(fillers) == 2
    assert chosen not in fillers
    (filler,) = fillers - {r[4] for r in v1_rows if r[:4] == hole}
    assert by_volunteer[filler].name in confirm_html
    assert v2_rows == (v1_rows - {(*hole, chosen)}) | {(*hole, filler)}
    assert rows(db.session.get(Roster, v1.id)) == v1_rows  # type: ignore[arg-type]
    assert "Cancelled by volunteers" not in staff.get(base).get_data(as_text=True)


def test_a_drop_out_marked_by_the_coordinator_is_repaired_into_version_2(
    sync_app: Flask,
    coordinator: User,
    make_site: Callable[..., Site],
    make_volunteer: Callable[..., User],
    make_period: Callable[..., PlanningPeriod],
) -> None:
    site = make_site(
        name="北门卡口", demand={"code_checker": 2}, runs_night=False, runs_evening=False
    )
    period = make_period(start=MON, end=TUE, sites=[site])
    people = [make_volunteer(name=f"志愿者{n}", trained_at=utcnow()) for n in NAMES]
    for user in people:
        for day in (MON, TUE):
            db.session.add(Availability(volunteer_id=user.volunteer.id, day=day, start_hour=8))  # type: ignore[union-attr]
    db.session.commit()
    base = f"/coordinator/periods/{period.id}/roster"
    staff = sync_app.test_client()
    login(staff, coordinator)
    assert (
        staff.post(f"{base}/runs", data={"site_ids": [site.id], "time_limit": "5"}).status_code
        == 302
    )
    assert staff.post(f"{base}/publish", data=publish_form(staff, base)).status_code == 302
    db.session.expire_all()
    v1 = lookups.latest_published(period.id)
    assert v1 is not None
    v1_rows = rows(v1)
    assert len(v1_rows) == 4
    gone = min(r[4] for r in v1_rows)
    gone_days = {r[1] for r in v1_rows if r[4] == gone}

    response = staff.post(
        f"/coordinator/volunteers/{gone}/unavailable",
        data={"first_day": MON.isoformat(), "last_day": TUE.isoformat(), "reason": "电话请假"},
    )
    assert response.status_code == 302
    page = staff.get(base).get_data(as_text=True)
    assert f"Cancelled by volunteers ({len(gone_days)})" in page

    assert staff.post(f"{base}/repair", data={}).status_code == 302
    response = staff.post(f"{base}/publish", data=publish_form(staff, base))
    assert response.location.endswith(f"{base}/versions/2")
    db.session.expire_all()
    v2 = lookups.latest_published(period.id)
    assert v2 is not None
    v2_rows = rows(v2)
    assert len(v2_rows) == 4  # every hole filled
    assert gone not in {r[4] for r in v2_rows}
    assert v1_rows - v2_rows == {r for r in v1_rows if r[4] == gone}
    assert rows(db.session.get(Roster, v1.id)) == v1_rows  # type: ignore[arg-type]
