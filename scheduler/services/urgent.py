"""Urgent requests (紧急求助): a coordinator, or the lead of a site, asks for extra hands at the
site on a date for a span of hours. The request becomes extra posts on the shifts it overlaps
(scheduler.services.demand); Muster proposes volunteers for them and fills them through the
repair path (a minimal-change re-solve the coordinator confirms and publishes), and the request
shows how far it is filled in the published roster.

A district's coordinator may send an open request up one level (`escalate`): while it is not
withdrawn, the request's period draws on the pool of its node's parent as well (the whole
period, not only the request's posts: the repair run that fills it keeps the published roster
and places the wider pool's free volunteers where they are needed; scheduler.services.scope
.draws_on), and the parent's coordinators are told through the outbox and see it marked in
their urgent lists."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from scheduler.extensions import db
from scheduler.i18n import lazy_gettext as _l
from scheduler.models import (
    COORDINATOR,
    Assignment,
    Organisation,
    PlanningPeriod,
    Role,
    Site,
    SolveRun,
    UrgentNeed,
    UrgentRequest,
    User,
)
from scheduler.models.base import utcnow
from scheduler.models.urgent import MAX_NOTE_LENGTH, MAX_URGENT_HEADCOUNT
from scheduler.services import audit, duty, editing, rosters, scope
from scheduler.services.demand import covered_posts, open_requests, request_window
from scheduler.services.errors import ServiceError
from scheduler.services.lookups import current_draft
from scheduler.services.notifications import notify
from scheduler.services.repair import repair_time_limit

OPEN, PARTLY_FILLED, FILLED, WITHDRAWN = "open", "partly_filled", "filled", "withdrawn"
URGENT_REQUEST = "urgent_request"  # notification kind
MAX_PROPOSALS = 5  # per role and shift
LEAD_HORIZON_DAYS = 62  # how far ahead a site lead's shifts make them one

__all__ = [
    "FILLED",
    "OPEN",
    "PARTLY_FILLED",
    "WITHDRAWN",
    "RequestStatus",
    "UrgentError",
    "create_request",
    "escalate",
    "lead_periods",
    "may_escalate",
    "postable_sites",
    "proposals",
    "requests_of",
    "start_fill",
    "status_of",
    "waiting",
    "withdraw",
]


class UrgentError(ServiceError):
    """Why a request cannot be posted, withdrawn or filled; `field` names the form field."""


@dataclass
class PostFill:
    """One role on one shift of the request: how many it asks for and how many are on duty."""

    day: date
    kind: str
    start: datetime
    end: datetime
    role: Role
    wanted: int
    filled: int


@dataclass
class RequestStatus:
    request: UrgentRequest
    status: str  # OPEN, PARTLY_FILLED, FILLED or WITHDRAWN
    posts: list[PostFill] = field(default_factory=list)

    @property
    def wanted(self) -> int:
        return sum(p.wanted for p in self.posts)

    @property
    def filled(self) -> int:
        return sum(p.filled for p in self.posts)


@dataclass
class Proposal:
    """Ranked volunteers for one role on one shift of the request."""

    post: PostFill
    candidates: list[editing.Candidate]


def _lead_shifts(user: User, now: datetime | None = None) -> list[Assignment]:
    """The published shifts `user` leads that have not ended yet (within LEAD_HORIZON_DAYS)."""
    if user.volunteer is None:
        return []
    shifts = duty.not_ended(user.volunteer.id, now or utcnow(), LEAD_HORIZON_DAYS)
    return [a for a in shifts if a.role.is_lead]


def lead_periods(user: User, now: datetime | None = None) -> list[PlanningPeriod]:
    """Periods, soonest first, in which `user` leads a shift of the published roster that has
    not ended: where a site lead may post requests."""
    periods = {a.roster.period.id: a.roster.period for a in _lead_shifts(user, now)}
    return sorted(periods.values(), key=lambda p: (p.start_date, p.id))


def postable_sites(period: PlanningPeriod, user: User, now: datetime | None = None) -> list[Site]:
    """Sites of the period `user` may post a request for: every active site for staff; for
    anyone else, the sites where they lead a shift of the period that has not ended."""
    sites = rosters.active_sites(period)
    if user.is_staff:
        return sites
    led = {a.site_id for a in _lead_shifts(user, now) if a.roster.period_id == period.id}
    return [s for s in sites if s.id in led]


def create_request(
    period: PlanningPeriod,
    site_id: int | None,
    day: date | None,
    start: time | None,
    end: time | None,
    needs: Mapping[int, int],
    note: str,
    by: User,
    now: datetime | None = None,
) -> UrgentRequest:
    """Post a request (see the module docstring) and notify the coordinators and admins whose
    scope holds its period (scope.staff_covering). Validates
    everything first and writes nothing on error. Commits."""
    now = now or utcnow()
    site = next((s for s in postable_sites(period, by, now) if s.id == site_id), None)
    if site is None:
        raise UrgentError(_l("Choose one of the sites you may ask help for."), "site_id")
    if day is None or not period.covers(day):
        raise UrgentError(_l("Choose a date inside the period."), "day")
    if start is None or end is None or start == end:
        raise UrgentError(_l("Give a start and an end time that differ."), "start_time")
    _begin, finish = request_window(site, day, start, end)
    if finish <= now:
        raise UrgentError(_l("That time span is already over."), "day")
    posts = covered_posts(site, day, start, end)
    if not posts:
        raise UrgentError(
            _l("The site runs no shift in that time span: change the span or the site's shifts."),
            "start_time",
        )
    if not all(period.covers(d) for d, _kind in posts):
        raise UrgentError(_l("The time span runs past the period's last day."), "end_time")
    roles = {r.id: r for r in db.session.scalars(select(Role))}
    wanted = {rid: n for rid, n in needs.items() if n}
    if not wanted:
        raise UrgentError(_l("Ask for at least one person."), "needs")
    if any(rid not in roles for rid in wanted) or any(
        not 1 <= n <= MAX_URGENT_HEADCOUNT for n in wanted.values()
    ):
        raise UrgentError(
            _l("Head counts are 0 to %(max)d per role.", max=MAX_URGENT_HEADCOUNT), "needs"
        )
    note = " ".join((note or "").split())
    if len(note) > MAX_NOTE_LENGTH:
        raise UrgentError(_l("At most %(num)d characters.", num=MAX_NOTE_LENGTH), "note")
    request = UrgentRequest(
        period_id=period.id,
        site_id=site.id,
        day=day,
        start_time=start,
        end_time=end,
        note=note,
        created_by_id=by.id,
        created_at=now,
        needs=[UrgentNeed(role_id=rid, headcount=n) for rid, n in sorted(wanted.items())],
    )
    db.session.add(request)
    db.session.flush()
    _record(audit.URGENT_CREATE, request, by, {"needs": wanted, "note": note})
    _sync_draft(request)
    # Only the staff whose scope holds the request's period (a district's request is not
    # another district's business; the city's coordinators and admins see every one).
    for user_id in scope.staff_covering(request, exclude=by.id):
        notify(
            user_id,
            URGENT_REQUEST,
            request_id=request.id,
            site_id=site.id,
            day=day.isoformat(),
            span=f"{start:%H:%M}–{end:%H:%M}",
            people=sum(wanted.values()),
            by=by.name,
        )
    db.session.commit()
    return request


def withdraw(request: UrgentRequest, now: datetime | None = None) -> None:
    """Withdraw a request: its posts are no longer asked for (volunteers already on them stay
    until the next re-solve or hand edit). Commits."""
    if request.withdrawn_at is not None:
        raise UrgentError(_l("This request has already been withdrawn."))
    request.withdrawn_at = now or utcnow()
    db.session.flush()
    _record(audit.URGENT_WITHDRAW, request, None, {})
    _sync_draft(request)
    db.session.commit()


def _parent_of(request: UrgentRequest) -> Organisation | None:
    node = request.period.organisation
    return node.parent if node is not None else None


def may_escalate(request: UrgentRequest, user: User) -> bool:
    """Whether `user` may send the request up one level: a coordinator who sees it, of a
    period whose node has a parent, while the request is open and not yet sent up."""
    return (
        user.role == COORDINATOR
        and scope.in_scope(request, user)
        and request.escalated_at is None
        and request.withdrawn_at is None
        and _parent_of(request) is not None
    )


def escalate(request: UrgentRequest, by: User, now: datetime | None = None) -> None:
    """Send an open request up one level (see the module docstring): its period draws on the
    parent's pool until the request is withdrawn; the parent's coordinators are notified.
    Audited. Commits."""
    if request.withdrawn_at is not None:
        raise UrgentError(_l("This request has been withdrawn."))
    if request.escalated_at is not None:
        raise UrgentError(_l("This request has already been sent up."))
    parent = _parent_of(request)
    if parent is None or not scope.in_scope(request, by):
        raise UrgentError(_l("This request has no union above it to ask."))
    if status_of(request).status == FILLED:
        raise UrgentError(_l("This request is already filled."))
    request.escalated_at = now or utcnow()
    request.escalated_by_id = by.id
    db.session.flush()
    _record(audit.URGENT_ESCALATE, request, by, {"to": parent.name})
    # The parent's coordinators: those appointed to it (one appointed to no node sees nothing:
    # services.scope).
    appointed = User.organisation_id == parent.id
    wanted = sum(n.headcount for n in request.needs)
    origin = request.period.organisation
    for user_id in db.session.scalars(
        select(User.id).where(
            User.role == COORDINATOR, User.active.is_(True), User.id != by.id, appointed
        )
    ):
        notify(
            user_id,
            URGENT_REQUEST,
            request_id=request.id,
            site_id=request.site_id,
            day=request.day.isoformat(),
            span=f"{request.start_time:%H:%M}–{request.end_time:%H:%M}",
            people=wanted,
            by=f"{by.name} ({origin.name})" if origin is not None else by.name,
            escalated=True,
        )
    db.session.commit()


def _record(
    action: str, request: UrgentRequest, by: User | None, details: dict[str, object]
) -> None:
    site = request.site
    audit.record(
        action,
        object_type="urgent_request",
        object_id=request.id,
        summary=f"{site.name} {request.day.isoformat()} "
        f"{request.start_time:%H:%M}–{request.end_time:%H:%M}",
        details={"day": request.day, **details},
        actor=by,
        period_id=request.period_id,
        site_id=site.id,
        district_id=site.district_id,
    )


def _sync_draft(request: UrgentRequest) -> None:
    """The draft's unfilled posts follow the request's head counts at once (not only after
    the next solve), so the review and the published version list them."""
    draft = current_draft(request.period_id)
    if draft is None:
        return
    posts = covered_posts(request.site, request.day, request.start_time, request.end_time)
    for day, kind in posts:
        for need in request.needs:
            editing.sync_unfilled(draft, request.site, day, kind, need.role_id)


def requests_of(period: PlanningPeriod, user: User | None = None) -> list[RequestStatus]:
    """The period's requests, newest first, with their status; only those `user` posted
    when given."""
    query = (
        select(UrgentRequest)
        .where(UrgentRequest.period_id == period.id)
        .options(
            selectinload(UrgentRequest.site),
            selectinload(UrgentRequest.needs).selectinload(UrgentNeed.role),
            selectinload(UrgentRequest.created_by),
        )
        .order_by(UrgentRequest.created_at.desc(), UrgentRequest.id.desc())
    )
    if user is not None:
        query = query.where(UrgentRequest.created_by_id == user.id)
    counts = _DutyCounts()
    return [status_of(r, counts) for r in db.session.scalars(query)]


def waiting(today: date | None = None) -> list[RequestStatus]:
    """Requests from today on, in any period, that are not yet filled nor withdrawn, soonest
    first: what the coordinators' overview puts at the top."""
    today = today or utcnow().date()
    candidates = db.session.scalars(
        select(UrgentRequest)
        .where(UrgentRequest.withdrawn_at.is_(None), UrgentRequest.day >= today)
        .options(
            selectinload(UrgentRequest.site),
            selectinload(UrgentRequest.needs).selectinload(UrgentNeed.role),
        )
        .order_by(UrgentRequest.day, UrgentRequest.start_time, UrgentRequest.id)
    )
    counts = _DutyCounts()
    statuses = (status_of(r, counts) for r in candidates)
    return [s for s in statuses if s.status in (OPEN, PARTLY_FILLED)]


