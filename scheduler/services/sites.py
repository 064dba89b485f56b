"""Sites (点位): creating, editing, archiving, and their demand per shift and role.

Every change is validated completely before any model object is touched, then written in one
commit, so a rejected form never leaves half a site (or half its demand grid) behind."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from scheduler.extensions import db
from scheduler.i18n import lazy_gettext as _l
from scheduler.models import (
    SHIFT_KINDS,
    SITE_KINDS,
    Assignment,
    Demand,
    District,
    PlanningPeriod,
    Role,
    Roster,
    Site,
)
from scheduler.models.base import utcnow
from scheduler.models.rosters import PUBLISHED
from scheduler.services import audit, scope
from scheduler.services.errors import ServiceError
from scheduler.services.reminders import sync_reminders
from scheduler.services.robots import RobotError, check_robot

DEFAULT_TIMEZONE = "Asia/Shanghai"
MAX_NAME_LENGTH = 100
MAX_ADDRESS_LENGTH = 200
MAX_TIMEZONE_LENGTH = 50
MAX_HEADCOUNT = 200

# What a new site of each kind usually needs per shift (role code -> head count), and which
# shifts it runs: checkpoints run around the clock, testing sites only in the daytime.
DEFAULT_DEMAND: dict[str, tuple[tuple[str, ...], dict[str, int]]] = {
    "checkpoint": (
        SHIFT_KINDS,
        {"site_lead": 1, "code_checker": 2, "temperature": 1, "registrar": 1},
    ),
    "testing": (
        ("day", "evening"),
        {"site_lead": 1, "sampler": 2, "registrar": 2, "queue_marshal": 2},
    ),
    "other": (("day",), {"site_lead": 1}),
}

# (shift, role id) -> head count
DemandGrid = dict[tuple[str, int], int]


class SiteError(ServiceError):
    """Why a site cannot be saved; `field` names the form field the message belongs to."""


@dataclass
class SiteData:
    """Everything the site form edits, already parsed into Python values."""

    kind: str
    name: str
    address: str = ""
    district_id: int | None = None
    timezone: str = DEFAULT_TIMEZONE
    first_shift_hour: int = 0
    shifts: tuple[str, ...] = SHIFT_KINDS
    demand: DemandGrid = field(default_factory=dict)
    # The site's group chat robot (services.robots); no URL: none.
    robot_kind: str | None = None
    robot_url: str | None = None
    robot_secret: str | None = None


def shift_label_hours(first_shift_hour: int) -> dict[str, str]:
    """'00–08' style start–end labels for each shift kind, given the night shift's start hour."""
    labels = {}
    for index, kind in enumerate(SHIFT_KINDS):
        start = (first_shift_hour + 8 * index) % 24
        end = (start + 8) % 24 or 24
        labels[kind] = f"{start:02d}–{end:02d}"
    return labels


def catalogue_roles() -> list[Role]:
    """Roles in catalogue order: the rows of every demand grid."""
    return list(db.session.scalars(select(Role).order_by(Role.sort_order, Role.id)))


def default_site_data(kind: str, roles: Iterable[Role]) -> SiteData:
    """A new site's suggested shift pattern and demand for its kind."""
    shifts, per_role = DEFAULT_DEMAND.get(kind, DEFAULT_DEMAND["other"])
    by_code = {role.code: role.id for role in roles}
    demand = {
        (shift, by_code[code]): count
        for shift in shifts
        for code, count in per_role.items()
        if code in by_code
    }
    return SiteData(
        kind=kind if kind in SITE_KINDS else "other", name="", shifts=shifts, demand=demand
    )


def site_data_of(site: Site) -> SiteData:
    """The editable values of an existing site."""
    return SiteData(
        kind=site.kind,
        name=site.name,
        address=site.address,
        district_id=site.district_id,
        timezone=site.timezone,
        first_shift_hour=site.first_shift_hour,
        shifts=site.shift_kinds,
        demand={(d.shift, d.role_id): d.headcount for d in site.demands},
        robot_kind=site.robot_kind,
        robot_url=site.robot_url,
        robot_secret=site.robot_secret,
    )


