"""Planning periods: a date range and the sites to roster in it; open while volunteers enter
their availability for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from scheduler.extensions import db
from scheduler.models import ADMIN, COORDINATOR, PlanningPeriod, Site, User
from scheduler.models.planning import MAX_PERIOD_DAYS
from scheduler.services import scope
from scheduler.services.errors import ServiceError

MAX_NAME_LENGTH = 100


class PeriodError(ServiceError):
    """Why a period cannot be saved; `field` names the form field the message belongs to."""


@dataclass
class PeriodData:
    """The values the period form edits."""

    name: str
    start_date: date
    end_date: date
    site_ids: list[int] = field(default_factory=list)
    # Volunteers with 2 or more no-shows before the period are rostered only when needed.
    deprioritise_no_shows: bool = False
    # The coordinator on duty (User id), or None: volunteers are shown every coordinator.
    contact_id: int | None = None


def list_periods(user: Any = None) -> list[PlanningPeriod]:
    """All periods (those in `user`'s scope when given), newest first, with their sites."""
    stmt = (
        select(PlanningPeriod)
        .options(selectinload(PlanningPeriod.sites))
        .order_by(PlanningPeriod.start_date.desc(), PlanningPeriod.id.desc())
    )
    if user is not None:
        stmt = scope.restrict(stmt, PlanningPeriod.organisation_id, user)
    return list(db.session.scalars(stmt))


def selectable_sites(period: PlanningPeriod | None, user: Any = None) -> list[Site]:
    """Sites a period may cover: the active ones (in `user`'s scope when given) plus any
    archived site it already covers (so editing an old period does not silently drop it)."""
    stmt = select(Site).where(Site.archived_at.is_(None)).order_by(Site.name)
    if user is not None:
        stmt = scope.restrict(stmt, Site.organisation_id, user)
    sites = list(db.session.scalars(stmt))
    if period is not None:
        known = {site.id for site in sites}
        sites += [site for site in period.sites if site.id not in known]
    return sites


def period_contacts(period: PlanningPeriod | None = None, user: Any = None) -> list[User]:
    """Who may be a period's coordinator on duty: active coordinators and admins (those
    appointed within `user`'s scope, when given), by name (plus the period's current one, so
    editing never drops it silently)."""
    people = list(
        db.session.scalars(
            scope.restrict(
                select(User)
                .where(User.active.is_(True), User.role.in_((COORDINATOR, ADMIN)))
                .order_by(User.name_pinyin, User.id),
                User.organisation_id,
                user,
            )
        )
    )
    if period is not None and period.contact is not None and period.contact not in people:
        people.append(period.contact)
    return people


def _validate(
    data: PeriodData, period: PlanningPeriod | None, user: Any = None
) -> tuple[str, list[Site]]:
    name = (data.name or "").strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise PeriodError(_l("Name must be 1 to %(n)d characters.", n=MAX_NAME_LENGTH), "name")
    if data.end_date < data.start_date:
        raise PeriodError(_l("The end date must not be before the start date."), "end_date")
    days = (data.end_date - data.start_date).days + 1
    if days > MAX_PERIOD_DAYS:
        raise PeriodError(
            _l("A period can be at most %(n)d days long.", n=MAX_PERIOD_DAYS), "end_date"
        )
    allowed = {site.id: site for site in selectable_sites(period, user)}
    wanted = list(dict.fromkeys(data.site_ids))
    if any(site_id not in allowed for site_id in wanted):
        raise PeriodError(_l("Choose sites from the list."), "site_ids")
    if data.contact_id is not None and data.contact_id not in {
        u.id for u in period_contacts(period, user)
    }:
        raise PeriodError(_l("Choose a coordinator from the list."), "contact_id")
    return name, [allowed[site_id] for site_id in wanted]


def save_period(
    period: PlanningPeriod | None, data: PeriodData, user: Any = None
) -> PlanningPeriod:
    """Create (period=None) or update a period in one commit; raises PeriodError with nothing
    written. A new period starts open for availability. It belongs to the one node all its
    sites share, else to the node of whoever saves it (`user`), else the city's; sites are
    chosen from `user`'s scope."""
    name, sites = _validate(data, period, user)
    if period is None:
        period = PlanningPeriod(is_open=True)
        db.session.add(period)
    period.name = name
    period.start_date = data.start_date
    period.end_date = data.end_date
    period.sites = sites
    period.deprioritise_no_shows = bool(data.deprioritise_no_shows)
    period.contact_id = data.contact_id
    period.organisation_id = _node_of_period(sites, user, period.organisation_id)
    db.session.commit()
    return period


def _node_of_period(sites: list[Site], user: Any, current: int | None) -> int | None:
    nodes = {site.organisation_id for site in sites}
    if len(nodes) == 1 and None not in nodes:
        return nodes.pop()
    if current is not None:
        return current
    return scope.home_node_id(user)


def set_open(period: PlanningPeriod, is_open: bool) -> None:
    """Open a period for availability entry, or close it (volunteers can no longer change it)."""
    period.is_open = is_open
    db.session.commit()
