"""A draft row held out of a solve (its volunteer no longer qualifies for it, at a site not
being solved: it stays in the draft as it is) still binds its volunteer: the solve does not
place them on anything that overlaps it or falls within the minimum rest either side of it
(planning._busy_around), as before, when such a run failed loudly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import Flask

from scheduler.extensions import db
from scheduler.models import (
    Assignment,
    Availability,
    PlanningPeriod,
    Role,
    Roster,
    Site,
    User,
)
from scheduler.models.base import utcnow
from scheduler.planning import build_problem, person_id, shift_id
from scheduler.services.lookups import current_draft

MON, TUE, WED = date(2026, 12, 7), date(2026, 12, 8), date(2026, 12, 9)


def test_a_held_out_row_keeps_its_volunteer_off_clashing_shifts(
    any_db_app: Flask,
    make_site: Callable[..., Site],
    make_volunteer: Callable[..., User],
) -> None:
    solved = make_site(name="东卡口", demand={"registrar": 1}, runs_night=False)
    other = make_site(name="西卡口", demand={"code_checker": 1}, runs_night=False)
    period = PlanningPeriod(
        name="一期", start_date=MON, end_date=WED, is_open=True, sites=[solved, other]
    )
    db.session.add(period)
    user = make_volunteer(name="志愿者甲", trained_at=utcnow())
    volunteer = user.volunteer
    assert volunteer is not None
    for day in (MON, TUE, WED):
        for hour in (8, 16):
            db.session.add(Availability(volunteer_id=volunteer.id, day=day, start_hour=hour))
    db.session.flush()
    draft = current_draft(period.id)
    if draft is None:
        draft = Roster(period_id=period.id, status="draft")
        db.session.add(draft)
        db.session.flush()
    checker = db.session.scalars(db.select(Role).where(Role.code == "code_checker")).one()
    # 西卡口's Tuesday day shift (08-16) is theirs; then their training lapses.
    db.session.add(
        Assignment(
            roster_id=draft.id,
            site_id=other.id,
            day=TUE,
            shift="day",
            role_id=checker.id,
            volunteer_id=volunteer.id,
            slot=1,
        )
    )
    volunteer.trained_at = None
    db.session.commit()

    problem, _mapping = build_problem(period, site_ids=[solved.id])
    person = next(p for p in problem.people if p.id == person_id(volunteer.id))
    # The same shift, and Monday's evening (ends 00:00, 8 h before) break overlap or rest.
    assert shift_id(solved.id, TUE, "day") not in person.available
    assert shift_id(solved.id, MON, "evening") not in person.available
    assert shift_id(solved.id, TUE, "evening") not in person.available
    # Far enough either side: still offered.
    assert shift_id(solved.id, MON, "day") in person.available
    assert shift_id(solved.id, WED, "evening") in person.available
