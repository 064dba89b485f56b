"""The coordinator's dashboard: headline counts and the availability heat map of an open period
(volunteers whose offered hours cover each shift span, per date, against the head count the
period's sites need).
Everything is computed with grouped queries, so the cost does not grow with the pool size in
number of queries."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

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
from scheduler.models.sites import SHIFT_HOURS
from scheduler.services import lookups, my_shifts, publishing, rosters, scope
from scheduler.services.availability import DEFAULT_STARTS, Offer, span_index
from scheduler.services.coverage import Count, NeedKey, held_in, roster_coverage
from scheduler.services.lookups import current_draft
from scheduler.services.urgent import RequestStatus


@dataclass(frozen=True)
class Counts:
    """Headline numbers."""

    volunteers: int
    active_sites: int
    open_periods: int


@dataclass(frozen=True)
class HeatCell:
    """One date and span: volunteers available, head count needed, and the shade (0..1)."""

    available: int
    needed: int
    intensity: float

    @property
    def short(self) -> bool:
        return self.available < self.needed


@dataclass(frozen=True)
class HeatMap:
    """Rows of (date, {start hour: cell}) for a period; the columns are the spans its sites
    run (`starts`), each with the head count it needs on every date (`needed`)."""

    period: PlanningPeriod
    starts: tuple[int, ...]
    rows: list[tuple[date, dict[int, HeatCell]]]
    needed: dict[int, int]
    max_available: int


def counts(user: Any = None) -> Counts:
    """Active volunteers, active (not archived) sites and open planning periods (those in
    `user`'s scope when given)."""
    volunteers = db.session.scalar(
        scope.restrict(
            select(func.count(Volunteer.id)).join(Volunteer.user).where(User.active.is_(True)),
            Volunteer.organisation_id,
            user,
        )
    )
    sites = db.session.scalar(
        scope.restrict(
            select(func.count(Site.id)).where(Site.archived_at.is_(None)),
            Site.organisation_id,
            user,
        )
    )
    periods = db.session.scalar(
        scope.restrict(
            select(func.count(PlanningPeriod.id)).where(PlanningPeriod.is_open.is_(True)),
            PlanningPeriod.organisation_id,
            user,
        )
    )
    return Counts(volunteers=volunteers or 0, active_sites=sites or 0, open_periods=periods or 0)


def availability_counts(
    period: PlanningPeriod, starts: Iterable[int]
) -> dict[tuple[date, int], int]:
    """Active volunteers whose offered hours cover each span (date, start hour) of the period:
    the same rule as the roster (services.availability.Offer), so a volunteer who offered
    08:00–16:00 is not counted for a 07:00–15:00 shift. One query; the cells of the day before
    and after count too (a 23:00 span runs into the next date)."""
    days = period.days
    starts = tuple(starts)
    slots = sorted(span_index(d, h) for d in days for h in starts)
    at = {span_index(d, h): (d, h) for d in days for h in starts}
    cells: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for vid, day, hour in db.session.execute(
        select(Availability.volunteer_id, Availability.day, Availability.start_hour)
        .join(Volunteer, Volunteer.id == Availability.volunteer_id)
        .join(User, User.id == Volunteer.user_id)
        .where(
            User.active.is_(True),
            # Only the people the period may draw on (its unions), as the roster does.
            Volunteer.id.in_(scope.eligible_volunteer_ids(period)),
            Availability.day.between(
                period.start_date - timedelta(days=1), period.end_date + timedelta(days=1)
            ),
        )
    ):
        cells[vid].append((day, hour))
    counts: Counter[tuple[date, int]] = Counter()
    for offered in cells.values():
        counts.update(at[i] for i in Offer(offered).covered(slots))
    return dict(counts)


def demand_per_span(period: PlanningPeriod) -> dict[int, int]:
    """Head count needed per span (start hour) on each date, summed over the period's active
    sites that run that shift: one GROUP BY."""
    runs = or_(*(and_(Demand.shift == kind, getattr(Site, f"runs_{kind}")) for kind in SHIFT_KINDS))
    rows = db.session.execute(
        select(Site.first_shift_hour, Demand.shift, func.sum(Demand.headcount))
        .join(Site, Site.id == Demand.site_id)
        .join(period_sites, period_sites.c.site_id == Site.id)
        .where(period_sites.c.period_id == period.id, Site.archived_at.is_(None), runs)
        .group_by(Site.first_shift_hour, Demand.shift)
    )
    needed: Counter[int] = Counter()
    for first, kind, total in rows:
        if total:
            needed[(first + SHIFT_HOURS * SHIFT_KINDS.index(kind)) % 24] += int(total)
    return dict(needed)


def heat_map(period: PlanningPeriod) -> HeatMap:
    """The availability heat map of one period; shades are relative to the busiest cell."""
    needed = demand_per_span(period)
    starts = tuple(sorted(needed)) or DEFAULT_STARTS
    available = availability_counts(period, starts)
    peak = max(available.values(), default=0)
    rows = []
    for day in period.days:
        cells = {}
        for hour in starts:
            count = available.get((day, hour), 0)
            cells[hour] = HeatCell(
                available=count,
                needed=needed.get(hour, 0),
                intensity=count / peak if peak else 0.0,
            )
        rows.append((day, cells))
    return HeatMap(period=period, starts=starts, rows=rows, needed=needed, max_available=peak)


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
        latest = lookups.latest_published(period.id)
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
                Availability.day.between(period.start_date, period.end_date),
                # Only the people the period may draw on (services.scope).
                Availability.volunteer_id.in_(scope.eligible_volunteer_ids(period)),
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
