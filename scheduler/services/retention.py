"""Data retention, as the privacy notice promises: when the emergency is over a coordinator
closes its planning period (services.periods.close_period); RETENTION_DAYS after that, every
volunteer who has no later period is anonymised the way a deleted account is
(services.profile.anonymise): name, mobile number, emergency contact, partner's number,
skills, availability and the reasons they typed go. The volunteer row stays with its work unit
and district, and so do published rosters, attendance and service hours, so counts, hours per
union and the rosters' shape are kept for the record.

Who is due, at `now` with cutoff = now - RETENTION_DAYS:
- at least one period closed at or before the cutoff ("retired" periods);
- the account is a volunteer's (volunteer or site lead), not anonymised already, and was
  created before the last retired period closed (someone who signed up afterwards gave their
  data for a later call-up);
- they are in no other period: no post in any roster, no availability on its dates and no
  attendance on its dates of a period that is still running or closed after the cutoff.

`run(dry_run=True)` only lists them; the real run anonymises them, writes one audit row each
and commits once. Running it again finds nobody new (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import ColumnElement, and_, exists, or_, select

from scheduler.extensions import db
from scheduler.models import (
    SITE_LEAD,
    VOLUNTEER,
    Assignment,
    Attendance,
    Availability,
    PlanningPeriod,
    Roster,
    User,
    Volunteer,
)
from scheduler.models.base import utcnow
from scheduler.services import audit
from scheduler.services.phones import mask
from scheduler.services.profile import ANONYMISED_PHONE_PREFIX, anonymise

DEFAULT_RETENTION_DAYS = 180


@dataclass(frozen=True)
class Due:
    """A volunteer the retention run anonymises (as the dry run lists them)."""

    volunteer_id: int
    user_id: int
    name: str
    phone: str  # masked
    work_unit: str
    district: str


@dataclass(frozen=True)
class Outcome:
    cutoff: datetime
    retired_periods: list[PlanningPeriod]
    due: list[Due]
    dry_run: bool


def retention_days() -> int:
    return int(current_app.config.get("RETENTION_DAYS") or DEFAULT_RETENTION_DAYS)


def _in_period(period_ids: list[int]) -> ColumnElement[bool]:
    """SQL: the volunteer (Volunteer.id) took part in one of `period_ids`."""
    periods = select(PlanningPeriod.id, PlanningPeriod.start_date, PlanningPeriod.end_date).where(
        PlanningPeriod.id.in_(period_ids)
    )
    p = periods.subquery()
    return or_(
        exists(
            select(Assignment.id)
            .join(Roster, Roster.id == Assignment.roster_id)
            .where(Assignment.volunteer_id == Volunteer.id, Roster.period_id.in_(period_ids))
        ),
        exists(
            select(Availability.volunteer_id)
            .join(p, Availability.day.between(p.c.start_date, p.c.end_date))
            .where(Availability.volunteer_id == Volunteer.id)
        ),
        exists(
            select(Attendance.id)
            .join(p, Attendance.day.between(p.c.start_date, p.c.end_date))
            .where(Attendance.volunteer_id == Volunteer.id)
        ),
    )


def find_due(now: datetime | None = None, days: int | None = None) -> Outcome:
    """Who a run at `now` would anonymise (see the module docstring); writes nothing."""
    now = now or utcnow()
    cutoff = now - timedelta(days=retention_days() if days is None else days)
    retired = list(
        db.session.scalars(
            select(PlanningPeriod)
            .where(PlanningPeriod.closed_at.is_not(None), PlanningPeriod.closed_at <= cutoff)
            .order_by(PlanningPeriod.closed_at, PlanningPeriod.id)
        )
    )
    if not retired:
        return Outcome(cutoff, [], [], dry_run=True)
    last_closed = max(p.closed_at for p in retired if p.closed_at is not None)
    later = list(
        db.session.scalars(
            select(PlanningPeriod.id).where(
                or_(PlanningPeriod.closed_at.is_(None), PlanningPeriod.closed_at > cutoff)
            )
        )
    )
    conditions = [
        User.role.in_((VOLUNTEER, SITE_LEAD)),
        ~User.phone.startswith(ANONYMISED_PHONE_PREFIX),
        User.created_at <= last_closed,
    ]
    if later:
        conditions.append(~_in_period(later))
    rows = db.session.execute(
        select(Volunteer, User)
        .join(User, User.id == Volunteer.user_id)
        .where(and_(*conditions))
        .order_by(User.name_pinyin, User.id)
    ).all()
    due = [
        Due(
            volunteer_id=v.id,
            user_id=u.id,
            name=u.name,
            phone=mask(u.phone),
            work_unit=v.work_unit.name if v.work_unit is not None else "",
            district=v.district.name if v.district is not None else "",
        )
        for v, u in rows
    ]
    return Outcome(cutoff, retired, due, dry_run=True)


def run(now: datetime | None = None, days: int | None = None, *, dry_run: bool) -> Outcome:
    """List (dry_run) or anonymise the volunteers due; the real run writes one audit row per
    volunteer and commits once."""
    now = now or utcnow()
    found = find_due(now, days)
    if dry_run or not found.due:
        return found
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        reason = gettext("Removed after the retention period")
        renamed: dict[str, str] = {}
        for item in found.due:
            user = db.session.get(User, item.user_id)
            assert user is not None
            assert user.volunteer is not None
            name = gettext("Anonymised volunteer #%(number)d", number=user.id)
            renamed[user.name] = name
            anonymise(user, name, reason, now, in_log=False)
            audit.record(
                audit.RETENTION_ANONYMISE,
                object_type="volunteer",
                object_id=item.volunteer_id,
                summary=name,
                details={
                    "retention_days": retention_days() if days is None else days,
                    "periods": [p.id for p in found.retired_periods],
                },
                volunteer_id=item.volunteer_id,
                district_id=user.volunteer.district_id,
            )
        audit.forget_names(renamed)
    db.session.commit()
    return Outcome(found.cutoff, found.retired_periods, found.due, dry_run=False)
