"""Roster runs and the draft review: start and cancel a solve run, and read what the draft
looks like (coverage heat map, unfilled posts with reasons, fairness figures, one shift)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import selectinload

from scheduler import jobs
from scheduler.extensions import db, rowcount
from scheduler.i18n import lazy_gettext as _l
from scheduler.models import (
    SHIFT_KINDS,
    Assignment,
    Availability,
    PlanningPeriod,
    Role,
    Roster,
    Site,
    SolveRun,
    UnfilledPost,
    User,
    Volunteer,
)
from scheduler.models.base import utcnow
from scheduler.models.rosters import (
    ACTIVE_RUN_STATUSES,
    CANCELLED,
    FAILED,
    MAX_TIME_LIMIT,
    MIN_TIME_LIMIT,
    QUEUED,
    RUNNING,
    SUCCEEDED,
)
from scheduler.services import audit, scope
from scheduler.services.coverage import Coverage, held_in, roster_coverage
from scheduler.services.demand import PostKey, demand_of, urgent_extra
from scheduler.services.errors import ServiceError
from scheduler.services.holes import HoleGroup, fillable, group_holes, shown_fillable
from scheduler.services.lookups import current_draft, lock_draft

DEFAULT_TIME_LIMIT = 30
# A running run that has not finished this long after its time limit has died with its process.
STALE_GRACE = timedelta(minutes=10)
LOAD_BUCKETS = (0, 25, 50, 75, 100)  # upper bounds (%) of the load histogram's bars
EXTREMES_SHOWN = 5


class RosterError(ServiceError):
    """Why a run cannot start; `field` names the form field the message belongs to."""


def active_sites(period: PlanningPeriod) -> list[Site]:
    """The sites a run of `period` can roster: its sites that are not archived, by name."""
    return sorted((s for s in period.sites if s.archived_at is None), key=lambda s: s.name)


def fail_stale_runs(period_id: int) -> None:
    """Mark failed the period's running runs whose process died (killed, restarted): they are
    long past their time limit and still not finished; and its queued runs that will never
    start: their job is gone (`scheduler.jobs.job_lost`) or they have waited longer than
    JOBS_QUEUED_TIMEOUT seconds. Commits only when it changes a run."""
    now = utcnow()
    changed = False
    queued_bound = timedelta(seconds=int(current_app.config.get("JOBS_QUEUED_TIMEOUT", 1800)))
    for run in db.session.scalars(
        select(SolveRun).where(SolveRun.period_id == period_id, SolveRun.status == QUEUED)
    ):
        if now > run.created_at + queued_bound:
            error = "The run waited too long in the queue without starting: its job was lost."
        elif jobs.job_lost(run):
            error = "The run never started: its job was lost (its worker or thread ended)."
        else:
            continue
        # Only while still queued: a worker claiming it at this moment keeps it.
        changed |= bool(
            rowcount(
                update(SolveRun)
                .where(SolveRun.id == run.id, SolveRun.status == QUEUED)
                .values(status=FAILED, finished_at=now, error=error)
                .execution_options(synchronize_session=False)
            )
        )
    for run in db.session.scalars(
        select(SolveRun).where(SolveRun.period_id == period_id, SolveRun.status == RUNNING)
    ):
        started = run.started_at or run.created_at
        if now > started + timedelta(seconds=run.time_limit) + STALE_GRACE:
            run.status, run.finished_at = FAILED, now
            run.error = (
                "The run stopped without finishing: its process ended (killed or restarted)."
            )
            changed = True
    if changed:
        db.session.commit()


def solving(period_id: int) -> bool:
    """Whether a run of the period is queued or running (after failing dead ones)."""
    fail_stale_runs(period_id)
    return (
        db.session.scalar(
            select(SolveRun.id).where(
                SolveRun.period_id == period_id, SolveRun.status.in_(ACTIVE_RUN_STATUSES)
            )
        )
        is not None
    )


def start_run(
    period: PlanningPeriod,
    site_ids: Iterable[int],
    time_limit: int,
    user: User | None,
    *,
    minimal_change: bool = False,
    audit_action: str = audit.ROSTER_SOLVE,
    audit_details: dict[str, object] | None = None,
) -> SolveRun:
    """Record a queued run of `period` for `site_ids` (all of them or a subset of its active
    sites) and commit; the caller hands it to scheduler.jobs.submit. One run per period at a
    time. The audit row says `audit_action` (a repair and an urgent fill start runs too)."""
    if not MIN_TIME_LIMIT <= time_limit <= MAX_TIME_LIMIT:
        raise RosterError(
            _l(
                "The time limit must be %(low)d to %(high)d seconds.",
                low=MIN_TIME_LIMIT,
                high=MAX_TIME_LIMIT,
            ),
            "time_limit",
        )
    sites = active_sites(period)
    if not sites:
        raise RosterError(_l("This period has no active sites: add sites to it first."))
    chosen = set(site_ids)
    if not chosen:
        raise RosterError(_l("Choose at least one site."), "site_ids")
    by_id = {s.id: s for s in sites}
    if not chosen <= by_id.keys():
        raise RosterError(_l("Choose among this period's sites."), "site_ids")
    draft = current_draft(period.id)
    if draft is not None:
        # A hand edit holds this lock between its check and its write (ensure_editable).
        lock_draft(draft.id)
    if solving(period.id):
        raise RosterError(_l("A roster is already being generated for this period."))
    all_sites = chosen == by_id.keys()
    run = SolveRun(
        period_id=period.id,
        all_sites=all_sites,
        sites=[] if all_sites else [by_id[i] for i in sorted(chosen)],
        time_limit=time_limit,
        status=QUEUED,
        requested_by_id=user.id if user is not None else None,
        minimal_change=minimal_change,
    )
    db.session.add(run)
    db.session.flush()
    audit.record(
        audit_action,
        object_type="solve_run",
        object_id=run.id,
        summary=period.name,
        details={
            "sites": "all" if all_sites else sorted(chosen),
            "time_limit": time_limit,
            "minimal_change": minimal_change,
            **(audit_details or {}),
        },
        actor=user,
        period_id=period.id,
    )
    db.session.commit()
    return run


def cancel_run(run: SolveRun) -> None:
    """Cancel a run: a queued one at once; a running one stops before its search, or keeps the
    best roster its search finds (see scheduler.jobs). Finished runs are left as they are."""
    cancelled_queued = rowcount(
        update(SolveRun)
        .where(SolveRun.id == run.id, SolveRun.status == QUEUED)
        .values(status=CANCELLED, cancel_requested=True, finished_at=utcnow())
    )
    cancelled_running = 0
    if not cancelled_queued:
        cancelled_running = rowcount(
            update(SolveRun)
            .where(SolveRun.id == run.id, SolveRun.status == RUNNING)
            .values(cancel_requested=True)
        )
    if cancelled_queued or cancelled_running:
        audit.record(
            audit.ROSTER_CANCEL_RUN,
            object_type="solve_run",
            object_id=run.id,
            summary=run.period.name,
            details={"was": "queued" if cancelled_queued else "running"},
            period_id=run.period_id,
        )
    db.session.commit()
    db.session.refresh(run)


def latest_run(period_id: int) -> SolveRun | None:
    """The period's most recent run."""
    return db.session.scalar(
        select(SolveRun)
        .where(SolveRun.period_id == period_id)
        .order_by(SolveRun.created_at.desc(), SolveRun.id.desc())
        .limit(1)
    )


