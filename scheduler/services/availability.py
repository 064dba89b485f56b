"""Availability: the hours a volunteer can serve on the dates of the open planning periods, and
the dates they cannot serve at all (days off).

Design (issue 10, item 4). A tapped cell is an 8-hour span of local wall-clock time, stored as
(date, start hour): the hours a volunteer offered are the union of their spans. A site's shift is
theirs to serve only when its real hours lie inside that union (`Offer.covers`), so a volunteer
who offered 白班 08:00–16:00 is never placed in a testing site's 07:00–15:00 shift, while one who
offered 00:00–08:00 and 08:00–16:00 (the hours 00–16) may be. The grid of a period shows, per
date, the distinct shift spans its sites run (白班 07:00–15:00 next to 白班 08:00–16:00 when both
patterns are in use), in the order they start, plus any span the volunteer already offered that
no site runs any more, so nothing that counts is hidden. A volunteer on a phone taps the hours
they see; the solver gets exactly the shifts those hours cover.

Only dates inside an open period can be changed; a volunteer only ever changes their own rows
(the volunteer is always passed in by the caller from the logged-in user)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute

from scheduler.extensions import db
from scheduler.i18n import lazy_gettext as _l
from scheduler.models import (
    SHIFT_KINDS,
    Availability,
    DayOff,
    PlanningPeriod,
    Volunteer,
    period_sites,
)
from scheduler.models.sites import SHIFT_HOURS, Demand, Site
from scheduler.services import lookups
from scheduler.services.errors import ServiceError

# Sites start their night shift at midnight unless configured otherwise (Site.first_shift_hour).
DEFAULT_FIRST_SHIFT_HOUR = 0
# The spans a period without sites offers: the default pattern 00–08, 08–16, 16–24.
DEFAULT_STARTS = tuple(DEFAULT_FIRST_SHIFT_HOUR + SHIFT_HOURS * i for i in range(len(SHIFT_KINDS)))


class AvailabilityError(ServiceError):
    """Why a change to availability was refused (a translatable message)."""


def kind_of_start(hour: int) -> str:
    """The shift kind a span starting at `hour` is called: nights start 20:00–03:00, days
    04:00–11:00, evenings 12:00–19:00 (07, 08 -> day; 15, 16 -> evening; 23, 00 -> night)."""
    return SHIFT_KINDS[((hour + 4) % 24) // SHIFT_HOURS]


def default_start(kind: str) -> int:
    """The start hour of `kind` in the default pattern: night 0, day 8, evening 16."""
    return DEFAULT_STARTS[SHIFT_KINDS.index(kind)]


def starts_of_kind(kind: str) -> list[int]:
    """The start hours kind_of_start calls `kind`."""
    return [h for h in range(24) if kind_of_start(h) == kind]


def span_hours(start_hour: int) -> str:
    """Local hours of a span: 8 -> '08:00–16:00', 16 -> '16:00–24:00', 23 -> '23:00–07:00 (+1)'."""
    end = start_hour + SHIFT_HOURS
    if end == 24:
        return f"{start_hour:02d}:00–24:00"
    suffix = " (+1)" if end > 24 else ""
    return f"{start_hour:02d}:00–{end % 24:02d}:00{suffix}"


def shift_hours(shift: str, first_hour: int = DEFAULT_FIRST_SHIFT_HOUR) -> str:
    """Local start and end of a shift kind in the pattern starting at `first_hour`."""
    return span_hours((first_hour + SHIFT_HOURS * SHIFT_KINDS.index(shift)) % 24)


def _hour_index(day: date, hour: int) -> int:
    return day.toordinal() * 24 + hour


class Offer:
    """The hours one volunteer offered, as merged runs of wall-clock hours: the one place that
    decides whether a shift lies inside what they said they can serve."""

    __slots__ = ("_ends", "_starts")

    def __init__(self, cells: Iterable[tuple[date, int]]) -> None:
        runs: list[list[int]] = []
        for start in sorted({_hour_index(d, h) for d, h in cells}):
            if runs and start <= runs[-1][1]:
                runs[-1][1] = max(runs[-1][1], start + SHIFT_HOURS)
            else:
                runs.append([start, start + SHIFT_HOURS])
        self._starts = [a for a, _ in runs]
        self._ends = [b for _, b in runs]

    def __bool__(self) -> bool:
        return bool(self._starts)

    def covers(self, day: date, start_hour: int, hours: int = SHIFT_HOURS) -> bool:
        """Whether the span from `start_hour`:00 on `day` for `hours` hours lies inside."""
        start = _hour_index(day, start_hour)
        i = bisect_right(self._starts, start) - 1
        return i >= 0 and start + hours <= self._ends[i]

    def covered(self, starts: list[int], hours: int = SHIFT_HOURS) -> Iterator[int]:
        """The 8-hour spans among `starts` (sorted hour indexes, see span_index) that lie
        inside: one bisection per run, whatever the number of spans."""
        for a, b in zip(self._starts, self._ends, strict=True):
            yield from starts[bisect_left(starts, a) : bisect_right(starts, b - hours)]


def span_index(day: date, start_hour: int) -> int:
    """A span's start as a sortable hour index, for Offer.covered."""
    return _hour_index(day, start_hour)


