"""A period's published roster as files for people outside Muster: an XLSX workbook (one sheet
per site plus a sheet of volunteer totals, the format union offices pass around) and a flat
CSV (one row per assignment, for other tools).

Which assignments a file holds (`roster_for_export`), the same rule as the wall chart's
(`duty.version_rows`):

- The period's latest published version is the roster in force: it is exported as it stands
  now, without the shifts their volunteer has cancelled since, so the file lists who is
  expected.
- An older (superseded) version is a record: it is exported exactly as it was published,
  cancellations included, so it can be compared with what people were told at the time.

Phone numbers are written in the national form people dial in China ('13812345678', see
`phones.national`) for the people of the downloading coordinator's scope, and masked
('138****5678') for reinforcing volunteers from elsewhere -- the rule the roster pages follow
(`scope.phone_as_seen`). An internal caller (the CLI: `viewer` None) gets every number in full.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC
from functools import cached_property
from typing import Any

from flask_babel import gettext, pgettext
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.i18n import lazy_gettext as _l
from scheduler.i18n import localized_name
from scheduler.labels import SHIFT_LABELS
from scheduler.models import SHIFT_KINDS, Assignment, PlanningPeriod, Role, Roster, Site
from scheduler.models.accounts import name_sort_key
from scheduler.models.base import MAX_ID
from scheduler.services import audit, publishing, scope
from scheduler.services.coverage import coverage_sites, held_of, roster_coverage
from scheduler.services.duty import version_rows
from scheduler.services.errors import ServiceError
from scheduler.services.spreadsheets import (
    CSV_MEDIA_TYPE,
    SHEET_TITLE_BAD,
    XLSX_MEDIA_TYPE,
    csv_bytes,
    sheet_titles,
    write_table,
)

__all__ = [
    "CSV_COLUMNS",
    "CSV_MEDIA_TYPE",
    "XLSX_MEDIA_TYPE",
    "ExportError",
    "RosterExport",
    "export_filename",
    "roster_csv",
    "roster_for_export",
    "roster_xlsx",
    "volunteer_totals",
]

CSV_COLUMNS = (
    "site",
    "site_kind",
    "date",
    "shift",
    "start",
    "end",
    "role",
    "volunteer_name",
    "volunteer_phone",
    "work_unit",
    "home_union",
)


class ExportError(ServiceError):
    """Why there is nothing to export (unknown period or version, nothing published)."""


@dataclass
class RosterExport:
    """The assignments of one published version of a period, ready to write.

    `current` is True for the latest version (rows without cancelled shifts), False for a
    superseded one (rows as published)."""

    period: PlanningPeriod
    roster: Roster
    current: bool
    rows: list[Assignment] = field(default_factory=list)
    # Who downloads it (None: an internal caller, the CLI): whose numbers are masked.
    viewer: Any = None

    def phone(self, a: Assignment) -> str:
        """The volunteer's number as the viewer may read it (see the module docstring)."""
        return scope.phone_as_seen(a.volunteer.user.phone, a.volunteer.organisation_id, self._sees)

    @cached_property
    def _sees(self) -> Callable[[int | None], bool]:
        return scope.node_filter(self.viewer)

    @property
    def version(self) -> int:
        assert self.roster.version is not None
        return self.roster.version


def roster_for_export(
    period_id: int, version: int | None = None, viewer: Any = None
) -> RosterExport:
    """The rows of the period's published `version` (the latest when None), for `viewer`
    (None: an internal caller); see the module docstring for how cancellations count and whose
    numbers are masked. Raises ExportError for an unknown period, a period with nothing
    published, or an unknown version."""
    period = db.session.get(PlanningPeriod, period_id) if 1 <= period_id <= MAX_ID else None
    if period is None:
        raise ExportError(_l("There is no planning period %(id)d.", id=period_id))
    try:
        roster, latest = publishing.published_or_latest(period, version)
    except publishing.VersionNotFound as error:
        raise ExportError(error.message) from error
    return RosterExport(
        period, roster, roster.id == latest.id, version_rows(roster, latest), viewer
    )