def superseded(run: SolveRun | None) -> bool:
    """Whether the roster `run` produced is no longer the draft as it stands: the draft was
    changed after the run ended (a hand edit, a cancellation, a sign-up, another run)."""
    if run is None or run.status != SUCCEEDED or run.finished_at is None:
        return False
    draft = current_draft(run.period_id)
    return draft is not None and draft.updated_at > run.finished_at


# --- review ----------------------------------------------------------------------------------


@dataclass
class HeatCell:
    day: date
    filled: int
    needed: int
    # people above their role's head count on the shift: they fill no post and are shown apart
    over: int = 0

    @property
    def share(self) -> float:
        return 1.0 if self.needed == 0 else self.filled / self.needed

    @property
    def level(self) -> str:
        """CSS class: full, most (≥ 75 %), some, none."""
        if self.needed == 0 or self.filled >= self.needed:
            return "full"
        if self.share >= 0.75:
            return "most"
        return "some" if self.filled else "none"


@dataclass
class HeatRow:
    site: Site
    kind: str
    cells: list[HeatCell]


@dataclass
class LoadLine:
    """One volunteer's load in the period."""

    volunteer_id: int
    name: str
    shifts: int
    nights: int
    weekly_cap: int
    capacity: int
    organisation_id: int | None = None  # their home union (a reinforcement's is elsewhere)

    @property
    def percent(self) -> int:
        return round(100 * self.shifts / self.capacity) if self.capacity else 0