class _DutyCounts:
    """People on duty per (day, shift, role) at a site in a period, and its open requests,
    each read once however many requests are shown."""

    def __init__(self) -> None:
        self._on_duty: dict[tuple[int, int], Counter[tuple[date, str, int]]] = {}
        self._open: dict[tuple[int, int], list[UrgentRequest]] = {}

    def on_duty(self, request: UrgentRequest, first: date) -> Counter[tuple[date, str, int]]:
        key = (request.period_id, request.site_id)
        if key not in self._on_duty:
            period = request.period
            self._on_duty[key] = Counter(
                (a.day, a.shift, a.role_id)
                for a in duty.on_duty(first, period.end_date, site_ids=[request.site_id])
                if a.roster.period_id == request.period_id
            )
        return self._on_duty[key]

    def open_requests(self, request: UrgentRequest) -> list[UrgentRequest]:
        key = (request.period_id, request.site_id)
        if key not in self._open:
            self._open[key] = open_requests(request.period_id, [request.site_id])
        return self._open[key]


def status_of(request: UrgentRequest, counts: _DutyCounts | None = None) -> RequestStatus:
    """How far the published roster fills the request. On each post, people on duty count
    first towards the site's own head count, then towards open requests oldest first."""
    counts = counts or _DutyCounts()
    site = request.site
    posts_of = covered_posts(site, request.day, request.start_time, request.end_time)
    on_duty = counts.on_duty(request, request.period.start_date)
    earlier: Counter[tuple[date, str, int]] = Counter()
    if request.withdrawn_at is None:
        for other in counts.open_requests(request):
            if other.id == request.id:
                break
            for day, kind in covered_posts(site, other.day, other.start_time, other.end_time):
                for need in other.needs:
                    earlier[(day, kind, need.role_id)] += need.headcount
    posts = []
    for day, kind in posts_of:
        start, end = site.shift_window(day, kind)
        base = site.demand_for(kind)
        for need in sorted(request.needs, key=lambda n: n.role.sort_order):
            key = (day, kind, need.role_id)
            spare = on_duty[key] - base.get(need.role_id, 0) - earlier[key]
            filled = max(0, min(need.headcount, spare))
            posts.append(PostFill(day, kind, start, end, need.role, need.headcount, filled))
    wanted, filled = sum(p.wanted for p in posts), sum(p.filled for p in posts)
    if request.withdrawn_at is not None:
        status = WITHDRAWN
    elif filled >= wanted:
        status = FILLED
    elif filled:
        status = PARTLY_FILLED
    else:
        status = OPEN
    return RequestStatus(request, status, posts)


