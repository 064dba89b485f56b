"""Service hours (志愿服务时长) and no-shows, computed from what site leads recorded at check-in
(scheduler.models.Attendance).

How a record counts:

- present or late: one shift served; its time is `time_out − time_in`. A record without a
  time out counts up to the shift's end once the shift has ended (the lead checked the person
  in but not out); while the shift is still running it counts nothing yet ("not yet").
  Times are UTC instants, so a night shift across midnight (23:00–07:00) is simply 8 hours,
  and one across a daylight-saving change is its real length.
- absent: no time. It is a no-show only under the one rule of `is_no_show` (rostered, still
  on duty in the latest published roster, not cancelled by the volunteer); every count of
  no-shows — the hours table, a volunteer's own hours, the solver's no-show weight
  (scheduler.jobs passes `no_show_counts` to scheduler.planning) — goes through it.

Minutes are whole minutes (seconds dropped); hours are shown and exported as minutes / 60
rounded to two decimals. The hours table sums in SQL (`MinutesBetween`); only records
without a time out are loaded, to place them against their shift's window."""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext
from openpyxl import Workbook
from sqlalchemy import Integer, Select, and_, case, exists, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from scheduler.extensions import db
from scheduler.i18n import lazy_gettext as _l
from scheduler.models import Assignment, Attendance, Volunteer
from scheduler.models.attendance import ABSENT, LATE, PRESENT
from scheduler.models.base import utcnow
from scheduler.services import audit, scope
from scheduler.services.duty import cancelled
from scheduler.services.lookups import latest_published_rosters
from scheduler.services.phones import national
from scheduler.services.spreadsheets import csv_bytes, sheet_titles, write_table

SERVED = (PRESENT, LATE)
UNMARKED = "unmarked"  # someone on a shift the lead has not marked yet
# What check-in, the hours pages and the certificate call each status.
STATUS_LABELS = {
    PRESENT: _l("Present"),
    LATE: _l("Late"),
    ABSENT: _l("Absent"),
    UNMARKED: _l("Not marked"),
}
HOURS_PAGE_SIZE = 50


# The no-show rule ------------------------------------------------------------------------------


def is_no_show() -> ColumnElement[bool]:
    """The one rule of a no-show, as a condition on Attendance rows: marked absent, not a
    walk-in, and the post (volunteer, site, day, shift) is still on duty — in the latest
    published roster of its period and not cancelled by the volunteer (the same as
    scheduler.services.duty.on_duty). Someone marked absent and then taken off the roster by a
    republish, or who cancelled the shift, is not a no-show."""
    rostered = exists().where(
        Assignment.roster_id.in_(latest_published_rosters()),
        Assignment.volunteer_id == Attendance.volunteer_id,
        Assignment.site_id == Attendance.site_id,
        Assignment.day == Attendance.day,
        Assignment.shift == Attendance.shift,
    )
    return and_(
        Attendance.status == ABSENT,
        Attendance.walk_in.is_(False),
        rostered,
        ~cancelled(Attendance),
    )


def no_show_counts(
    before: date | None = None, volunteer_ids: Iterable[int] | None = None
) -> dict[int, int]:
    """No-shows (see is_no_show) per volunteer id, on days before `before` when given.
    Volunteers without any are left out."""
    query = (
        select(Attendance.volunteer_id, func.count())
        .where(is_no_show())
        .group_by(Attendance.volunteer_id)
    )
    if before is not None:
        query = query.where(Attendance.day < before)
    if volunteer_ids is not None:
        query = query.where(Attendance.volunteer_id.in_(list(volunteer_ids)))
    return {vid: int(count) for vid, count in db.session.execute(query).all()}


# Minutes ----------------------------------------------------------------------------------------


def served_minutes(record: Attendance, now: datetime | None = None) -> int | None:
    """Minutes the record counts for: 0 for an absence, None while the shift is still running
    and nobody has entered a time out ("not yet"). `record.site` must be loaded."""
    if record.status not in SERVED or record.time_in is None:
        return 0
    end = record.time_out
    if end is None:
        _start, shift_end = record.site.shift_window(record.day, record.shift)
        if shift_end > (now or utcnow()):
            return None
        end = shift_end
    return max(0, int((end - record.time_in).total_seconds() // 60))


class MinutesBetween(FunctionElement[int]):
    """SQL: whole minutes from the first timestamp to the second (rounded down), as
    served_minutes counts them, for timestamps to the millisecond (the app records times to
    the minute)."""

    type = Integer()
    name = "minutes_between"
    inherit_cache = True


@compiles(MinutesBetween)
def _minutes_between(element: MinutesBetween, compiler: Any, **kw: Any) -> str:
    """PostgreSQL (timestamps without zone, both UTC)."""
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM ({end} - {start})) / 60) AS INTEGER)"


@compiles(MinutesBetween, "sqlite")
def _minutes_between_sqlite(element: MinutesBetween, compiler: Any, **kw: Any) -> str:
    """SQLite keeps timestamps as text: julianday difference rounded to the millisecond."""
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(CAST(ROUND((julianday({end}) - julianday({start})) * 86400000.0) AS INTEGER) / 60000)"