def list_sites(include_archived: bool = False, user: Any = None) -> list[Site]:
    """Sites by name (those in `user`'s scope when given); archived ones only when asked.
    Districts and demand are loaded up front so the list renders without a query per row."""
    query = (
        select(Site)
        .options(selectinload(Site.district), selectinload(Site.demands))
        .order_by(Site.archived_at.is_not(None), Site.name)
    )
    if not include_archived:
        query = query.where(Site.archived_at.is_(None))
    if user is not None:
        query = scope.restrict(query, Site.organisation_id, user)
    return list(db.session.scalars(query))


def get_site(site_id: int) -> Site | None:
    """One site with its demand, or None."""
    return db.session.scalar(
        select(Site).options(selectinload(Site.demands)).where(Site.id == site_id)
    )


def _validate(data: SiteData, site: Site | None, user: Any = None) -> SiteData:
    name = (data.name or "").strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise SiteError(_l("Name must be 1 to %(n)d characters.", n=MAX_NAME_LENGTH), "name")
    if data.kind not in SITE_KINDS:
        raise SiteError(_l("Choose a kind of site."), "kind")
    address = (data.address or "").strip()
    if len(address) > MAX_ADDRESS_LENGTH:
        raise SiteError(
            _l("Address must be at most %(n)d characters.", n=MAX_ADDRESS_LENGTH), "address"
        )
    timezone = (data.timezone or "").strip() or DEFAULT_TIMEZONE
    if len(timezone) > MAX_TIMEZONE_LENGTH or not is_valid_timezone(timezone):
        raise SiteError(_l("Unknown time zone, e.g. Asia/Shanghai."), "timezone")
    if not 0 <= data.first_shift_hour <= 23:
        raise SiteError(_l("The first shift starts at an hour from 0 to 23."), "first_shift_hour")
    shifts = tuple(kind for kind in SHIFT_KINDS if kind in set(data.shifts))
    if not shifts:
        raise SiteError(_l("Choose at least one shift the site runs."), "shifts")
    district = db.session.get(District, data.district_id) if data.district_id is not None else None
    if data.district_id is not None and (district is None or not scope.in_scope(district, user)):
        raise SiteError(_l("Choose a district from the list."), "district_id")
    if district is None and user is not None and not scope.sees_everything(user):
        # A site without a district belongs to the city: it would vanish from this list.
        raise SiteError(_l("Choose a district from the list."), "district_id")
    role_ids = set(db.session.scalars(select(Role.id)))
    demand: DemandGrid = {}
    for (shift, role_id), count in data.demand.items():
        if shift not in shifts:
            continue  # a column the site does not run: its numbers are ignored, not stored
        if role_id not in role_ids:
            raise SiteError(_l("Unknown role in the demand."), "demand")
        if not 0 <= count <= MAX_HEADCOUNT:
            raise SiteError(
                _l("Head counts are whole numbers from 0 to %(n)d.", n=MAX_HEADCOUNT), "demand"
            )
        if count:
            demand[(shift, role_id)] = count
    clash = select(Site.id).where(Site.name == name)
    if site is not None and site.id is not None:
        clash = clash.where(Site.id != site.id)
    if db.session.scalar(clash) is not None:
        raise SiteError(_l("A site with this name already exists."), "name")
    try:
        robot = check_robot(
            data.robot_kind,
            data.robot_url,
            data.robot_secret,
            bool(current_app.config.get("ROBOT_ALLOW_ANY_URL")),
        )
    except RobotError as error:
        raise SiteError(error.message, error.field) from error
    return SiteData(
        kind=data.kind,
        name=name,
        address=address,
        district_id=data.district_id,
        timezone=timezone,
        first_shift_hour=data.first_shift_hour,
        shifts=shifts,
        demand=demand,
        robot_kind=robot[0],
        robot_url=robot[1],
        robot_secret=robot[2],
    )


