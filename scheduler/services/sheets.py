"""What the printed sheets hold: sign-in sheets (签到表) per site and day, the roster wall chart,
a volunteer's personal schedule and the headcount logistics plan by.

Everything is read from published rosters through `duty.on_duty` (the latest version of each
period, minus the shifts their volunteer cancelled), so a draft is never printed. The wall
chart of an older version shows it as it was published, as the roster exports do
(`duty.version_rows`). The structures handed to templates hold strings, not user rows: the
only full phone numbers in them are the shift leads' (meant to be called); every volunteer's
number is masked (`phones.mask`)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from flask_babel import gettext, to_user_timezone
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from scheduler.extensions import db
from scheduler.i18n import lazy_gettext as _l
from scheduler.labels import SHIFT_LABELS
from scheduler.models import Assignment, PlanningPeriod, Role, Roster, Site, Volunteer
from scheduler.models.accounts import name_sort_key
from scheduler.models.base import utcnow
from scheduler.models.sites import SHIFT_HOURS, SHIFT_KINDS, span_label
from scheduler.services import publishing, scope
from scheduler.services.duty import by_shift, leads_of, not_ended, on_duty, version_rows
from scheduler.services.errors import ServiceError
from scheduler.services.lookups import latest_published_rosters
from scheduler.services.phones import mask, national
from scheduler.services.spreadsheets import csv_bytes

__all__ = [
    "MAX_HEADCOUNT_DAYS",
    "WALK_IN_ROWS",
    "Headcount",
    "PersonalShift",
    "SheetError",
    "SignInSheet",
    "WallChart",
    "day_sites",
    "file_slug",
    "headcount",
    "headcount_csv",
    "headcount_range",
    "local_today",
    "personal_schedule",
    "printable_periods",
    "printed_at",
    "signin_sheet",
    "signin_sheets",
    "wall_chart",
    "weeks",
]

WALK_IN_ROWS = 3  # empty rows under each shift's table for people who come unannounced
MAX_HEADCOUNT_DAYS = 31  # a month at a time: five weekly tables on paper
HEADCOUNT_DAYS = 7  # default range: tomorrow and the six days after
SCHEDULE_DAYS = 92  # how far ahead a personal schedule looks


class _SiteRow(Protocol):
    site: Site


_R = TypeVar("_R", bound=_SiteRow)


class SheetError(ServiceError):
    """Nothing to print, or a bad choice of dates or version (a translatable message)."""


# Shared pieces ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    """A shift lead to call: name and full national number."""

    name: str
    phone: str


def local_today() -> date:
    """Today in the app's default time zone (where the sites are)."""
    return to_user_timezone(utcnow()).date()


def printed_at(site: Site | None = None, now: datetime | None = None) -> datetime:
    """When a sheet is printed, as it says on it: in the site's zone on a site's sheet (the
    times in its tables are the site's), else in the reader's zone."""
    now = now or utcnow()
    return now.astimezone(ZoneInfo(site.timezone)) if site else to_user_timezone(now)


def weeks(days: Sequence[date], size: int = 7) -> list[tuple[int, int]]:
    """(start, end) index slices of `days` in runs of `size`: one printed table each, so a
    long range stays readable on paper."""
    return [(i, min(i + size, len(days))) for i in range(0, len(days), size)]


def file_slug(site: Site) -> str:
    """'12-nan-tong-bei-gao-su-ka-kou': the site's id and its name in pinyin, lower-case ASCII,
    safe as a file name everywhere."""
    words = re.sub(r"[^a-z0-9]+", "-", name_sort_key(site.name)).strip("-")
    return f"{site.id}-{words[:60].rstrip('-')}" if words else str(site.id)


def _site_order(site: Site) -> tuple[str, int]:
    return (name_sort_key(site.name), site.id)


def _kinds(site: Site, present: Iterable[str] = ()) -> list[str]:
    """The shifts the site runs, plus any it has people on (a pattern changed after
    publishing must not hide them), in the order they start on a day."""
    kinds = set(site.shift_kinds) | set(present)
    return sorted(
        (k for k in SHIFT_KINDS if k in kinds),
        key=lambda k: (site.first_shift_hour + SHIFT_HOURS * SHIFT_KINDS.index(k)) % 24,
    )