@dataclass(frozen=True)
class Cell:
    day: date
    start_hour: int
    available: bool

    @property
    def key(self) -> str:
        """The form value naming this cell: '2026-12-07 08'."""
        return f"{self.day.isoformat()} {self.start_hour:02d}"

    @property
    def kind(self) -> str:
        return kind_of_start(self.start_hour)

    @property
    def hours(self) -> str:
        return span_hours(self.start_hour)


@dataclass(frozen=True)
class DayRow:
    day: date
    day_off: bool
    cells: tuple[Cell, ...]
    starts: tuple[int, ...]  # what 'whole day' turns on (bulk_starts)

    @property
    def all_available(self) -> bool:
        """Every span 'whole day' turns on is available (the 'whole day' button's state)."""
        on = {c.start_hour for c in self.cells if c.available}
        return bool(self.starts) and all(h in on for h in self.starts)


def whole_week(rows: Iterable[DayRow]) -> bool:
    """Every day not marked off is wholly available (the 'whole week' button's state)."""
    rows = [r for r in rows if not r.day_off]
    return bool(rows) and all(r.all_available for r in rows)


@dataclass(frozen=True)
class WeekView:
    """One week of one open period, as the grid shows it."""

    period: PlanningPeriod
    periods: list[PlanningPeriod]
    week_start: date
    rows: tuple[DayRow, ...]
    prev_week: date | None
    next_week: date | None
    skips_nights: bool = False  # 'whole day' and 'whole week' leave nights out (bulk_starts)

    @property
    def available_count(self) -> int:
        return sum(c.available for row in self.rows for c in row.cells)

    @property
    def mixed_hours(self) -> bool:
        """Two spans of one kind side by side (白班 07:00–15:00 and 08:00–16:00): the grid
        says why."""
        kinds = [c.kind for c in self.rows[0].cells] if self.rows else []
        return len(kinds) != len(set(kinds))

    @property
    def all_available(self) -> bool:
        """The 'whole week' state (whole_week)."""
        return whole_week(self.rows)


@dataclass(frozen=True)
class PeriodSummary:
    """What /me says about one open period."""

    period: PlanningPeriod | lookups.ShownPeriod
    shifts: int
    nights: int
    days: int
    days_off: int


def site_starts(site: Site) -> set[int]:
    """The local start hours of the shifts `site` runs with a head count."""
    return {
        (site.first_shift_hour + SHIFT_HOURS * SHIFT_KINDS.index(kind)) % 24
        for kind in site.shift_kinds
        if site.demand_for(kind)
    }


def _start_hours(period_id: ColumnElement[int] | InstrumentedAttribute[int] | int) -> Select[int]:
    """The start hours (with repeats) of the shifts the period's active sites run with a head
    count, as SQL: site_starts over the period's sites, in one statement. period_starts runs
    it; a tap embeds it, correlated, in its own query."""
    offset = case({k: SHIFT_HOURS * i for i, k in enumerate(SHIFT_KINDS)}, value=Demand.shift)
    runs = or_(
        *(and_(Demand.shift == k, getattr(Site, f"runs_{k}").is_(True)) for k in SHIFT_KINDS)
    )
    return (
        select((Site.first_shift_hour + offset) % 24)
        .select_from(Demand)
        .join(Site, Site.id == Demand.site_id)
        .join(period_sites, period_sites.c.site_id == Site.id)
        .where(
            period_sites.c.period_id == period_id,
            Site.archived_at.is_(None),
            Demand.headcount > 0,
            runs,
        )
    )