@dataclass
class Fairness:
    offered: int = 0  # volunteers who entered availability in the period
    rostered: int = 0
    load_histogram: list[tuple[str, int]] = field(default_factory=list)
    nights_histogram: list[tuple[int, int]] = field(default_factory=list)
    most: list[LoadLine] = field(default_factory=list)
    least: list[LoadLine] = field(default_factory=list)

    @property
    def load_peak(self) -> int:
        return max((n for _, n in self.load_histogram), default=0)

    @property
    def nights_peak(self) -> int:
        return max((n for _, n in self.nights_histogram), default=0)


@dataclass(frozen=True)
class UnfilledLine:
    """One need (a role on a shift) with posts nobody holds, and the solver's reasons when it
    gave any (a hand edit or a new urgent request can open a hole it never saw)."""

    site_id: int
    day: date
    shift: str
    role_id: int
    missing: int
    reasons: list[dict[str, Any]]


@dataclass
class Review:
    """Everything the draft review shows. `names`/`sites`/`roles` resolve the ids stored in
    unfilled posts' reasons. Every count comes from `coverage` (services.coverage)."""

    period: PlanningPeriod
    draft: Roster | None
    days: list[date]
    heat: list[HeatRow]
    coverage: Coverage
    unfilled: list[UnfilledLine]
    fairness: Fairness
    names: dict[int, str]
    sites: dict[int, Site]
    roles: dict[int, Role]
    # the max-flow coverage bound of the period (services.holes.fillable); None: not known
    bound: int | None = None

    @property
    def posts_total(self) -> int:
        return self.coverage.posts

    @property
    def posts_fillable(self) -> int | None:
        """The most posts any roster could fill with the volunteers available."""
        return shown_fillable(self.bound, self.posts_filled, self.posts_total)

    @property
    def posts_nobody(self) -> int:
        """Posts nobody available could take, whatever the roster."""
        fillable = self.posts_fillable
        return 0 if fillable is None else self.posts_total - fillable

    @property
    def hole_groups(self) -> list[HoleGroup]:
        """The unfilled posts by role × shift × run of consecutive days, the largest first."""
        return group_holes(self.unfilled)

    @property
    def posts_filled(self) -> int:
        return self.coverage.filled

    @property
    def posts_unfilled(self) -> int:
        return self.coverage.unfilled

    @property
    def surplus(self) -> int:
        """People above their post's head count."""
        return self.coverage.surplus

    @property
    def missing_by_role(self) -> list[tuple[Role, int]]:
        """People missing per role over the whole draft, the most first."""
        missing: Counter[int] = Counter()
        for post in self.unfilled:
            missing[post.role_id] += post.missing
        return [(self.roles[rid], n) for rid, n in missing.most_common() if rid in self.roles]


def filled_per_post(roster_id: int | None) -> Counter[tuple[int, date, str, int]]:
    """How many people each post (site, day, shift, role) of a roster has, in one query."""
    if roster_id is None:
        return Counter()
    rows = db.session.execute(
        select(
            Assignment.site_id,
            Assignment.day,
            Assignment.shift,
            Assignment.role_id,
            func.count(),
        )
        .where(Assignment.roster_id == roster_id)
        .group_by(Assignment.site_id, Assignment.day, Assignment.shift, Assignment.role_id)
    )
    return Counter({(site_id, day, kind, role_id): n for site_id, day, kind, role_id, n in rows})


def _filled_counts(roster_id: int) -> dict[tuple[int, date, str], Counter[int]]:
    counts: dict[tuple[int, date, str], Counter[int]] = defaultdict(Counter)
    for (site_id, day, kind, role_id), n in filled_per_post(roster_id).items():
        counts[(site_id, day, kind)][role_id] = n
    return counts


def _heat(
    sites: list[Site],
    days: list[date],
    counts: dict[tuple[int, date, str], Counter[int]],
    extra: dict[PostKey, Counter[int]],
) -> tuple[list[HeatRow], int, int]:
    rows, total, filled = [], 0, 0
    for site in sites:
        for kind in site.shift_kinds:
            if not site.demand_for(kind) and not any((site.id, day, kind) in extra for day in days):
                continue
            cells = []
            for day in days:
                demand = demand_of(site, day, kind, extra)
                have = counts.get((site.id, day, kind), Counter())
                got = sum(min(have[role], n) for role, n in demand.items())
                need = sum(demand.values())
                over = sum(max(0, n - demand.get(role, 0)) for role, n in have.items())
                cells.append(HeatCell(day, got, need, over))
                total += need
                filled += got
            rows.append(HeatRow(site, kind, cells))
    return rows, total, filled