def _by_site(rows: Sequence[_R]) -> list[tuple[Site, list[_R]]]:
    """Consecutive rows of the same site together: a printed group kept on one page."""
    groups: list[tuple[Site, list[_R]]] = []
    for row in rows:
        if not groups or groups[-1][0] is not row.site:
            groups.append((row.site, []))
        groups[-1][1].append(row)
    return groups


def _per_site(rows: Iterable[Assignment]) -> list[tuple[Site, list[Assignment]]]:
    """The rows of each site (in their order), sites by name in pinyin."""
    grouped: dict[int, list[Assignment]] = defaultdict(list)
    for a in rows:
        grouped[a.site_id].append(a)
    return sorted(((g[0].site, g) for g in grouped.values()), key=lambda p: _site_order(p[0]))


def _version_labels(rosters: Iterable[Roster]) -> list[str]:
    """'第一期 v2, 第一期 v10': by period, then by number (v10 after v2)."""
    ordered = sorted(
        set(rosters), key=lambda r: (name_sort_key(r.period.name), r.period_id, r.version or 0)
    )
    return [f"{r.period.name} v{r.version}" for r in ordered]


# Sign-in sheets ---------------------------------------------------------------------------


@dataclass
class SheetLine:
    """One printed row: who is expected, with a masked number."""

    number: int
    name: str
    work_unit: str
    home_union: str  # the volunteer's node of the union tree (where a reinforcement is from)
    role: Role
    phone: str  # masked: 138****5678
    is_lead: bool


@dataclass
class ShiftSheet:
    """One shift's table."""

    kind: str
    start: datetime  # aware, in the site's zone
    end: datetime
    span: str  # '00:00–08:00'
    leads: list[Contact]
    lines: list[SheetLine]


@dataclass
class SignInSheet:
    """The sign-in sheet of one site on one day."""

    site: Site
    day: date
    shifts: list[ShiftSheet]
    versions: list[str]  # '第一期 v2'
    printed_at: datetime  # in the site's zone
    walk_in_rows: int = WALK_IN_ROWS

    @property
    def people(self) -> int:
        return sum(len(s.lines) for s in self.shifts)


def _sheet(site: Site, day: date, rows: list[Assignment], now: datetime) -> SignInSheet:
    grouped = by_shift(rows)
    shifts = []
    for kind in _kinds(site, {a.shift for a in rows}):
        crew = grouped.get((site.id, day, kind), [])
        start, end = site.shift_window(day, kind)
        shifts.append(
            ShiftSheet(
                kind=kind,
                start=start,
                end=end,
                span=span_label(start, end),
                leads=[
                    Contact(a.volunteer.user.name, national(a.volunteer.user.phone))
                    for a in crew
                    if a.role.is_lead
                ],
                lines=[
                    SheetLine(
                        number=number,
                        name=a.volunteer.user.name,
                        work_unit=a.volunteer.work_unit.name if a.volunteer.work_unit else "",
                        home_union=(
                            a.volunteer.organisation.name if a.volunteer.organisation else ""
                        ),
                        role=a.role,
                        phone=mask(a.volunteer.user.phone),
                        is_lead=a.role.is_lead,
                    )
                    for number, a in enumerate(crew, start=1)
                ],
            )
        )
    return SignInSheet(
        site=site,
        day=day,
        shifts=shifts,
        versions=_version_labels(a.roster for a in rows),
        printed_at=printed_at(site, now),
    )


def signin_sheet(site: Site, day: date, now: datetime | None = None) -> SignInSheet:
    """The site's sign-in sheet for `day` from the published roster; SheetError when nobody
    is on duty there that day in any published version."""
    rows = on_duty(day, site_ids=[site.id])
    if not rows:
        raise SheetError(
            _l(
                "No published roster has anyone at %(site)s on %(day)s.",
                site=site.name,
                day=day.isoformat(),
            )
        )
    return _sheet(site, day, rows, now or utcnow())


def _on_duty_in_scope(first: date, last: date | None, user: Any) -> list[Assignment]:
    """on_duty limited to the sites in `user`'s scope (everything for None)."""
    visible = scope.node_filter(user)
    return [a for a in on_duty(first, last) if visible(a.site.organisation_id)]


