"""Who is on duty: the assignments of the latest published version of every period, without
the shifts their volunteer has cancelled. Sheets, exports, calendars and check-in all read
the roster through here, so they agree on who is expected where.

One published version can be read instead (`roster=`), as it stands now or, with
`include_cancelled=True`, exactly as it was published (a superseded version is a record)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Select, exists, select
from sqlalchemy.orm import selectinload

from scheduler.extensions import db
from scheduler.models import Assignment, Attendance, Role, Roster, ShiftResponse, Site, Volunteer
from scheduler.models.responses import CANCELLED_BY_VOLUNTEER
from scheduler.services.lookups import latest_published_rosters

__all__ = [
    "ShiftKey",
    "by_shift",
    "cancelled",
    "leads_at",
    "leads_of",
    "not_ended",
    "on_duty",
    "version_rows",
]

ShiftKey = tuple[int, date, str]  # (site id, local day, shift kind)


def cancelled(post: type[Assignment] | type[Attendance]) -> ColumnElement[bool]:
    """SQL: the volunteer cancelled this post — for rows of any table keyed like a post
    (volunteer, site, day, shift): assignments, attendance records."""
    return exists().where(
        ShiftResponse.volunteer_id == post.volunteer_id,
        ShiftResponse.site_id == post.site_id,
        ShiftResponse.day == post.day,
        ShiftResponse.shift == post.shift,
        ShiftResponse.status == CANCELLED_BY_VOLUNTEER,
    )


def on_duty(
    first_day: date,
    last_day: date | None = None,
    site_ids: Iterable[int] | None = None,
    volunteer_id: int | None = None,
    roster: Roster | None = None,
    *,
    include_cancelled: bool = False,
) -> list[Assignment]:
    """Published assignments from `first_day` to `last_day` (inclusive; one day when omitted),
    for the given sites or volunteer, minus cancelled shifts; with site (and its district),
    role, roster and period, and the volunteer's user, work unit and district loaded.
    `roster` reads one published version instead of the latest of every period;
    `include_cancelled` keeps the shifts their volunteer cancelled (a version as published).
    Ordered by day, site, shift time, role (lead first), name."""
    query = _published(first_day, last_day or first_day, site_ids, roster, include_cancelled)
    if volunteer_id is not None:
        query = query.where(Assignment.volunteer_id == volunteer_id)
    rows = list(db.session.scalars(query.options(*_LOADED)))
    rows.sort(key=_order)
    return rows


_LOADED = (
    selectinload(Assignment.site).selectinload(Site.district),
    selectinload(Assignment.role),
    selectinload(Assignment.roster).selectinload(Roster.period),
    selectinload(Assignment.volunteer).selectinload(Volunteer.user),
    selectinload(Assignment.volunteer).selectinload(Volunteer.work_unit),
    selectinload(Assignment.volunteer).selectinload(Volunteer.district),
    # The home union (grassroots or district) rosters and printouts show.
    selectinload(Assignment.volunteer).selectinload(Volunteer.organisation),
)


def _published(
    first_day: date,
    last_day: date,
    site_ids: Iterable[int] | None,
    roster: Roster | None,
    include_cancelled: bool,
) -> Select[Assignment]:
    rosters = [roster.id] if roster is not None else latest_published_rosters()
    query = select(Assignment).where(
        Assignment.roster_id.in_(rosters), Assignment.day.between(first_day, last_day)
    )
    if not include_cancelled:
        query = query.where(~cancelled(Assignment))
    if site_ids is not None:
        query = query.where(Assignment.site_id.in_(list(site_ids)))
    return query


def not_ended(volunteer_id: int, now: datetime, days: int) -> list[Assignment]:
    """The volunteer's published shifts that have not ended by `now`, up to `days` ahead
    (from yesterday on: a night shift of yesterday may still run), in on_duty's order."""
    first = (now - timedelta(days=1)).date()
    return [
        a
        for a in on_duty(first, first + timedelta(days=days), volunteer_id=volunteer_id)
        if a.site.shift_window(a.day, a.shift)[1] > now
    ]


def version_rows(roster: Roster, latest: Roster) -> list[Assignment]:
    """A published version's assignments the one way wall charts and exports show them: the
    `latest` version of its period as it stands now (without the shifts their volunteer has
    cancelled since: who is expected), an older one exactly as it was published,
    cancellations included (a record of what people were told)."""
    include_cancelled = roster.id != latest.id
    return on_duty(date.min, date.max, roster=roster, include_cancelled=include_cancelled)


def leads_of(keys: Iterable[ShiftKey]) -> dict[ShiftKey, list[Assignment]]:
    """The leads (Role.is_lead, not cancelled) of the given shifts in the published roster,
    by (site id, day, shift), in on_duty's order with the volunteer's user loaded. One query
    for the leads alone, whatever the size of the crews."""
    wanted = set(keys)
    if not wanted:
        return {}
    days = [day for _, day, _ in wanted]
    query = (
        _published(min(days), max(days), {site for site, _, _ in wanted}, None, False)
        .join(Role, Role.id == Assignment.role_id)
        .where(Role.is_lead.is_(True))
        .options(*_LOADED)
    )
    rows = sorted(db.session.scalars(query), key=_order)
    return {key: crew for key, crew in by_shift(rows).items() if key in wanted}


def _order(a: Assignment) -> tuple[object, ...]:
    start, _ = a.site.shift_window(a.day, a.shift)
    return (
        a.day,
        a.site.name,
        start,
        not a.role.is_lead,
        a.role.sort_order,
        a.volunteer.user.name_pinyin,
        a.volunteer_id,
    )


def by_shift(rows: Iterable[Assignment]) -> dict[ShiftKey, list[Assignment]]:
    """Rows grouped by (site id, day, shift kind), keeping their order."""
    grouped: dict[ShiftKey, list[Assignment]] = defaultdict(list)
    for a in rows:
        grouped[(a.site_id, a.day, a.shift)].append(a)
    return dict(grouped)


def leads_at(volunteer_id: int, site_id: int, day: date) -> bool:
    """Whether the volunteer leads a shift of the site on that day in the published roster
    (and has not cancelled it): what lets a site lead print its sheet and check people in."""
    return any(a.role.is_lead for a in on_duty(day, site_ids=[site_id], volunteer_id=volunteer_id))