def local_clock(moment: datetime | None, zone: str, day: date) -> str:
    """A UTC instant as local HH:MM in `zone`, with ' (+1)' when it falls on the date after
    `day` (the shift's date, as a span's end reads: 23:00–07:00 (+1)); on the date before, in
    words ("前一天 22:00", "22:00 the day before"): a "(-1)" reads as nothing to a lead."""
    if moment is None:
        return ""
    here = moment.astimezone(ZoneInfo(zone))
    clock = f"{here:%H:%M}"
    offset = (here.date() - day).days
    if offset == -1:
        return gettext("%(time)s the day before", time=clock)
    return clock + (f" ({offset:+d})" if offset else "")


def format_hours(minutes: int) -> str:
    """510 -> '8.5', 480 -> '8', 470 -> '7.83' (hours, at most two decimals)."""
    return f"{hours_of(minutes):.2f}".rstrip("0").rstrip(".")


def hours_of(minutes: int) -> float:
    """Minutes as hours, rounded to two decimals (what exports hold)."""
    return round(minutes / 60, 2)


# Coordinators: totals per volunteer ------------------------------------------------------------


@dataclass
class HoursRow:
    """One volunteer's totals over the chosen dates."""

    volunteer_id: int
    name: str = ""
    name_pinyin: str = ""
    phone: str = ""
    work_unit: str = ""
    minutes: int = 0
    shifts: int = 0  # shifts served (present or late), finished or not
    late: int = 0
    no_shows: int = 0

    @property
    def hours(self) -> str:
        return format_hours(self.minutes)


@dataclass
class HoursTable:
    """Every volunteer who served or did not show in the range, most hours first, and the
    sums."""

    rows: list[HoursRow]
    first: date | None
    last: date | None
    minutes: int = 0
    shifts: int = 0
    late: int = 0
    no_shows: int = 0

    @property
    def hours(self) -> str:
        return format_hours(self.minutes)


@dataclass
class HoursPage:
    rows: list[HoursRow]
    page: int
    pages: int
    per_page: int
    total: int