def proposals(request: UrgentRequest) -> list[Proposal]:
    """For each unfilled post of the request: volunteers who are available, qualified, rested
    and under their caps, nearest first (the site's own district), then least loaded.
    Raises UrgentError when the period has no draft to propose against."""
    status = status_of(request)
    result = []
    context = None
    for post in status.posts:
        if post.filled >= post.wanted:
            continue
        try:
            # One build of the draft in solver terms serves every post of the request.
            context = context or editing.edit_context(request.period)
            found = editing.candidates(
                request.period, request.site, post.day, post.kind, post.role, context
            )
        except editing.EditError as error:
            raise UrgentError(error.message) from error
        fitting = [c for c in found if c.fits]
        fitting.sort(key=lambda c: (not c.district_match, c.cap_share, not c.same_site))
        result.append(Proposal(post, fitting[:MAX_PROPOSALS]))
    return result


def start_fill(request: UrgentRequest, by: User | None) -> SolveRun:
    """Queue the repair run that fills the request's posts (a minimal-change re-solve of the
    period's active sites: the published roster stays, free volunteers take the new posts) and
    commit; the caller hands it to scheduler.jobs.submit and the coordinator confirms on the
    repair page."""
    if request.withdrawn_at is not None:
        raise UrgentError(_l("This request has been withdrawn."))
    if status_of(request).status == FILLED:
        raise UrgentError(_l("This request is already filled."))
    period = request.period
    site_ids = [s.id for s in rosters.active_sites(period)]
    try:
        return rosters.start_run(
            period,
            site_ids,
            repair_time_limit(),
            by,
            minimal_change=True,
            audit_action=audit.URGENT_FILL,
            audit_details={"urgent_request_id": request.id},
        )
    except rosters.RosterError as error:
        raise UrgentError(error.message) from error