def signin_sheets(day: date, now: datetime | None = None, user: Any = None) -> list[SignInSheet]:
    """Every site's sign-in sheet for `day` (sites with someone on duty, in `user`'s scope),
    by site name; SheetError when nothing is published for that day."""
    rows = _on_duty_in_scope(day, None, user)
    if not rows:
        raise SheetError(
            _l("No published roster has anyone on duty on %(day)s.", day=day.isoformat())
        )
    now = now or utcnow()
    return [_sheet(site, day, site_rows, now) for site, site_rows in _per_site(rows)]


@dataclass
class DaySite:
    """A site with people on duty on a day: a line of the "Print sheets" page."""

    site: Site
    people: int
    shifts: int


def day_sites(day: date, user: Any = None) -> list[DaySite]:
    """The sites (in `user`'s scope) that have a sign-in sheet on `day`, by name."""
    return [
        DaySite(site, len(rows), len({a.shift for a in rows}))
        for site, rows in _per_site(_on_duty_in_scope(day, None, user))
    ]


# Wall chart -------------------------------------------------------------------------------


def printable_periods(user: Any = None) -> list[tuple[PlanningPeriod, Roster]]:
    """Periods (in `user`'s scope) with a published roster and their latest version, latest
    period first (one query)."""
    latest = db.session.scalars(
        scope.restrict(
            select(Roster)
            .join(Roster.period)
            .where(Roster.id.in_(latest_published_rosters()))
            .options(contains_eager(Roster.period))
            .order_by(PlanningPeriod.start_date.desc(), PlanningPeriod.id),
            PlanningPeriod.organisation_id,
            user,
        )
    )
    return [(roster.period, roster) for roster in latest]


@dataclass(frozen=True)
class WallName:
    name: str
    is_lead: bool


@dataclass
class WallRow:
    """One site's shift across the period: the names on duty per day."""

    site: Site
    kind: str
    span: str
    cells: list[list[WallName]]  # one list per day of the period


@dataclass
class WallChart:
    period: PlanningPeriod
    roster: Roster
    versions: list[Roster]  # every published version, newest first (for the picker)
    days: list[date]
    rows: list[WallRow]

    @property
    def weeks(self) -> list[tuple[int, int]]:
        return weeks(self.days)

    @property
    def by_site(self) -> list[tuple[Site, list[WallRow]]]:
        return _by_site(self.rows)


def wall_chart(period: PlanningPeriod, version: int | None = None) -> WallChart:
    """The site × date × shift grid of one published version of the period (the latest when
    `version` is None): the latest as it stands now, without the shifts their volunteer
    cancelled; an older one exactly as it was published (`duty.version_rows`, the rule the
    roster exports follow). SheetError when nothing is published or no such version."""
    try:
        roster, latest = publishing.published_or_latest(period, version)
    except publishing.VersionNotFound as error:
        raise SheetError(error.message) from error
    days = period.days
    rows = version_rows(roster, latest)
    grouped = by_shift(rows)
    sites = {s.id: s for s in period.sites if s.archived_at is None}
    sites.update({a.site_id: a.site for a in rows})
    present: dict[int, set[str]] = defaultdict(set)
    for a in rows:
        present[a.site_id].add(a.shift)
    wall_rows = []
    for site in sorted(sites.values(), key=_site_order):
        for kind in _kinds(site, present[site.id]):
            wall_rows.append(
                WallRow(
                    site=site,
                    kind=kind,
                    span=site.shift_span(period.start_date, kind),
                    cells=[
                        [
                            WallName(a.volunteer.user.name, a.role.is_lead)
                            for a in grouped.get((site.id, day, kind), [])
                        ]
                        for day in days
                    ],
                )
            )
    return WallChart(period, roster, publishing.versions(period.id), days, wall_rows)


# Personal schedule ------------------------------------------------------------------------


@dataclass
class PersonalShift:
    """One of the volunteer's upcoming shifts as their printed schedule shows it."""

    day: date
    kind: str
    span: str
    start: datetime
    site: Site
    role: Role
    leads: list[Contact]  # the other leads of the shift, phones in full
    i_lead: bool


