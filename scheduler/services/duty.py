"""Who is on duty: the assignments of the latest published version of every period, without
the shifts their volunteer has cancelled. Sheets, exports, calendars and check-in all read
the roster through here, so they agree on who is expected where."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import selectinload

from scheduler.extensions import db
from scheduler.models import Assignment, Roster, ShiftResponse, Volunteer
from scheduler.models.responses import CANCELLED_BY_VOLUNTEER
from scheduler.services.my_shifts import latest_published_rosters

__all__ = ["by_shift", "on_duty"]


def _not_cancelled() -> object:
    return ~exists().where(
        and_(
            ShiftResponse.volunteer_id == Assignment.volunteer_id,
            ShiftResponse.site_id == Assignment.site_id,
            ShiftResponse.day == Assignment.day,
            ShiftResponse.shift == Assignment.shift,
            ShiftResponse.status == CANCELLED_BY_VOLUNTEER,
        )
    )


def on_duty(
    first_day: date,
    last_day: date | None = None,
    site_ids: Iterable[int] | None = None,
    volunteer_id: int | None = None,
    roster: Roster | None = None,
) -> list[Assignment]:
    """Published assignments from `first_day` to `last_day` (inclusive; one day when omitted),
    for the given sites or volunteer, minus cancelled shifts; with site, role, roster and the
    volunteer's user, work unit and district loaded. `roster` reads one published version
    instead of the latest of every period. Ordered by day, site, shift time, role, name."""
    last_day = last_day or first_day
    rosters = [roster.id] if roster is not None else latest_published_rosters()
    query = (
        select(Assignment)
        .where(
            Assignment.roster_id.in_(rosters),
            Assignment.day.between(first_day, last_day),
            _not_cancelled(),
        )
        .options(
            selectinload(Assignment.site),
            selectinload(Assignment.role),
            selectinload(Assignment.roster).selectinload(Roster.period),
            selectinload(Assignment.volunteer).selectinload(Volunteer.user),
            selectinload(Assignment.volunteer).selectinload(Volunteer.work_unit),
            selectinload(Assignment.volunteer).selectinload(Volunteer.district),
        )
    )
    if site_ids is not None:
        query = query.where(Assignment.site_id.in_(list(site_ids)))
    if volunteer_id is not None:
        query = query.where(Assignment.volunteer_id == volunteer_id)
    rows = list(db.session.scalars(query))
    rows.sort(key=_order)
    return rows


def _order(a: Assignment) -> tuple[object, ...]:
    start, _ = a.site.shift_window(a.day, a.shift)
    return (
        a.day,
        a.site.name,
        start,
        not a.role.is_lead,
        a.role.sort_order,
        a.volunteer.user.name_pinyin,
    )


def by_shift(rows: Iterable[Assignment]) -> dict[tuple[int, date, str], list[Assignment]]:
    """Rows grouped by (site id, day, shift kind), keeping their order."""
    grouped: dict[tuple[int, date, str], list[Assignment]] = defaultdict(list)
    for a in rows:
        grouped[(a.site_id, a.day, a.shift)].append(a)
    return dict(grouped)
