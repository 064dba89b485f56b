"""The availability grid's words, worked out in one pass: each date's and each cell's labels
for the grid page (services.availability.WeekView) and for a tap's reply, which renders its
cell with the same macro (templates/volunteer/_grid_macros.html).

Labels that name a date ('12月7日 白班 08:00–16:00 可服务') were the grid's per-cell cost: as
`_()` with variables in a template each was a catalog lookup, a date format and an escaping
`%` per cell (21 cells, 7 dates). Here each pattern is translated once per rendering and
filled in with plain string formatting. The template escapes the whole label, where `_()`
escaped only the values put into it: the same text, as no translation of these patterns
contains a character HTML escapes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import NamedTuple

from scheduler.i18n import current_locale, gettext
from scheduler.labels import SHIFT_LABELS, TranslatedOnce
from scheduler.services.availability import Cell, DayRow, span_hours
from scheduler.volunteer.dates import DAY_LABEL, DAY_SHORT, format_day


class GridCell(NamedTuple):
    """One cell as its button shows it."""

    key: str  # the form value: '2026-12-07 08'
    id: str  # the element id: 'cell-2026-12-07-08'
    available: bool
    shift: str  # the kind's name: '白班'
    hours: str  # '08:00–16:00'
    label: str  # the button's accessible name: '12月7日 白班 08:00–16:00 可服务'


class GridDay(NamedTuple):
    """One date of the grid: its heading, its two shortcut buttons' names and its cells."""

    iso: str  # '2026-12-07': in ids and form values
    title: str  # '12月7日周一'
    whole_day_label: str  # '12月7日：全天'
    day_off_label: str  # '12月7日：当天不能服务'
    day_off: bool
    whole_day: bool  # the 'whole day' button's state (DayRow.all_available)
    cells: tuple[GridCell, ...]


class _Column(NamedTuple):
    hour: str  # '08'
    shift: str
    hours: str
    name: str  # '白班 08:00–16:00'


class GridWords:
    """The translated names of one rendering (one request's locale)."""

    def __init__(self) -> None:
        self.locale = str(current_locale())
        self.shift_labels = TranslatedOnce(SHIFT_LABELS)
        self.available = gettext("%(day)s %(shift)s available")
        self._columns: dict[int, _Column] = {}

    def _column(self, cell: Cell) -> _Column:
        column = self._columns.get(cell.start_hour)
        if column is None:
            shift, hours = self.shift_labels[cell.kind], span_hours(cell.start_hour)
            column = self._columns[cell.start_hour] = _Column(
                f"{cell.start_hour:02d}", shift, hours, f"{shift} {hours}"
            )
        return column

    def short(self, day: date) -> str:
        """`day` as the labels name it: '12月7日' / 'Dec 7'."""
        return format_day(DAY_SHORT, self.locale, day)

    def cells(self, iso: str, short: str, cells: Iterable[Cell]) -> tuple[GridCell, ...]:
        """`cells` of the date `iso` (written `short`) as their buttons show them."""
        shown = []
        for cell in cells:
            column = self._column(cell)
            shown.append(
                GridCell(
                    f"{iso} {column.hour}",
                    f"cell-{iso}-{column.hour}",
                    cell.available,
                    column.shift,
                    column.hours,
                    self.available % {"day": short, "shift": column.name},
                )
            )
        return tuple(shown)


def grid_days(rows: Iterable[DayRow]) -> list[GridDay]:
    """The grid's dates, as the page shows them."""
    words = GridWords()
    whole_day, day_off = gettext("%(day)s: whole day"), gettext("%(day)s: cannot serve this day")
    days = []
    for row in rows:
        iso, short = row.day.isoformat(), words.short(row.day)
        days.append(
            GridDay(
                iso=iso,
                title=format_day(DAY_LABEL, words.locale, row.day),
                whole_day_label=whole_day % {"day": short},
                day_off_label=day_off % {"day": short},
                day_off=row.day_off,
                whole_day=row.all_available,
                cells=words.cells(iso, short, row.cells),
            )
        )
    return days


def tapped_day(cell: Cell, whole_day: bool | None) -> GridDay:
    """A tap's reply: the tapped cell's date with only that cell (no day off: a tap ends it),
    and the name of its 'whole day' button when the tap changed its state (`whole_day` is not
    None; services.availability.Tap). Only what the reply shows is worked out."""
    words = GridWords()
    iso, short = cell.day.isoformat(), words.short(cell.day)
    label = "" if whole_day is None else gettext("%(day)s: whole day") % {"day": short}
    return GridDay(
        iso=iso,
        title="",
        whole_day_label=label,
        day_off_label="",
        day_off=False,
        whole_day=bool(whole_day),
        cells=words.cells(iso, short, (cell,)),
    )
