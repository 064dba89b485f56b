"""services.my_page reads /me's profile, inbox count, periods and availability summary in one
statement, on SQLite and on PostgreSQL, and says what the separate lookups said: the summary of
every period open for availability (earliest first; a period open only for self-sign-up is not
summed up but shows the sign-up link), the skills in their order with whether they count yet."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import (
    Availability,
    DayOff,
    PlanningPeriod,
    Skill,
    User,
    VolunteerSkill,
)
from scheduler.services import availability as avail
from scheduler.services import my_page
from tests.fixtures.statements import statements

MON = date(2026, 12, 7)


@pytest.fixture
def flask_app(any_db_app: Flask) -> Iterator[Flask]:
    with any_db_app.test_request_context():
        yield any_db_app


def test_the_page_says_what_the_lookups_say_in_one_statement(
    flask_app: Flask,
    make_volunteer: Callable[..., User],
    make_period: Callable[..., PlanningPeriod],
) -> None:
    later = make_period(start=date(2027, 1, 4), end=date(2027, 1, 10), name="二期")
    first = make_period(start=MON, end=date(2026, 12, 20), name="一期")
    signup_only = make_period(start=date(2027, 2, 1), end=date(2027, 2, 7), name="报名期")
    signup_only.is_open = False
    signup_only.self_signup_open = True
    make_period(start=date(2027, 3, 1), end=date(2027, 3, 7), name="关闭的", is_open=False)
    user = make_volunteer(name="林志愿", accepts_nights=True)
    v = user.volunteer
    assert v is not None
    skills = db.session.scalars(select(Skill).order_by(Skill.id.desc())).all()[:2]
    for skill in skills:  # declared in reverse order of their ids
        db.session.add(VolunteerSkill(volunteer_id=v.id, skill_id=skill.id))
    db.session.commit()
    avail.toggle_day(v, first, MON)
    avail.toggle_cell(v, date(2026, 12, 8), 0)
    avail.toggle_day_off(v, date(2026, 12, 9))
    avail.toggle_cell(v, date(2027, 1, 5), 8)
    # In the sign-up-only period and in the closed one (written as they were while open):
    # not summed up.
    db.session.add(Availability(volunteer_id=v.id, day=date(2027, 2, 2), start_hour=8))
    db.session.add(DayOff(volunteer_id=v.id, day=date(2027, 3, 2)))
    db.session.commit()
    expected = avail.summaries(v)

    with statements() as seen:
        page = my_page.load(v)
    assert len(seen) == 1
    assert [s.period.name for s in page.summaries] == ["一期", "二期"]
    assert [(s.period.id, s.period.start_date, s.period.end_date) for s in page.summaries] == [
        (p.id, p.start_date, p.end_date) for p in (first, later)
    ]
    assert [(s.shifts, s.nights, s.days, s.days_off) for s in page.summaries] == [
        (s.shifts, s.nights, s.days, s.days_off) for s in expected
    ]
    assert [(s.shifts, s.nights, s.days, s.days_off) for s in page.summaries] == [
        (4, 2, 2, 1),
        (1, 0, 1, 0),
    ]
    assert page.signup_open
    by_id = sorted(skills, key=lambda s: s.id)  # the order /me lists them in
    assert [s.name_zh for s in page.profile.skills] == [s.name_zh for s in by_id]
    assert [s.counts for s in page.profile.skills] == [not s.is_qualification for s in by_id]
    assert page.profile.unread == 0


def test_no_period_open_and_no_skill(
    flask_app: Flask,
    make_volunteer: Callable[..., User],
    make_period: Callable[..., PlanningPeriod],
) -> None:
    make_period(is_open=False)
    user = make_volunteer(name="新来的")
    assert user.volunteer is not None
    page = my_page.load(user.volunteer)
    assert page.summaries == []
    assert not page.signup_open
    assert page.profile.skills == []
    assert (page.profile.work_unit, page.profile.district) == (None, None)


def test_a_verified_qualification_counts(
    flask_app: Flask, make_volunteer: Callable[..., User]
) -> None:
    user = make_volunteer(name="医生")
    assert user.volunteer is not None
    qualification = db.session.scalars(select(Skill).where(Skill.is_qualification)).first()
    assert qualification is not None
    link = VolunteerSkill(volunteer_id=user.volunteer.id, skill_id=qualification.id)
    db.session.add(link)
    db.session.commit()
    assert [s.counts for s in my_page.load(user.volunteer).profile.skills] == [False]
    link.verified_at = datetime(2026, 12, 1, tzinfo=UTC)
    db.session.commit()
    assert [s.counts for s in my_page.load(user.volunteer).profile.skills] == [True]
