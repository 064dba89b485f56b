"""The coordinator's dashboard: headline counts and the availability heat map of an open period
(volunteers available per date and shift against the head count the period's sites need).
Everything is computed with grouped queries, so the cost does not grow with the pool size in
number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, func, or_, select

from scheduler.extensions import db
from scheduler.models import (
    SHIFT_KINDS,
    Assignment,
    Availability,
    Demand,
    PlanningPeriod,
    Site,
    User,
    Volunteer,
    period_sites,
)
from scheduler.planning import current_draft
from scheduler.services import my_shifts, publishing, rosters
from scheduler.services.coverage import Count, NeedKey, held_in, roster_coverage
from scheduler.services.periods import period_days
from scheduler.services.urgent import RequestStatus


@dataclass(frozen=True)
class Counts:
    """Headline numbers."""

    volunteers: int
    active_sites: int
    open_periods: int


@dataclass(frozen=True)
class HeatCell:
    """One date and shift: volunteers available, head count needed, and the shade (0..1)."""

    available: int
    needed: int
    intensity: float

    @property
    def short(self) -> bool:
        return self.available < self.needed


@dataclass(frozen=True)
class HeatMap:
    """Rows of (date, {shift: cell}) for a period."""

    period: PlanningPeriod
    rows: list[tuple[date, dict[str, HeatCell]]]
    needed: dict[str, int]
    max_available: int


def counts() -> Counts:
    """Active volunteers, active (not archived) sites and open planning periods."""
    volunteers = db.session.scalar(
        select(func.count(Volunteer.id)).join(Volunteer.user).where(User.active.is_(True))
    )
    sites = db.session.scalar(select(func.count(Site.id)).where(Site.archived_at.is_(None)))
    periods = db.session.scalar(
        select(func.count(PlanningPeriod.id)).where(PlanningPeriod.is_open.is_(True))
    )
    return Counts(volunteers=volunteers or 0, active_sites=sites or 0, open_periods=periods or 0)


def availability_counts(period: PlanningPeriod) -> dict[tuple[date, str], int]:
    """Active volunteers available per (date, shift) within the period: one GROUP BY."""
    rows = db.session.execute(
        select(Availability.day, Availability.shift, func.count())
        .join(Volunteer, Volunteer.id == Availability.volunteer_id)
        .join(User, User.id == Volunteer.user_id)
        .where(
            User.active.is_(True),
            Availability.day.between(period.start_date, period.end_date),
        )
        .group_by(Availability.day, Availability.shift)
    )
    return {(day, shift): count for day, shift, count in rows}


def demand_per_shift(period: PlanningPeriod) -> dict[str, int]:
    """Head count needed per shift kind on each date, summed over the period's active sites
    that run that shift: one GROUP BY."""
    runs = or_(*(and_(Demand.shift == kind, getattr(Site, f"runs_{kind}")) for kind in SHIFT_KINDS))
    rows = db.session.execute(
        select(Demand.shift, func.sum(Demand.headcount))
        .join(Site, Site.id == Demand.site_id)
        .join(period_sites, period_sites.c.site_id == Site.id)
        .where(period_sites.c.period_id == period.id, Site.archived_at.is_(None), runs)
        .group_by(Demand.shift)
    )
    needed = dict.fromkeys(SHIFT_KINDS, 0)
    needed.update({shift: int(total or 0) for shift, total in rows})
    return needed


def heat_map(period: PlanningPeriod) -> HeatMap:
    """The availability heat map of one period; shades are relative to the busiest cell."""
    available = availability_counts(period)
    needed = demand_per_shift(period)
    peak = max(available.values(), default=0)
    rows = []
    for day in period_days(period):
        cells = {}
        for shift in SHIFT_KINDS:
            count = available.get((day, shift), 0)
            cells[shift] = HeatCell(
                available=count, needed=needed[shift], intensity=count / peak if peak else 0.0
            )
        rows.append((day, cells))
    return HeatMap(period=period, rows=rows, needed=needed, max_available=peak)


# --- what to do next ---------------------------------------------------------------------

# The one step that moves a period forward, most urgent first (PeriodState.step).
RUNNING_STEP, URGENT_STEP, REPAIR_STEP, PUBLISH_STEP, GENERATE_STEP, UP_TO_DATE, WAIT_STEP = (
    "running",
    "urgent",
    "repair",
    "publish",
    "generate",
    "up_to_date",
    "wait",
)


@dataclass
class PeriodState:
    """Where an open period stands, and its next step (one of the *_STEP codes):

    - `offered`: volunteers who entered availability for it;
    - `draft`: the draft's coverage (services.coverage), None without a draft;
    - `published`: the latest published version's number; `changes`: volunteers whose posts
      the draft changes against it (every rostered volunteer when nothing is published);
      `publishable`: publishing the draft would not repeat that version (publishing.repeats);
    - `cancelled`: published posts their volunteer cancelled that the draft has not filled
      again (holes waiting for repair);
    - `urgent`: urgent requests of the period still open or partly filled, soonest first."""

    period: PlanningPeriod
    offered: int
    solving: bool
    draft: Count | None
    published: int | None
    changes: int
    publishable: bool
    cancelled: int
    urgent: list[RequestStatus] = field(default_factory=list)

    @property
    def step(self) -> str:
        if self.solving:
            return RUNNING_STEP
        if self.urgent:
            return URGENT_STEP
        if self.cancelled:
            return REPAIR_STEP
        if self.draft is not None and self.publishable:
            return PUBLISH_STEP
        if self.draft is None:
            return GENERATE_STEP if self.offered else WAIT_STEP
        return UP_TO_DATE


def period_states(
    periods: list[PlanningPeriod], urgent_waiting: list[RequestStatus]
) -> list[PeriodState]:
    """The state and next step of each period (the dashboard's first section)."""
    states = []
    for period in periods:
        draft = current_draft(period.id)
        latest = publishing.latest_published(period.id)
        changes, coverage, publishable = 0, None, False
        if draft is not None:
            changes = publishing.changed_people(latest, draft)
            publishable = latest is None or not publishing.repeats(draft, changes)
            coverage = roster_coverage(period, held_in(draft.id))
        holes = my_shifts.cancelled_posts(period) if latest is not None else []
        waiting = [
            hole
            for hole in holes
            if coverage is None or coverage.needs.get(_need_of(hole.assignment), Count()).unfilled
        ]
        offered = db.session.scalar(
            select(func.count(func.distinct(Availability.volunteer_id))).where(
                Availability.day.between(period.start_date, period.end_date)
            )
        )
        states.append(
            PeriodState(
                period=period,
                offered=offered or 0,
                solving=rosters.solving(period.id),
                draft=coverage.total if coverage is not None else None,
                published=latest.version if latest is not None else None,
                changes=changes,
                publishable=publishable,
                cancelled=len(waiting),
                urgent=[s for s in urgent_waiting if s.request.period_id == period.id],
            )
        )
    return states


def _need_of(a: Assignment) -> NeedKey:
    return (a.site_id, a.day, a.shift, a.role_id)
