"""Planning periods: a date range and the sites to roster in it; open while volunteers enter
their availability for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from scheduler.extensions import db
from scheduler.i18n import lazy_gettext as _l
from scheduler.models import ADMIN, COORDINATOR, PlanningPeriod, Site, User
from scheduler.models.base import utcnow
from scheduler.models.planning import MAX_PERIOD_DAYS, MAX_REMINDER_HOURS
from scheduler.services import audit, scope
from scheduler.services.errors import ServiceError
from scheduler.services.reminders import parse_clock, sync_reminders

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
    # Reminders before each shift: the evening before at "HH:MM" local ("" none), and this
    # many hours before the start (None: none).
    reminder_evening_at: str = "18:00"
    reminder_hours_before: int | None = 2


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
    if data.reminder_evening_at.strip() and parse_clock(data.reminder_evening_at) is None:
        raise PeriodError(
            _l("Enter a time like 18:00, or leave it empty for no reminder."),
            "reminder_evening_at",
        )
    hours = data.reminder_hours_before
    if hours is not None and not 1 <= hours <= MAX_REMINDER_HOURS:
        raise PeriodError(
            _l(
                "Enter 1 to %(n)d hours, or leave it empty for no reminder.",
                n=MAX_REMINDER_HOURS,
            ),
            "reminder_hours_before",
        )
    return name, [allowed[site_id] for site_id in wanted]


def save_period(
    period: PlanningPeriod | None, data: PeriodData, user: Any = None
) -> PlanningPeriod:
    """Create (period=None) or update a period in one commit; raises PeriodError with nothing
    written. A new period starts open for availability. It belongs to the one node all its
    sites share, else to the node of whoever saves it (`user`), else the city's; sites are
    chosen from `user`'s scope. New reminder times move the pending reminders of its
    published posts."""
    name, sites = _validate(data, period, user)
    before = _audited(period) if period is not None else None
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
    clock = parse_clock(data.reminder_evening_at)
    evening = f"{clock:%H:%M}" if clock is not None else None
    moved = (evening, data.reminder_hours_before) != (
        period.reminder_evening_at,
        period.reminder_hours_before,
    )
    period.reminder_evening_at = evening
    period.reminder_hours_before = data.reminder_hours_before
    if moved and period.id is not None:
        sync_reminders(period)
    db.session.flush()
    _record(
        audit.PERIOD_CREATE if before is None else audit.PERIOD_UPDATE,
        period,
        before=before or {},
        after=_audited(period),
    )
    db.session.commit()
    return period


AUDITED_FIELDS = ("name", "start_date", "end_date", "deprioritise_no_shows", "contact_id")


def _audited(period: PlanningPeriod) -> dict[str, object]:
    values = audit.snapshot(period, AUDITED_FIELDS)
    values["site_ids"] = sorted(site.id for site in period.sites)
    return values


def _record(action: str, period: PlanningPeriod, **kwargs: Any) -> None:
    audit.record(
        action,
        object_type="period",
        object_id=period.id,
        summary=period.name,
        period_id=period.id,
        **kwargs,
    )


def _node_of_period(sites: list[Site], user: Any, current: int | None) -> int | None:
    nodes = {site.organisation_id for site in sites}
    if len(nodes) == 1 and None not in nodes:
        return nodes.pop()
    if current is not None:
        return current
    return scope.home_node_id(user)


def set_open(period: PlanningPeriod, is_open: bool) -> None:
    """Open a period for availability entry, or close it (volunteers can no longer change it).
    An ended period (close_period) is not opened again: PeriodError."""
    if period.is_open == is_open:
        return
    _refuse_if_ended(period, is_open)
    period.is_open = is_open
    _record(audit.PERIOD_OPEN if is_open else audit.PERIOD_LOCK, period)
    db.session.commit()


def set_self_signup(period: PlanningPeriod, is_open: bool) -> None:
    """Let volunteers claim open posts of the period's draft, or stop it (claims stay)."""
    if period.self_signup_open == is_open:
        return
    _refuse_if_ended(period, is_open)
    before = audit.snapshot(period, ("self_signup_open",))
    period.self_signup_open = is_open
    _record(
        audit.PERIOD_SIGNUP,
        period,
        before=before,
        after=audit.snapshot(period, ("self_signup_open",)),
    )
    db.session.commit()


def set_reinforcements(period: PlanningPeriod, node_ids: list[int], by: Any) -> None:
    """Open `period` to the volunteers of the chosen unions (the city's node: every district),
    or close it again (no ids): see scheduler.services.scope.draws_on. Only someone
    `scope.may_open_to_others` allows; ids must be among `scope.reinforcement_choices`.
    Volunteers already on the draft stay there until the next run or hand edit. Commits."""
    if not scope.may_open_to_others(by, period):
        raise PeriodError(_l("Only the city union, or a district it allows, may do this."))
    choices = {n.id: n for n in scope.reinforcement_choices(period)}
    if any(node_id not in choices for node_id in node_ids):
        raise PeriodError(_l("Choose among the unions listed."), "node_ids")
    before = sorted(n.name for n in period.reinforcements)
    period.reinforcements = [choices[node_id] for node_id in sorted(set(node_ids))]
    after = sorted(n.name for n in period.reinforcements)
    if before == after:
        return
    _record(
        audit.PERIOD_REINFORCE,
        period,
        before={"reinforcements": before},
        after={"reinforcements": after},
        actor=by,
    )
    db.session.commit()


def _refuse_if_ended(period: PlanningPeriod, opening: bool) -> None:
    if opening and period.closed_at is not None:
        raise PeriodError(_l("This period has ended: it cannot be opened again."))


def close_period(period: PlanningPeriod, now: datetime | None = None) -> None:
    """The emergency is over: close the period for good (no more availability, no self-sign-
    up). RETENTION_DAYS later its volunteers' personal data is anonymised unless they serve
    in a later period (scheduler.services.retention). Raises PeriodError if already closed."""
    if period.closed_at is not None:
        raise PeriodError(_l("This period has already ended."))
    before = audit.snapshot(period, ("closed_at", "is_open", "self_signup_open"))
    period.closed_at = now or utcnow()
    period.is_open = False
    period.self_signup_open = False
    _record(
        audit.PERIOD_CLOSE,
        period,
        before=before,
        after=audit.snapshot(period, ("closed_at", "is_open", "self_signup_open")),
    )
    db.session.commit()