def _fairness(period: PlanningPeriod, roster_id: int | None, days: list[date]) -> Fairness:
    weeks = math.ceil(len(days) / 7)
    offered = db.session.execute(
        select(
            Volunteer.id,
            User.name,
            Volunteer.weekly_cap,
            Volunteer.accepts_nights,
            Volunteer.organisation_id,
        )
        .join(User, User.id == Volunteer.user_id)
        .where(
            User.active.is_(True),
            # Only the people the period may draw on (services.scope), as the roster does.
            Volunteer.id.in_(scope.eligible_volunteer_ids(period)),
            Volunteer.id.in_(
                select(Availability.volunteer_id).where(
                    Availability.day.between(period.start_date, period.end_date)
                )
            ),
        )
    ).all()
    loads: dict[int, tuple[int, int]] = {}
    if roster_id is not None:
        for vid, shifts, nights in db.session.execute(
            select(
                Assignment.volunteer_id,
                func.count(),
                func.sum(case((Assignment.shift == "night", 1), else_=0)),
            )
            .where(Assignment.roster_id == roster_id)
            .group_by(Assignment.volunteer_id)
        ):
            loads[vid] = (shifts, int(nights or 0))
    lines = [
        LoadLine(
            volunteer_id=vid,
            name=name,
            shifts=loads.get(vid, (0, 0))[0],
            nights=loads.get(vid, (0, 0))[1],
            weekly_cap=cap,
            capacity=cap * weeks,
            organisation_id=node,
        )
        for vid, name, cap, _nights, node in offered
    ]
    result = Fairness(offered=len(lines), rostered=sum(1 for line in lines if line.shifts))
    bars: Counter[int] = Counter()
    for line in lines:
        bars[next((b for b in LOAD_BUCKETS if line.percent <= b), LOAD_BUCKETS[-1])] += 1
    labels = ["0%"] + [f"{low + 1}–{high}%" for low, high in pairwise(LOAD_BUCKETS)]
    result.load_histogram = [
        (label, bars[b]) for label, b in zip(labels, LOAD_BUCKETS, strict=True)
    ]
    night_counts = Counter(line.nights for line, row in zip(lines, offered, strict=True) if row[3])
    result.nights_histogram = sorted(night_counts.items())
    ranked = sorted(lines, key=lambda line: (-line.percent, -line.shifts, line.name))
    result.most = [line for line in ranked if line.shifts][:EXTREMES_SHOWN]
    result.least = sorted(lines, key=lambda line: (line.percent, line.shifts, line.name))[
        :EXTREMES_SHOWN
    ]
    return result


def _names(volunteer_ids: Iterable[int]) -> dict[int, str]:
    ids = set(volunteer_ids)
    if not ids:
        return {}
    return dict(
        db.session.execute(
            select(Volunteer.id, User.name)
            .join(User, User.id == Volunteer.user_id)
            .where(Volunteer.id.in_(ids))
        ).all()
    )


def _reason_ids(posts: Iterable[UnfilledPost | UnfilledLine]) -> tuple[set[int], set[int]]:
    people: set[int] = set()
    sites: set[int] = set()
    for post in posts:
        for reason in post.reasons or []:
            people.update(reason.get("people", []))
            sites.update(s[0] for s in reason.get("shifts", []))
    return people, sites


def _lookups(
    posts: list[UnfilledPost] | list[UnfilledLine],
) -> tuple[dict[int, str], dict[int, Site], dict[int, Role]]:
    people, site_ids = _reason_ids(posts)
    site_ids |= {p.site_id for p in posts}
    sites = (
        {s.id: s for s in db.session.scalars(select(Site).where(Site.id.in_(site_ids)))}
        if site_ids
        else {}
    )
    roles = {r.id: r for r in db.session.scalars(select(Role))}
    return _names(people), sites, roles


_Post = TypeVar("_Post", UnfilledPost, "UnfilledLine")


def _kind_order(kind: str) -> int:
    return SHIFT_KINDS.index(kind) if kind in SHIFT_KINDS else len(SHIFT_KINDS)