def personal_schedule(volunteer: Volunteer, now: datetime | None = None) -> list[PersonalShift]:
    """The volunteer's published shifts that have not ended yet (the next SCHEDULE_DAYS days),
    by start, each with the site's address and the shift's lead."""
    mine = not_ended(volunteer.id, now or utcnow(), SCHEDULE_DAYS)
    leads_by_shift = leads_of((a.site_id, a.day, a.shift) for a in mine)
    shifts = []
    for a in mine:
        start, end = a.site.shift_window(a.day, a.shift)
        leads = [
            Contact(o.volunteer.user.name, national(o.volunteer.user.phone))
            for o in leads_by_shift.get((a.site_id, a.day, a.shift), [])
            if o.volunteer_id != volunteer.id
        ]
        shifts.append(
            PersonalShift(
                day=a.day,
                kind=a.shift,
                span=span_label(start, end),
                start=start,
                site=a.site,
                role=a.role,
                leads=leads,
                i_lead=a.role.is_lead,
            )
        )
    shifts.sort(key=lambda s: s.start)
    return shifts


# Headcount --------------------------------------------------------------------------------


@dataclass
class HeadcountRow:
    """People on duty at one site's shift, per day of the range."""

    site: Site
    kind: str
    span: str
    counts: list[int]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass
class Headcount:
    first: date
    last: date
    days: list[date]
    rows: list[HeadcountRow]
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # all sites, per day
    per_day: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.per_day)

    @property
    def weeks(self) -> list[tuple[int, int]]:
        return weeks(self.days)

    @property
    def by_site(self) -> list[tuple[Site, list[HeadcountRow]]]:
        return _by_site(self.rows)


def headcount_range(
    first: date | None = None, last: date | None = None, today: date | None = None
) -> tuple[date, date]:
    """The days a headcount covers: from `first` (tomorrow when None) to `last` (inclusive;
    the six days after `first` when None, as far as the calendar goes). SheetError on
    `last_day` when it is before `first` or the range is longer than MAX_HEADCOUNT_DAYS."""
    if first is None:
        first = (today or local_today()) + timedelta(days=1)
    if last is None:
        last = first + timedelta(days=min(HEADCOUNT_DAYS - 1, (date.max - first).days))
    if last < first:
        raise SheetError(_l("The last day cannot be before the first day."), field="last_day")
    if (last - first).days >= MAX_HEADCOUNT_DAYS:
        raise SheetError(
            _l("At most %(num)d days at a time.", num=MAX_HEADCOUNT_DAYS), field="last_day"
        )
    return first, last


def headcount(first: date | None = None, last: date | None = None, user: Any = None) -> Headcount:
    """How many people are on duty per site, date and shift over `headcount_range(first,
    last)`, with totals per shift kind and per day over all sites: what logistics orders
    meals and protective equipment by. SheetError for a bad range."""
    first, last = headcount_range(first, last)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    index = {day: i for i, day in enumerate(days)}
    counts: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0] * len(days))
    sites: dict[int, Site] = {}
    for a in _on_duty_in_scope(first, last, user):
        counts[(a.site_id, a.shift)][index[a.day]] += 1
        sites[a.site_id] = a.site
    rows = []
    for site in sorted(sites.values(), key=_site_order):
        present = {kind for site_id, kind in counts if site_id == site.id}
        for kind in _kinds(site, present):
            rows.append(
                HeadcountRow(
                    site=site,
                    kind=kind,
                    span=site.shift_span(first, kind),
                    counts=list(counts.get((site.id, kind), [0] * len(days))),
                )
            )
    by_kind = {
        kind: [sum(r.counts[i] for r in rows if r.kind == kind) for i in range(len(days))]
        for kind in SHIFT_KINDS
        if any(r.kind == kind for r in rows)
    }
    per_day = [sum(r.counts[i] for r in rows) for i in range(len(days))]
    return Headcount(first, last, days, rows, by_kind, per_day)


def headcount_csv(plan: Headcount) -> bytes:
    """One line per site, day and shift (date, site id, site, shift, local hours, people),
    under a header in the reader's language."""
    header = [
        gettext("Date"),
        gettext("Site id"),
        gettext("Site"),
        gettext("Shift"),
        gettext("Hours"),
        gettext("People"),
    ]
    rows = [
        [day.isoformat(), row.site.id, row.site.name, str(SHIFT_LABELS[row.kind]), row.span,
         row.counts[i]]
        for i, day in enumerate(plan.days)
        for row in plan.rows
    ]  # fmt: skip
    return csv_bytes(header, rows)