def _starts_or_default(starts: Iterable[int]) -> tuple[int, ...]:
    found = set(starts)
    return tuple(sorted(found)) if found else DEFAULT_STARTS


def period_starts(period: PlanningPeriod) -> tuple[int, ...]:
    """The distinct spans the period's active sites run, by start hour (the grid's columns);
    the default pattern when no site runs a shift with a head count."""
    return _starts_or_default(db.session.scalars(_start_hours(period.id)))


def bulk_starts(volunteer: Volunteer | _Nights, starts: Iterable[int]) -> tuple[int, ...]:
    """The spans among `starts` that 'whole day' and 'whole week' turn on for `volunteer`:
    all of them, but no night for a volunteer who does not serve nights (their profile says
    so; they can still tap a night cell by hand). The one place that decides it: the
    shortcuts and the state of their buttons both ask here."""
    return tuple(h for h in starts if volunteer.accepts_nights or kind_of_start(h) != "night")


def week_start_of(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def period_covering(day: date) -> PlanningPeriod | None:
    """An open period that contains `day`, if any."""
    return db.session.scalars(
        select(PlanningPeriod)
        .where(
            PlanningPeriod.is_open.is_(True),
            PlanningPeriod.start_date <= day,
            PlanningPeriod.end_date >= day,
        )
        .order_by(PlanningPeriod.start_date)
    ).first()


NOT_OPEN = _l("This date is not in an open planning period, so it cannot be changed.")


def check_editable(day: date) -> None:
    """Raise AvailabilityError unless `day` lies in an open period."""
    if period_covering(day) is None:
        raise AvailabilityError(NOT_OPEN)


def _commit() -> None:
    """Commit; two taps on the same cell racing each other (a double submit without
    JavaScript) lose to each other on the primary key, which is not worth a 500."""
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise _raced() from error


def _raced() -> AvailabilityError:
    return AvailabilityError(
        _l("This was changed at the same moment in another window. Please try again.")
    )


def _available(volunteer: Volunteer, days: Iterable[date]) -> set[tuple[date, int]]:
    days = list(days)
    if not days:
        return set()
    rows = db.session.execute(
        select(Availability.day, Availability.start_hour).where(
            Availability.volunteer_id == volunteer.id, Availability.day.in_(days)
        )
    )
    return {(d, h) for d, h in rows}


def _days_off(volunteer: Volunteer, days: Iterable[date]) -> set[date]:
    days = list(days)
    if not days:
        return set()
    return set(
        db.session.scalars(
            select(DayOff.day).where(DayOff.volunteer_id == volunteer.id, DayOff.day.in_(days))
        )
    )


def _add_cells(volunteer: Volunteer, cells: Iterable[tuple[date, int]]) -> None:
    """Insert the cells not yet stored (one multi-row INSERT)."""
    cells = sorted(set(cells))
    have = _available(volunteer, {d for d, _ in cells})
    rows = [
        {"volunteer_id": volunteer.id, "day": d, "start_hour": h}
        for d, h in cells
        if (d, h) not in have
    ]
    if rows:
        db.session.execute(insert(Availability), rows)


def _clear_days(volunteer: Volunteer, days: Iterable[date]) -> None:
    days = list(days)
    if days:
        db.session.execute(
            delete(Availability).where(
                Availability.volunteer_id == volunteer.id, Availability.day.in_(days)
            )
        )


def _drop_days_off(volunteer: Volunteer, days: Iterable[date]) -> None:
    days = list(days)
    if days:
        db.session.execute(
            delete(DayOff).where(DayOff.volunteer_id == volunteer.id, DayOff.day.in_(days))
        )


class Tap(NamedTuple):
    """What one tap did: the cell is now available, a day off was removed, how many cells the
    volunteer now offers in the week of the grid that showed it (`WeekView.available_count`,
    the counter the tap's reply updates), and, when the tap changed the state of the tapped
    day's 'whole day' button (DayRow.all_available), the new states of that button and of the
    'whole week' button (whole_week); None when it did not: then neither changed (the other
    days are as they were), and the reply leaves both buttons as the page shows them."""

    available: bool
    day_off_removed: bool
    week_count: int
    whole_day: bool | None
    whole_week: bool | None


def _numbers(joined: str | None) -> set[int]:
    return {int(n) for n in joined.split(",")} if joined else set()


# A tap's statements, built once: constructing them costs more CPU than running them (every
# tap of the evening). The values come as bound parameters (see toggle_cell): the volunteer,
# the tapped day and start hour, the period whose grid was tapped, and the tapped week as
# monday..sunday and day0..day6.
_TAP_DAY_OFF = and_(DayOff.volunteer_id == bindparam("volunteer"), DayOff.day == bindparam("day"))
_TAP_CELL = and_(
    Availability.volunteer_id == bindparam("volunteer"),
    Availability.day == bindparam("day"),
    Availability.start_hour == bindparam("start_hour"),
)
_TAP_WEEK: tuple[BindParameter[date], BindParameter[date]] = (
    bindparam("monday", type_=Date),
    bindparam("sunday", type_=Date),
)


# The tap's constants are SQL text, not bound values: a bound value is converted and sent on
# every run, and aggregate_strings renders a separator it is given as a value into the SQL at
# every run (a post-compile step over the whole statement). As text they are part of the
# statement compiled once (~80 of the tap's Python calls).
_COMMA = literal_column("','", String)


def _sql_int(n: int) -> ColumnElement[int]:
    return literal_column(str(int(n)), Integer)


def _joined(expr: ColumnElement[Any]) -> ColumnElement[str]:
    """The values of `expr`, joined with commas (`_numbers` reads them back)."""
    separator: Any = _COMMA  # typed `str`, but any SQL expression compiles: see _COMMA
    return func.aggregate_strings(cast(expr, String), separator)


def _tap_state() -> Select[Any]:
    # The grid's week: its dates inside the period (correlated with the period row below).
    week = (
        select(func.count())
        .select_from(Availability)
        .where(
            Availability.volunteer_id == bindparam("volunteer"),
            Availability.day.between(*_TAP_WEEK),
            Availability.day >= PlanningPeriod.start_date,
            Availability.day <= PlanningPeriod.end_date,
        )
        .scalar_subquery()
    )
    # The week's cells as "weekday * 24 + hour" and its days off as weekdays, joined into
    # strings, and the period's spans: what the shortcut buttons' states are computed from.
    weekday = case(*((Availability.day == bindparam(f"day{i}"), _sql_int(i)) for i in range(7)))
    cells = (
        select(_joined(weekday * _sql_int(24) + Availability.start_hour))
        .where(
            Availability.volunteer_id == bindparam("volunteer"),
            Availability.day.between(*_TAP_WEEK),
        )
        .scalar_subquery()
    )
    off_weekday = case(*((DayOff.day == bindparam(f"day{i}"), _sql_int(i)) for i in range(7)))
    offs = (
        select(_joined(off_weekday))
        .where(DayOff.volunteer_id == bindparam("volunteer"), DayOff.day.between(*_TAP_WEEK))
        .scalar_subquery()
    )
    # Aggregated in the spans query itself, correlated with the period row: a FROM subquery
    # would not be, and would read every period's sites.
    hours = _start_hours(PlanningPeriod.id)
    spans = (
        hours.with_only_columns(_joined(hours.selected_columns[0]), maintain_column_froms=False)
        .correlate(PlanningPeriod)
        .scalar_subquery()
    )
    grid_period_first = case(
        (PlanningPeriod.id == bindparam("period"), _sql_int(0)), else_=_sql_int(1)
    )
    return (
        select(
            exists().where(_TAP_DAY_OFF),
            exists().where(_TAP_CELL),
            week,
            PlanningPeriod.start_date,
            PlanningPeriod.end_date,
            cells,
            offs,
            spans,
        )
        .select_from(PlanningPeriod)
        .where(
            PlanningPeriod.is_open.is_(True),
            PlanningPeriod.start_date <= bindparam("day"),
            PlanningPeriod.end_date >= bindparam("day"),
        )
        .order_by(grid_period_first, PlanningPeriod.id)
        .limit(_sql_int(1))
    )


_TAP_STATE = _tap_state()
_TAP_END_DAY_OFF = delete(DayOff).where(_TAP_DAY_OFF)
_TAP_CLEAR = delete(Availability).where(_TAP_CELL)
_TAP_OFFER = insert(Availability).values(
    volunteer_id=bindparam("volunteer"), day=bindparam("day"), start_hour=bindparam("start_hour")
)


def toggle_cell(
    volunteer: Volunteer, day: date, start_hour: int, period_id: int | None = None
) -> Tap:
    """Flip one cell. Tapping a cell on a day off ends the day off and makes the cell
    available. `period_id` names the period whose grid was tapped (it counts the week's cells;
    any open period covering `day` when it does not). Commits.

    This is the hot path of the availability page (every tap): one query reads whether the
    date is open, a day off and already offered, the week's count, and what the two shortcut
    buttons' states need (the period's spans, the week's cells and days off), then one write
    (two when a day off ends)."""
    if not 0 <= start_hour <= 23:
        raise AvailabilityError(_l("Unknown shift."))
    monday = week_start_of(day)
    week_days = [monday + timedelta(days=i) for i in range(7)]
    values = {
        "volunteer": volunteer.id,
        "day": day,
        "start_hour": start_hour,
        "period": period_id,
        "monday": monday,
        "sunday": week_days[-1],
        **{f"day{i}": d for i, d in enumerate(week_days)},
    }
    accepts_nights = volunteer.accepts_nights  # read before the commit expires the row
    # Core statements on the session's connection: the ORM adds nothing here but CPU.
    connection = db.session.connection()
    state = connection.execute(_TAP_STATE, values).first()
    if state is None:
        raise AvailabilityError(NOT_OPEN)
    was_day_off, was_on, counted = bool(state[0]), bool(state[1]), int(state[2])
    try:
        if was_day_off:
            connection.execute(_TAP_END_DAY_OFF, values)
        if was_on and not was_day_off:
            connection.execute(_TAP_CLEAR, values)
        elif not was_on:
            connection.execute(_TAP_OFFER, values)
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise _raced() from error
    if not was_on:
        counted += 1
    elif not was_day_off:
        counted -= 1
    available = was_day_off or not was_on
    # The week as the grid shows it before and after this tap: the tapped day's 'whole day'
    # state before and after, and the whole week's only when the day's state changed.
    first, last = state[3], state[4]
    on = _numbers(state[5])
    off = _numbers(state[6]) - {day.weekday()}
    starts = bulk_starts(_Nights(accepts_nights), _starts_or_default(_numbers(state[7])))
    tapped = day.weekday() * 24 + start_hour
    full_before = _day_row(day, on, off, starts).all_available
    if available:
        on.add(tapped)
    else:
        on.discard(tapped)
    full = _day_row(day, on, off, starts).all_available
    if full == full_before and not was_day_off:
        return Tap(available, was_day_off, counted, None, None)
    week = [_day_row(d, on, off, starts) for d in week_days if first <= d <= last]
    return Tap(available, was_day_off, counted, full, whole_week(week))


def _day_row(day: date, on: set[int], off: set[int], starts: tuple[int, ...]) -> DayRow:
    """`day`'s row of a tap's week, from the week's cells as "weekday * 24 + hour" and its days
    off as weekdays (the tap's query)."""
    i = day.weekday()
    return DayRow(
        day=day,
        day_off=i in off,
        cells=tuple(Cell(day, h, True) for h in range(24) if i * 24 + h in on),
        starts=starts,
    )


class _Nights(NamedTuple):
    """A volunteer's night preference, read before a commit (for bulk_starts)."""

    accepts_nights: bool


def _bulk_or_refuse(volunteer: Volunteer, period: PlanningPeriod) -> tuple[int, ...]:
    starts = bulk_starts(volunteer, period_starts(period))
    if not starts:
        raise AvailabilityError(NO_SPANS)
    return starts


NO_SPANS = _l(
    "Every shift of this period is a night shift, and your profile says you do not serve "
    "nights: tap a night shift by hand if you can serve it."
)


def toggle_day(volunteer: Volunteer, period: PlanningPeriod, day: date) -> bool:
    """'Whole day': make every span the period runs on `day` available (bulk_starts: no
    nights for a volunteer who does not serve them), or clear the day when they already all
    are. Ends a day off. Returns whether the day is now fully available.
    Commits."""
    if not (period.is_open and period.covers(day)):
        raise AvailabilityError(NOT_OPEN)
    starts = _bulk_or_refuse(volunteer, period)
    have = _available(volunteer, [day])
    on = day in _days_off(volunteer, [day]) or any((day, h) not in have for h in starts)
    _drop_days_off(volunteer, [day])
    if on:
        _add_cells(volunteer, [(day, h) for h in starts])
    else:
        _clear_days(volunteer, [day])
    _commit()
    return on


def period_days_in_week(period: PlanningPeriod, week_start: date) -> list[date]:
    """The dates of the week starting `week_start` that lie inside `period`."""
    days = (week_start + timedelta(days=i) for i in range(7))
    return [d for d in days if period.covers(d)]


def toggle_week(volunteer: Volunteer, period: PlanningPeriod, week_start: date) -> bool:
    """'Whole week': every span the period runs (bulk_starts: no nights for a volunteer who
    does not serve them) becomes available on the week's dates in `period`, or the dates are
    cleared when they already all are. Dates marked as days off are left as they are: the
    volunteer said so explicitly. Returns whether the week is now fully available. Commits."""
    if not period.is_open:
        raise AvailabilityError(NOT_OPEN)
    days = period_days_in_week(period, week_start_of(week_start))
    if not days:
        raise AvailabilityError(_l("This week is not in the planning period."))
    off = _days_off(volunteer, days)
    working = [d for d in days if d not in off]
    starts = _bulk_or_refuse(volunteer, period)
    cells = [(d, h) for d in working for h in starts]
    have = _available(volunteer, working)
    on = any(c not in have for c in cells)
    if on:
        _add_cells(volunteer, cells)
    else:
        _clear_days(volunteer, working)
    _commit()
    return on


def toggle_day_off(volunteer: Volunteer, day: date) -> bool:
    """Mark `day` as a day off (clearing its cells), or end the day off when it is one.
    Returns whether the day is now a day off. Commits."""
    check_editable(day)
    if day in _days_off(volunteer, [day]):
        _drop_days_off(volunteer, [day])
        _commit()
        return False
    _clear_days(volunteer, [day])
    db.session.add(DayOff(volunteer_id=volunteer.id, day=day))
    _commit()
    return True


def choose_period(periods: list[PlanningPeriod], period_id: int | None) -> PlanningPeriod | None:
    """The open period asked for, or the first open one (ids of other periods are ignored)."""
    for period in periods:
        if period.id == period_id:
            return period
    return periods[0] if periods else None


def clamp_week(period: PlanningPeriod, week: date | None, today: date) -> date:
    """The Monday to show: the week asked for if it overlaps the period, else the week of
    today when today is in the period, else the period's first week."""
    first, last = week_start_of(period.start_date), week_start_of(period.end_date)
    if week is not None and first <= week_start_of(week) <= last:
        return week_start_of(week)
    if period.covers(today):
        return week_start_of(today)
    return first


# The grid's week in one statement, built once (see toggle_cell): the volunteer's offered
# spans on the shown dates, their days off there as the hour DAY_OFF_ROW, and the distinct
# start hours the period's sites run, without a date.
DAY_OFF_ROW = -1
_SITE_HOURS = _start_hours(bindparam("period"))
_WEEK_ROWS = union_all(
    select(Availability.day, Availability.start_hour).where(
        Availability.volunteer_id == bindparam("volunteer"),
        Availability.day.between(bindparam("first"), bindparam("last")),
    ),
    select(DayOff.day, literal_column(str(DAY_OFF_ROW), Integer)).where(
        DayOff.volunteer_id == bindparam("volunteer"),
        DayOff.day.between(bindparam("first"), bindparam("last")),
    ),
    _SITE_HOURS.with_only_columns(
        cast(null(), Date), _SITE_HOURS.selected_columns[0], maintain_column_froms=False
    ).distinct(),
)


def week_view(
    volunteer: Volunteer,
    period: PlanningPeriod,
    periods: list[PlanningPeriod],
    week: date | None,
    today: date,
) -> WeekView:
    """The grid for one week of `period`: only the dates inside the period are shown; the
    columns are the spans the period's sites run plus any other span the volunteer offered
    that week (so every offered hour that counts can be seen and taken back). One statement
    reads the week's cells, days off and the period's spans (_WEEK_ROWS)."""
    start = clamp_week(period, week, today)
    days = period_days_in_week(period, start)
    bounds = {"volunteer": volunteer.id, "first": days[0], "last": days[-1], "period": period.id}
    have: set[tuple[date, int]] = set()
    off: set[date] = set()
    found: list[int] = []
    for day, hour in db.session.execute(_WEEK_ROWS, bounds).all():
        if day is None:
            found.append(hour)
        elif hour == DAY_OFF_ROW:
            off.add(day)
        else:
            have.add((day, hour))
    starts = _starts_or_default(found)
    columns = tuple(sorted(set(starts) | {h for _, h in have}))
    bulk = bulk_starts(volunteer, starts)
    rows = tuple(
        DayRow(
            day=d,
            day_off=d in off,
            cells=tuple(Cell(d, h, (d, h) in have) for h in columns),
            starts=bulk,
        )
        for d in days
    )
    prev_week = start - timedelta(days=7)
    next_week = start + timedelta(days=7)
    return WeekView(
        period=period,
        periods=periods,
        week_start=start,
        rows=rows,
        skips_nights=len(bulk) < len(starts),
        prev_week=prev_week if prev_week >= week_start_of(period.start_date) else None,
        next_week=next_week if next_week <= period.end_date else None,
    )


# /me's summary: the volunteer's offered cells and days off across every open period, in one
# statement built once (see toggle_cell); a day off comes as the hour DAY_OFF_ROW.
_SUMMARY_ROWS = union_all(
    select(Availability.day, Availability.start_hour).where(
        Availability.volunteer_id == bindparam("volunteer"),
        Availability.day >= bindparam("first"),
        Availability.day <= bindparam("last"),
    ),
    select(DayOff.day, literal(DAY_OFF_ROW, Integer)).where(
        DayOff.volunteer_id == bindparam("volunteer"),
        DayOff.day >= bindparam("first"),
        DayOff.day <= bindparam("last"),
    ),
)


def summaries(
    volunteer: Volunteer, periods: list[PlanningPeriod] | None = None
) -> list[PeriodSummary]:
    """Per open period (`periods` when the caller has read them already): how many spans,
    nights and days the volunteer offered, and days off (`summarise`). Two statements however
    many periods are open: the periods, then the rows of all."""
    if periods is None:
        periods = lookups.open_periods()
    if not periods:
        return []
    bounds = {
        "volunteer": volunteer.id,
        "first": min(p.start_date for p in periods),
        "last": max(p.end_date for p in periods),
    }
    rows = db.session.execute(_SUMMARY_ROWS, bounds).all()
    return summarise(
        periods, [(p.id, d, h) for p in periods for d, h in rows if p.start_date <= d <= p.end_date]
    )


def summarise(
    periods: Iterable[PlanningPeriod | lookups.ShownPeriod], offered: Iterable[tuple[int, Any, int]]
) -> list[PeriodSummary]:
    """`summaries` of `periods` from the volunteer's `offered` rows in them: (period id, day,
    start hour) of each offered span, and of each day off with the hour DAY_OFF_ROW. A day may
    be a date or its ISO string (only told apart from other days)."""
    cells: dict[int, list[tuple[Any, int]]] = {}
    days_off: dict[int, int] = {}
    for period_id, day, hour in offered:
        if hour == DAY_OFF_ROW:
            days_off[period_id] = days_off.get(period_id, 0) + 1
        else:
            cells.setdefault(period_id, []).append((day, hour))
    result = []
    for period in periods:
        mine = cells.get(period.id, [])
        result.append(
            PeriodSummary(
                period=period,
                shifts=len(mine),
                nights=sum(1 for _, h in mine if kind_of_start(h) == "night"),
                days=len({d for d, _ in mine}),
                days_off=days_off.get(period.id, 0),
            )
        )
    return result