def _sorted_unfilled(posts: Iterable[_Post], roles: dict[int, Role]) -> list[_Post]:
    def key(p: _Post) -> tuple[Any, ...]:
        role = roles.get(p.role_id)
        return (p.day, _kind_order(p.shift), p.site_id, role.sort_order if role else 0)

    return sorted(posts, key=key)


def review(period: PlanningPeriod) -> Review:
    """The draft of `period` as the review page shows it (a fixed number of queries). The
    unfilled list is the coverage's short needs, with the solver's reasons where it gave
    them, so the list and every count agree."""
    draft = current_draft(period.id)
    days = period.days
    sites = active_sites(period)
    counts = _filled_counts(draft.id) if draft is not None else {}
    shown = {s.id for s in sites}
    extra = {site_id for site_id, _, _ in counts} - shown
    if extra:
        sites += sorted(
            db.session.scalars(select(Site).where(Site.id.in_(extra))), key=lambda s: s.name
        )
    heat, _total, _filled = _heat(sites, days, counts, urgent_extra(period.id))
    coverage = roster_coverage(period, held_in(draft.id if draft is not None else None))
    stored: dict[tuple[int, date, str, int], UnfilledPost] = {}
    if draft is not None:
        stored = {
            (p.site_id, p.day, p.shift, p.role_id): p
            for p in db.session.scalars(
                select(UnfilledPost).where(UnfilledPost.roster_id == draft.id)
            )
        }
    lines = [
        UnfilledLine(*key, count.unfilled, list(stored[key].reasons or []) if key in stored else [])
        for key, count in coverage.needs.items()
        if count.unfilled
    ]
    names, site_lookup, roles = _lookups(lines)
    site_lookup.update({s.id: s for s in sites})
    return Review(
        period=period,
        draft=draft,
        days=days,
        heat=heat,
        coverage=coverage,
        unfilled=_sorted_unfilled(lines, roles),
        fairness=_fairness(period, draft.id if draft is not None else None, days),
        names=names,
        sites=site_lookup,
        roles=roles,
        bound=fillable(period) if draft is not None else None,
    )


@dataclass
class ShiftView:
    """One shift of the draft: who is on it, what it needs, and its unfilled posts."""

    period: PlanningPeriod
    site: Site
    day: date
    kind: str
    demand: list[tuple[Role, int, int]]  # role, needed, filled
    assignments: list[Assignment]
    unfilled: list[UnfilledPost]
    names: dict[int, str]
    sites: dict[int, Site]
    roles: dict[int, Role]


def shift_view(period: PlanningPeriod, site: Site, day: date, kind: str) -> ShiftView:
    """The draft's assignments and unfilled posts on one shift of one site."""
    draft = current_draft(period.id)
    assignments: list[Assignment] = []
    posts: list[UnfilledPost] = []
    if draft is not None:
        assignments = list(
            db.session.scalars(
                select(Assignment)
                .join(Volunteer, Volunteer.id == Assignment.volunteer_id)
                .join(User, User.id == Volunteer.user_id)
                .where(
                    Assignment.roster_id == draft.id,
                    Assignment.site_id == site.id,
                    Assignment.day == day,
                    Assignment.shift == kind,
                )
                .options(
                    selectinload(Assignment.volunteer).selectinload(Volunteer.user),
                    selectinload(Assignment.volunteer).selectinload(Volunteer.organisation),
                )
            )
        )
        posts = list(
            db.session.scalars(
                select(UnfilledPost).where(
                    UnfilledPost.roster_id == draft.id,
                    UnfilledPost.site_id == site.id,
                    UnfilledPost.day == day,
                    UnfilledPost.shift == kind,
                )
            )
        )
    names, sites, roles = _lookups(posts)
    sites[site.id] = site
    have = Counter(a.role_id for a in assignments)
    demand = [
        (roles[role_id], needed, have[role_id])
        for role_id, needed in sorted(
            demand_of(site, day, kind, urgent_extra(period.id, [site.id])).items(),
            key=lambda item: roles[item[0]].sort_order,
        )
    ]
    assignments.sort(key=lambda a: (roles[a.role_id].sort_order, a.volunteer.user.name_pinyin))
    return ShiftView(
        period,
        site,
        day,
        kind,
        demand,
        assignments,
        _sorted_unfilled(posts, roles),
        names,
        sites,
        roles,
    )