@dataclass(frozen=True)
class _Scope:
    """Which records a table counts."""

    first: date | None = None
    last: date | None = None
    site_ids: tuple[int, ...] | None = None
    work_unit_id: int | None = None
    volunteer_ids: tuple[int, ...] | None = None

    def apply(self, query: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
        if self.first is not None:
            query = query.where(Attendance.day >= self.first)
        if self.last is not None:
            query = query.where(Attendance.day <= self.last)
        if self.site_ids is not None:
            query = query.where(Attendance.site_id.in_(self.site_ids))
        if self.work_unit_id is not None:
            query = query.where(
                Attendance.volunteer_id.in_(
                    select(Volunteer.id).where(Volunteer.work_unit_id == self.work_unit_id)
                )
            )
        if self.volunteer_ids is not None:
            query = query.where(Attendance.volunteer_id.in_(self.volunteer_ids))
        return query


def _totals(scope: _Scope, now: datetime) -> dict[int, HoursRow]:
    """Per volunteer: counts and the minutes of records with a time out summed in SQL; then
    the records served without a time out, counted against their shift's window."""
    served = Attendance.status.in_(SERVED)
    closed = and_(served, Attendance.time_out.is_not(None))
    query = scope.apply(
        select(
            Attendance.volunteer_id,
            func.sum(case((served, 1), else_=0)),
            func.sum(case((Attendance.status == LATE, 1), else_=0)),
            func.sum(case((is_no_show(), 1), else_=0)),
            func.sum(
                case((closed, MinutesBetween(Attendance.time_in, Attendance.time_out)), else_=0)
            ),
        ).group_by(Attendance.volunteer_id)
    )
    rows = {
        vid: HoursRow(
            volunteer_id=vid,
            shifts=int(shifts or 0),
            late=int(late or 0),
            no_shows=int(no_shows or 0),
            minutes=int(minutes or 0),
        )
        for vid, shifts, late, no_shows, minutes in db.session.execute(query).all()
    }
    still_in = scope.apply(
        select(Attendance)
        .where(served, Attendance.time_in.is_not(None), Attendance.time_out.is_(None))
        .options(selectinload(Attendance.site))
    )
    for record in db.session.scalars(still_in):
        rows[record.volunteer_id].minutes += served_minutes(record, now) or 0
    return {vid: row for vid, row in rows.items() if row.shifts or row.no_shows}


def hours_table(
    first: date | None = None,
    last: date | None = None,
    work_unit_id: int | None = None,
    site_ids: Iterable[int] | None = None,
    now: datetime | None = None,
    user: Any = None,
) -> HoursTable:
    """Totals per volunteer from the records dated `first`..`last` (a shift's date is the day
    it starts), optionally only at `site_ids` and of volunteers of one work unit; volunteers
    who neither served nor failed to show are left out. Sorted by hours (most first), then by
    name in pinyin order. Only volunteers in `user`'s scope (scheduler.services.scope) when
    given."""
    window = _Scope(first, last, tuple(site_ids) if site_ids is not None else None, work_unit_id)
    totals = _totals(window, now or utcnow())
    rows = {}
    for v in db.session.scalars(
        scope.restrict(
            select(Volunteer)
            .where(Volunteer.id.in_(list(totals)))
            .options(selectinload(Volunteer.user), selectinload(Volunteer.work_unit)),
            Volunteer.organisation_id,
            user,
        )
    ):
        rows[v.id] = totals[v.id]
        row = rows[v.id]
        row.name, row.name_pinyin, row.phone = v.user.name, v.user.name_pinyin, v.user.phone
        row.work_unit = v.work_unit.name if v.work_unit else ""
    ordered = sorted(
        rows.values(), key=lambda r: (-r.minutes, r.name_pinyin, r.name, r.volunteer_id)
    )
    return HoursTable(
        rows=ordered,
        first=first,
        last=last,
        minutes=sum(r.minutes for r in ordered),
        shifts=sum(r.shifts for r in ordered),
        late=sum(r.late for r in ordered),
        no_shows=sum(r.no_shows for r in ordered),
    )


def volunteer_totals(volunteer_id: int, now: datetime | None = None) -> HoursRow:
    """One volunteer's hours, shifts served, late and no-shows over all dates (the
    coordinator's volunteer page); zeros when nothing counts."""
    rows = _totals(_Scope(volunteer_ids=(volunteer_id,)), now or utcnow())
    return rows.get(volunteer_id) or HoursRow(volunteer_id=volunteer_id)


def page_of(table: HoursTable, page: int, per_page: int | None = None) -> HoursPage:
    """One page of the table (pages count from 1; out-of-range pages are clamped), of
    HOURS_PAGE_SIZE rows unless told."""
    per_page = per_page or HOURS_PAGE_SIZE
    total = len(table.rows)
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    start = (page - 1) * per_page
    return HoursPage(table.rows[start : start + per_page], page, pages, per_page, total)


def _export_header() -> list[str]:
    return [
        gettext("Name"),
        gettext("Mobile"),
        gettext("Work unit"),
        gettext("Hours served"),
        gettext("Shifts served"),
        gettext("Late"),
        gettext("No-shows"),
    ]


def _export_values(row: HoursRow) -> list[Any]:
    return [
        row.name,
        national(row.phone),
        row.work_unit,
        hours_of(row.minutes),
        row.shifts,
        row.late,
        row.no_shows,
    ]


def _record(table: HoursTable, what: str) -> None:
    first = table.first.isoformat() if table.first else ""
    last = table.last.isoformat() if table.last else ""
    audit.record_export(
        what, f"{first}–{last}", {"first": table.first, "last": table.last, "rows": len(table.rows)}
    )


def export_csv(table: HoursTable) -> bytes:
    """The whole table as CSV (see scheduler.services.spreadsheets). Recorded in the audit
    log."""
    _record(table, "hours_csv")
    return csv_bytes(_export_header(), [_export_values(row) for row in table.rows])


def export_xlsx(table: HoursTable) -> bytes:
    """The whole table as an XLSX workbook of one sheet (hours as numbers), with the header
    frozen and the columns sized like the roster export. Recorded in the audit log."""
    _record(table, "hours_xlsx")
    book = Workbook()
    sheet = book.active
    sheet.title = sheet_titles([gettext("Service hours")])[0]
    write_table(sheet, _export_header(), [_export_values(row) for row in table.rows])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# A volunteer's own hours ---------------------------------------------------------------------


@dataclass
class HoursEntry:
    """One recorded shift of the volunteer: served, or a no-show."""

    record: Attendance
    minutes: int | None  # None: still running

    @property
    def hours(self) -> str:
        return "" if self.minutes is None else format_hours(self.minutes)


@dataclass
class MyHours:
    entries: list[HoursEntry] = field(default_factory=list)  # latest first
    minutes: int = 0
    shifts: int = 0  # shifts served
    no_shows: int = 0
    first: date | None = None  # first and last day served
    last: date | None = None

    @property
    def hours(self) -> str:
        return format_hours(self.minutes)


def my_hours(volunteer_id: int, now: datetime | None = None) -> MyHours:
    """The volunteer's shifts served and no-shows, latest first, with their totals. An
    absence that is not a no-show (the post was taken off the roster, or cancelled) is left
    out."""
    now = now or utcnow()
    found = db.session.execute(
        select(Attendance, is_no_show())
        .where(Attendance.volunteer_id == volunteer_id)
        .options(selectinload(Attendance.site), selectinload(Attendance.role))
    ).all()
    mine = MyHours()
    served_days = []
    for record, no_show in found:
        if record.status in SERVED:
            minutes = served_minutes(record, now)
            mine.entries.append(HoursEntry(record, minutes))
            mine.shifts += 1
            mine.minutes += minutes or 0
            served_days.append(record.day)
        elif no_show:
            mine.entries.append(HoursEntry(record, 0))
            mine.no_shows += 1
    mine.entries.sort(
        key=lambda e: e.record.site.shift_window(e.record.day, e.record.shift)[0].astimezone(UTC),
        reverse=True,
    )
    if served_days:
        mine.first, mine.last = min(served_days), max(served_days)
    return mine