def is_valid_timezone(name: str) -> bool:
    """Whether zoneinfo knows `name` (an IANA zone such as Asia/Shanghai)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def save_site(site: Site | None, data: SiteData, user: Any = None) -> Site:
    """Create (site=None) or update a site and its demand grid in one commit. Raises SiteError
    with nothing written. Demand rows are updated in place (never deleted and re-inserted) so
    the unique (site, shift, role) constraint holds within the flush."""
    clean = _validate(data, site, user)
    # Read the current rows before changing anything, so no lazy load autoflushes half an edit.
    existing = {(d.shift, d.role_id): d for d in site.demands} if site is not None else {}
    before = _audited(site_data_of(site)) if site is not None else None
    if site is None:
        site = Site()
        db.session.add(site)
    site.kind = clean.kind
    site.name = clean.name
    site.address = clean.address
    site.district_id = clean.district_id
    moved = site.id is not None and (
        site.timezone != clean.timezone or site.first_shift_hour != clean.first_shift_hour
    )
    site.timezone = clean.timezone
    site.first_shift_hour = clean.first_shift_hour
    site.robot_kind, site.robot_url = clean.robot_kind, clean.robot_url
    site.robot_secret = clean.robot_secret
    for kind in SHIFT_KINDS:
        setattr(site, f"runs_{kind}", kind in clean.shifts)
    for key, stale in existing.items():
        if key not in clean.demand:
            site.demands.remove(stale)  # delete-orphan: zero or a shift no longer run
    for (shift, role_id), count in clean.demand.items():
        row = existing.get((shift, role_id))
        if row is None:
            site.demands.append(Demand(shift=shift, role_id=role_id, headcount=count))
        else:
            row.headcount = count
    try:
        if moved:  # its shifts start at other times: their reminders move with them
            for period in rostered_periods(site):
                sync_reminders(period)
        db.session.flush()
        audit.record(
            audit.SITE_CREATE if before is None else audit.SITE_UPDATE,
            object_type="site",
            object_id=site.id,
            summary=site.name,
            before=before or {},
            after=_audited(clean),
            site_id=site.id,
            district_id=site.district_id,
        )
        db.session.commit()
    except IntegrityError as error:  # a concurrent save took the name first
        db.session.rollback()
        raise SiteError(_l("A site with this name already exists."), "name") from error
    return site


def rostered_periods(site: Site) -> list[PlanningPeriod]:
    """The periods with a published post at the site."""
    return list(
        db.session.scalars(
            select(PlanningPeriod).where(
                PlanningPeriod.id.in_(
                    select(Roster.period_id)
                    .join(Assignment, Assignment.roster_id == Roster.id)
                    .where(Assignment.site_id == site.id, Roster.status == PUBLISHED)
                )
            )
        )
    )


def set_archived(site: Site, archived: bool) -> None:
    """Archive a site (it keeps its data and history but is no longer offered or rostered) or
    bring it back."""
    if (site.archived_at is not None) == archived:
        return
    site.archived_at = utcnow() if archived else None
    audit.record(
        audit.SITE_ARCHIVE if archived else audit.SITE_RESTORE,
        object_type="site",
        object_id=site.id,
        summary=site.name,
        site_id=site.id,
        district_id=site.district_id,
    )
    db.session.commit()


def _audited(data: SiteData) -> dict[str, object]:
    """A site's form values as the audit log compares them, one key per demand cell
    ("demand day/3": head count of role 3 on the day shift) so a diff names just the cells
    that changed."""
    values: dict[str, object] = {
        "kind": data.kind,
        "name": data.name,
        "address": data.address,
        "district_id": data.district_id,
        "timezone": data.timezone,
        "first_shift_hour": data.first_shift_hour,
        "shifts": list(data.shifts),
    }
    for (shift, role), n in sorted(data.demand.items()):
        values[f"demand {shift}/{role}"] = n
    return values


def demand_totals(sites: Iterable[Site]) -> dict[int, int]:
    """Total head count per shift for each site id (for the site list)."""
    totals: dict[int, int] = {}
    for site in sites:
        runs = set(site.shift_kinds)
        totals[site.id] = sum(d.headcount for d in site.demands if d.shift in runs)
    return totals


def active_site_count() -> int:
    """How many sites are not archived."""
    return db.session.scalar(select(func.count(Site.id)).where(Site.archived_at.is_(None))) or 0
