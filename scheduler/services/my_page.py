"""What /me shows of a volunteer beyond their shifts (services.my_shifts), in one statement: the
profile (work unit, district, skills), the inbox badge's count, the periods open to volunteers
and the availability summary of those open for availability.

Every volunteer opens /me, again and again on a call-up night; on PostgreSQL each statement is
a round trip and some hundred Python calls of SQLAlchemy and psycopg, more than its rows cost.
So the lists come as JSON subqueries of one row (models.json_rows), and the rules stay where
they live: which periods a volunteer sees (lookups.VOLUNTEER_PERIOD), what a skill counts for
(models.accounts.skill_counts), how offered spans are summed up (availability.summarise)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from typing import Any

from sqlalchemy import BindParameter, Integer, and_, bindparam, select

from scheduler.extensions import db
from scheduler.models import (
    Availability,
    DayOff,
    District,
    PlanningPeriod,
    Skill,
    Volunteer,
    VolunteerSkill,
    WorkUnit,
)
from scheduler.models.accounts import skill_counts
from scheduler.models.json_rows import json_rows
from scheduler.services import inbox
from scheduler.services.availability import DAY_OFF_ROW, PeriodSummary, summarise
from scheduler.services.lookups import VOLUNTEER_PERIOD, ShownPeriod
from scheduler.services.profile import ShownProfile, ShownSkill


@dataclass(frozen=True)
class MyPage:
    """/me's profile, availability summaries (one per period open for availability, earliest
    first) and whether any period is open for self-sign-up."""

    profile: ShownProfile
    summaries: list[PeriodSummary]
    signup_open: bool


_volunteer: BindParameter[int] = bindparam("volunteer", type_=Integer)
_SKILLS = (
    select(
        json_rows(
            VolunteerSkill.skill_id,
            Skill.name_zh,
            Skill.name_en,
            Skill.is_qualification,
            VolunteerSkill.verified_at,
        )
    )
    .join(Skill, Skill.id == VolunteerSkill.skill_id)
    .where(VolunteerSkill.volunteer_id == _volunteer)
    .scalar_subquery()
)
_PERIODS = (
    select(
        json_rows(
            PlanningPeriod.id,
            PlanningPeriod.name,
            PlanningPeriod.start_date,
            PlanningPeriod.end_date,
            PlanningPeriod.is_open,
            PlanningPeriod.self_signup_open,
        )
    )
    .where(VOLUNTEER_PERIOD)
    .scalar_subquery()
)


def _in_open_period(day: Any) -> Any:
    return and_(
        PlanningPeriod.is_open.is_(True),
        day >= PlanningPeriod.start_date,
        day <= PlanningPeriod.end_date,
    )


# The spans the volunteer offered and their days off, each with the open period it falls in.
_OFFERED = (
    select(json_rows(PlanningPeriod.id, Availability.day, Availability.start_hour))
    .select_from(Availability)
    .join(PlanningPeriod, _in_open_period(Availability.day))
    .where(Availability.volunteer_id == _volunteer)
    .scalar_subquery()
)
_DAYS_OFF = (
    select(json_rows(PlanningPeriod.id, DayOff.day))
    .select_from(DayOff)
    .join(PlanningPeriod, _in_open_period(DayOff.day))
    .where(DayOff.volunteer_id == _volunteer)
    .scalar_subquery()
)
# Built once (building a statement costs more CPU than running it).
_PAGE = (
    select(
        WorkUnit.name,
        District.name,
        inbox.unread_of(Volunteer.user_id),
        _SKILLS,
        _PERIODS,
        _OFFERED,
        _DAYS_OFF,
    )
    .select_from(Volunteer)
    .outerjoin(WorkUnit, WorkUnit.id == Volunteer.work_unit_id)
    .outerjoin(District, District.id == Volunteer.district_id)
    .where(Volunteer.id == _volunteer)
)


def load(volunteer: Volunteer) -> MyPage:
    """/me's profile, availability summaries and sign-up link of `volunteer`, in one
    statement."""
    # A Core statement on the session's connection: the ORM adds nothing to rows but CPU.
    row = db.session.connection().execute(_PAGE, {"volunteer": volunteer.id}).one()
    unit, district, unread, skills, periods, offered, days_off = row
    shown = [
        ShownPeriod(
            period_id,
            name,
            date.fromisoformat(start),
            date.fromisoformat(end),
            bool(is_open),
            bool(signup),
        )
        for period_id, name, start, end, is_open, signup in periods
    ]
    shown.sort(key=lambda p: (p.start_date, p.id))
    profile = ShownProfile(
        unit,
        district,
        [
            ShownSkill(zh, en, skill_counts(qualification, verified_at))
            for _id, zh, en, qualification, verified_at in sorted(skills, key=itemgetter(0))
        ],
        unread or 0,
    )
    offered += [(period_id, day, DAY_OFF_ROW) for period_id, day in days_off]
    return MyPage(
        profile,
        summarise([p for p in shown if p.is_open], offered),
        any(p.self_signup_open for p in shown),
    )