def _record(export: RosterExport, what: str) -> None:
    audit.record_export(
        what,
        audit.Summary("version", {"name": export.period.name, "number": export.version}),
        {"version": export.version, "rows": len(export.rows)},
        period_id=export.period.id,
    )


def _work_unit(a: Assignment) -> str:
    unit = a.volunteer.work_unit
    return unit.name if unit is not None else ""


def home_union(a: Assignment) -> str:
    """The volunteer's node of the union tree (grassroots, else district): where a
    reinforcement comes from. Loaded with the rows (services.duty), no query per row."""
    node = a.volunteer.organisation
    return node.name if node is not None else ""


# CSV ---------------------------------------------------------------------------------------


def roster_csv(export: RosterExport) -> bytes:
    """One row per assignment under a header of CSV_COLUMNS, UTF-8 with a byte order mark
    (so Excel opens Chinese correctly), CRLF line ends. `start`/`end` are ISO 8601 with the
    site's UTC offset ('2026-12-07T23:00:00+08:00'); a shift belongs to the date it starts,
    so a night shift crossing midnight ends on the next date. `site_kind` and `shift` are
    codes ('checkpoint', 'night'); `role` is the role's name in the current language; the
    phone is national ('13812345678') or masked (see the module docstring). Recorded in the
    audit log."""
    _record(export, "roster_csv")
    rows = []
    for a in export.rows:
        start, end = a.site.shift_window(a.day, a.shift)
        rows.append(
            [
                a.site.name,
                a.site.kind,
                a.day.isoformat(),
                a.shift,
                start.isoformat(),
                end.isoformat(),
                localized_name(a.role),
                a.volunteer.user.name,
                export.phone(a),
                _work_unit(a),
                home_union(a),
            ]
        )
    return csv_bytes(CSV_COLUMNS, rows)


# XLSX --------------------------------------------------------------------------------------


@dataclass
class _Totals:
    name: str
    pinyin: str
    work_unit: str
    phone: str
    shifts: int = 0
    nights: int = 0
    hours: float = 0.0


