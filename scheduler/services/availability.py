"""Availability: which shifts a volunteer can serve on which dates of the open planning
periods, and which dates they cannot serve at all (days off).

Only dates inside an open period can be changed; a volunteer only ever changes their own rows
(the volunteer is always passed in by the caller from the logged-in user)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from scheduler.extensions import db
from scheduler.models import SHIFT_KINDS, Availability, DayOff, PlanningPeriod, Volunteer
from scheduler.models.sites import SHIFT_HOURS
from scheduler.services.errors import ServiceError

# Sites start their night shift at midnight unless configured otherwise (Site.first_shift_hour).
DEFAULT_FIRST_SHIFT_HOUR = 0


class AvailabilityError(ServiceError):
    """Why a change to availability was refused (a translatable message)."""


@dataclass(frozen=True)
class Cell:
    day: date
    shift: str
    available: bool

    @property
    def key(self) -> str:
        """The form value naming this cell: '2026-12-07 night'."""
        return f"{self.day.isoformat()} {self.shift}"


@dataclass(frozen=True)
class DayRow:
    day: date
    day_off: bool
    cells: tuple[Cell, ...]

    @property
    def all_available(self) -> bool:
        return all(c.available for c in self.cells)


@dataclass(frozen=True)
class WeekView:
    """One week of one open period, as the grid shows it."""

    period: PlanningPeriod
    periods: list[PlanningPeriod]
    week_start: date
    rows: tuple[DayRow, ...]
    prev_week: date | None
    next_week: date | None

    @property
    def available_count(self) -> int:
        return sum(c.available for row in self.rows for c in row.cells)

    @property
    def all_available(self) -> bool:
        """Every cell of every day not marked off is available (the 'whole week' state)."""
        rows = [r for r in self.rows if not r.day_off]
        return bool(rows) and all(r.all_available for r in rows)


@dataclass(frozen=True)
class PeriodSummary:
    """What /me says about one open period."""

    period: PlanningPeriod
    shifts: int
    nights: int
    days: int
    days_off: int


def shift_hours(shift: str, first_hour: int = DEFAULT_FIRST_SHIFT_HOUR) -> str:
    """Local start and end of a shift with the default pattern: 'night' -> '00:00–08:00'."""
    start = first_hour + SHIFT_HOURS * SHIFT_KINDS.index(shift)
    end = start + SHIFT_HOURS
    return f"{start % 24:02d}:00–{end if end == 24 else end % 24:02d}:00"


def week_start_of(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def open_periods() -> list[PlanningPeriod]:
    """Open planning periods, earliest first."""
    return list(
        db.session.scalars(
            select(PlanningPeriod)
            .where(PlanningPeriod.is_open.is_(True))
            .order_by(PlanningPeriod.start_date, PlanningPeriod.id)
        )
    )


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


def check_editable(day: date, shift: str | None = None) -> None:
    """Raise AvailabilityError unless `day` lies in an open period and `shift` is known."""
    if shift is not None and shift not in SHIFT_KINDS:
        raise AvailabilityError(_l("Unknown shift."))
    if period_covering(day) is None:
        raise AvailabilityError(
            _l("This date is not in an open planning period, so it cannot be changed.")
        )


def _commit() -> None:
    """Commit; two taps on the same cell racing each other (a double submit without
    JavaScript) lose to each other on the primary key, which is not worth a 500."""
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise AvailabilityError(
            _l("This was changed at the same moment in another window. Please try again.")
        ) from error


def _available(volunteer: Volunteer, days: Iterable[date]) -> set[tuple[date, str]]:
    days = list(days)
    if not days:
        return set()
    rows = db.session.execute(
        select(Availability.day, Availability.shift).where(
            Availability.volunteer_id == volunteer.id, Availability.day.in_(days)
        )
    )
    return {(d, s) for d, s in rows}


def _days_off(volunteer: Volunteer, days: Iterable[date]) -> set[date]:
    days = list(days)
    if not days:
        return set()
    return set(
        db.session.scalars(
            select(DayOff.day).where(DayOff.volunteer_id == volunteer.id, DayOff.day.in_(days))
        )
    )


def _set_cells(volunteer: Volunteer, cells: Iterable[tuple[date, str]], on: bool) -> None:
    cells = list(cells)
    have = _available(volunteer, {d for d, _ in cells})
    for day, shift in cells:
        if on and (day, shift) not in have:
            db.session.add(Availability(volunteer_id=volunteer.id, day=day, shift=shift))
            have.add((day, shift))
        elif not on and (day, shift) in have:
            db.session.execute(
                delete(Availability).where(
                    Availability.volunteer_id == volunteer.id,
                    Availability.day == day,
                    Availability.shift == shift,
                )
            )
            have.discard((day, shift))


def _drop_days_off(volunteer: Volunteer, days: Iterable[date]) -> None:
    days = list(days)
    if days:
        db.session.execute(
            delete(DayOff).where(DayOff.volunteer_id == volunteer.id, DayOff.day.in_(days))
        )


def toggle_cell(volunteer: Volunteer, day: date, shift: str) -> tuple[bool, bool]:
    """Flip one cell. Tapping a cell on a day off ends the day off and makes the cell
    available. Returns (the cell is now available, a day off was removed). Commits."""
    check_editable(day, shift)
    was_day_off = day in _days_off(volunteer, [day])
    if was_day_off:
        _drop_days_off(volunteer, [day])
        now_on = True
    else:
        now_on = (day, shift) not in _available(volunteer, [day])
    _set_cells(volunteer, [(day, shift)], now_on)
    _commit()
    return now_on, was_day_off


def toggle_day(volunteer: Volunteer, day: date) -> bool:
    """'Whole day': make every shift of `day` available, or clear them all when they already
    all are. Ends a day off. Returns whether the day is now fully available. Commits."""
    check_editable(day)
    have = _available(volunteer, [day])
    on = day in _days_off(volunteer, [day]) or len(have) < len(SHIFT_KINDS)
    _drop_days_off(volunteer, [day])
    _set_cells(volunteer, [(day, s) for s in SHIFT_KINDS], on)
    _commit()
    return on


def period_days_in_week(period: PlanningPeriod, week_start: date) -> list[date]:
    """The dates of the week starting `week_start` that lie inside `period`."""
    days = (week_start + timedelta(days=i) for i in range(7))
    return [d for d in days if period.covers(d)]


def toggle_week(volunteer: Volunteer, period: PlanningPeriod, week_start: date) -> bool:
    """'Whole week': every shift of the week's dates in `period` becomes available, or all are
    cleared when they already all are. Dates marked as days off are left as they are: the
    volunteer said so explicitly. Returns whether the week is now fully available. Commits."""
    if not period.is_open:
        raise AvailabilityError(
            _l("This date is not in an open planning period, so it cannot be changed.")
        )
    days = period_days_in_week(period, week_start_of(week_start))
    if not days:
        raise AvailabilityError(_l("This week is not in the planning period."))
    off = _days_off(volunteer, days)
    working = [d for d in days if d not in off]
    cells = [(d, s) for d in working for s in SHIFT_KINDS]
    on = len(_available(volunteer, working)) < len(cells)
    _set_cells(volunteer, cells, on)
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
    _set_cells(volunteer, [(day, s) for s in SHIFT_KINDS], False)
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


def week_view(
    volunteer: Volunteer,
    period: PlanningPeriod,
    periods: list[PlanningPeriod],
    week: date | None,
    today: date,
) -> WeekView:
    """The grid for one week of `period`: only the dates inside the period are shown."""
    start = clamp_week(period, week, today)
    days = period_days_in_week(period, start)
    have = _available(volunteer, days)
    off = _days_off(volunteer, days)
    rows = tuple(
        DayRow(
            day=d,
            day_off=d in off,
            cells=tuple(Cell(d, s, (d, s) in have) for s in SHIFT_KINDS),
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
        prev_week=prev_week if prev_week >= week_start_of(period.start_date) else None,
        next_week=next_week if next_week <= period.end_date else None,
    )


def cell_view(volunteer: Volunteer, day: date, shift: str) -> Cell:
    """One cell's current state (for the fragment returned after a tap)."""
    return Cell(day, shift, (day, shift) in _available(volunteer, [day]))


def summaries(volunteer: Volunteer) -> list[PeriodSummary]:
    """Per open period: how many shifts, nights and days the volunteer offered, and days off."""
    result = []
    for period in open_periods():
        cells = db.session.execute(
            select(Availability.day, Availability.shift).where(
                Availability.volunteer_id == volunteer.id,
                Availability.day >= period.start_date,
                Availability.day <= period.end_date,
            )
        ).all()
        days_off = db.session.scalars(
            select(DayOff.day).where(
                DayOff.volunteer_id == volunteer.id,
                DayOff.day >= period.start_date,
                DayOff.day <= period.end_date,
            )
        ).all()
        result.append(
            PeriodSummary(
                period=period,
                shifts=len(cells),
                nights=sum(1 for _, s in cells if s == "night"),
                days=len({d for d, _ in cells}),
                days_off=len(days_off),
            )
        )
    return result