def volunteer_totals(
    rows: Iterable[Assignment], phone: Callable[[Assignment], str]
) -> list[_Totals]:
    """Per volunteer: shifts, night shifts and rostered hours (from the shift windows, so a
    shift across a daylight-saving change counts its real length), by name. `phone` writes
    the number as the reader may see it (an export's `RosterExport.phone`: required, so no
    caller writes numbers in full by forgetting it)."""
    totals: dict[int, _Totals] = {}
    for a in rows:
        t = totals.get(a.volunteer_id)
        if t is None:
            user = a.volunteer.user
            number = phone(a)
            t = totals[a.volunteer_id] = _Totals(
                user.name, user.name_pinyin or user.name, _work_unit(a), number
            )
        start, end = a.site.shift_window(a.day, a.shift)
        t.shifts += 1
        t.nights += a.shift == "night"
        # In UTC: subtracting two times of one zone would ignore a clock change between them.
        t.hours += (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() / 3600
    return sorted(totals.values(), key=lambda t: (t.pinyin, t.phone))


def roster_xlsx(export: RosterExport) -> bytes:
    """The workbook: one sheet per site (the period's sites and any site in the rows, by
    name in pinyin order), rows of date, shift, local start–end, role, volunteer, work unit
    and phone (masked for reinforcements from elsewhere); then a sheet of coverage (posts
    needed, filled, unfilled, above the head count per site, date, shift and role) and one of
    totals per volunteer. Labels in the
    current language. Recorded in the audit log."""
    _record(export, "roster_xlsx")
    sites: dict[int, Site] = {s.id: s for s in export.period.sites if s.archived_at is None}
    by_site: dict[int, list[Assignment]] = {}
    for a in export.rows:
        sites.setdefault(a.site_id, a.site)
        by_site.setdefault(a.site_id, []).append(a)
    ordered = sorted(sites.values(), key=lambda s: (name_sort_key(s.name), s.id))
    people_title = gettext("Volunteers")
    coverage_title = gettext("Coverage")
    titles = sheet_titles([s.name for s in ordered], reserved=[people_title, coverage_title])

    wb = Workbook()
    wb.remove(wb.active)
    header = [
        gettext("Date"),
        gettext("Shift"),
        gettext("Time"),
        gettext("Role"),
        pgettext("person", "Name"),
        gettext("Work unit"),
        gettext("Home union"),
        gettext("Phone"),
    ]
    for site, title in zip(ordered, titles, strict=True):
        ws = wb.create_sheet(title)
        rows: list[list[object]] = []
        for a in by_site.get(site.id, []):
            rows.append(
                [
                    a.day,
                    str(SHIFT_LABELS.get(a.shift, a.shift)),
                    site.shift_span(a.day, a.shift),
                    localized_name(a.role),
                    a.volunteer.user.name,
                    _work_unit(a),
                    home_union(a),
                    export.phone(a),
                ]
            )
        write_table(ws, header, rows, formats={1: "yyyy-mm-dd"})

    _coverage_sheet(wb.create_sheet(coverage_title), export, sites)
    ws = wb.create_sheet(people_title)
    write_table(
        ws,
        [
            pgettext("person", "Name"),
            gettext("Work unit"),
            gettext("Phone"),
            gettext("Shifts"),
            gettext("Night shifts"),
            gettext("Rostered hours"),
        ],
        [
            [t.name, t.work_unit, t.phone, t.shifts, t.nights, _number(t.hours)]
            for t in volunteer_totals(export.rows, export.phone)
        ],
        formats={6: "0.##"},
    )
    wb.active = 0
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _coverage_sheet(ws: Worksheet, export: RosterExport, sites: dict[int, Site]) -> None:
    """Per site, date, shift and role: posts needed, filled, unfilled and people above the
    head count, counted the one way the pages count them (services.coverage) from the rows
    the file holds; a last row sums them."""
    coverage = roster_coverage(export.period, held_of(export.rows))
    roles = {a.role_id: a.role for a in export.rows}
    missing = {key[3] for key in coverage.needs} - roles.keys()
    if missing:
        roles.update(
            {r.id: r for r in db.session.scalars(select(Role).where(Role.id.in_(missing)))}
        )
    order = {kind: i for i, kind in enumerate(SHIFT_KINDS)}
    for site in coverage_sites(export.period, coverage):
        sites.setdefault(site.id, site)
    keys = sorted(
        coverage.needs,
        key=lambda k: (
            name_sort_key(sites[k[0]].name),
            k[1],
            order.get(k[2], 9),
            roles[k[3]].sort_order,
        ),
    )
    rows: list[list[object]] = []
    for site_id, day, kind, role_id in keys:
        c = coverage.needs[(site_id, day, kind, role_id)]
        rows.append(
            [
                sites[site_id].name,
                day,
                str(SHIFT_LABELS.get(kind, kind)),
                localized_name(roles[role_id]),
                c.needed,
                c.filled,
                c.unfilled,
                c.surplus,
            ]
        )
    total = coverage.total
    rows.append(
        [
            gettext("Total"),
            None,
            None,
            None,
            total.needed,
            total.filled,
            total.unfilled,
            total.surplus,
        ]
    )
    write_table(
        ws,
        [
            gettext("Site"),
            gettext("Date"),
            gettext("Shift"),
            gettext("Role"),
            gettext("Posts"),
            gettext("Filled"),
            gettext("Unfilled"),
            gettext("Above the head count"),
        ],
        rows,
        formats={2: "yyyy-mm-dd"},
    )


def _number(hours: float) -> int | float:
    return int(hours) if hours == int(hours) else round(hours, 2)


# File names --------------------------------------------------------------------------------


def export_filename(export: RosterExport, extension: str) -> tuple[str, str]:
    """(the file's name as people read it, an ASCII fallback) for a download:
    ('第一期-v2.csv', 'roster-period-3-v2.csv')."""
    name = SHEET_TITLE_BAD.sub("_", "".join(ch for ch in export.period.name if ch.isprintable()))
    name = name.replace('"', "_").strip() or "roster"
    suffix = f"-v{export.version}.{extension}"
    return name + suffix, f"roster-period-{export.period.id}{suffix}"
