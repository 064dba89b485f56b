"""Self-sign-up: a volunteer claims an open post of a period's draft roster.

Open posts are the demand the draft leaves unfilled that the volunteer is qualified and
available for and rested for, judged by the same rules as the solver (planning.build_problem and
solver.feasibility.RosterState). Claiming is first come, first served and atomic in the
database: each post has numbered places (Assignment.slot, unique per post); a claim takes the
lowest free place, and a concurrent claim of the same place hits the unique constraint and
retries the next one, or is told the post was just taken. Claims are pinned assignments with
source "self_signup", so re-solving keeps them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

import solver
from scheduler.extensions import db
from scheduler.i18n import lazy_gettext as _l
from scheduler.models import Assignment, PlanningPeriod, Role, Roster, Site, Volunteer
from scheduler.models.base import utcnow
from scheduler.models.rosters import DRAFT, SOURCE_SELF_SIGNUP
from scheduler.parsing import database_id, iso_day
from scheduler.planning import PlanningError, build_problem, person_id, shift_id
from scheduler.services.demand import demand_of, urgent_extra
from scheduler.services.errors import ServiceError
from scheduler.services.lookups import current_draft, latest_published
from scheduler.services.rosters import filled_per_post, solving
from solver.feasibility import RosterState

MAX_CLAIM_ATTEMPTS = 10


class SignupError(ServiceError):
    """Why a claim or a withdrawal was refused (a translatable message)."""


@dataclass
class OpenPost:
    """A place the volunteer can claim: one role on one shift of one site."""

    period: PlanningPeriod
    site: Site
    day: date
    kind: str
    role: Role
    free: int  # places left
    headcount: int
    start: datetime
    end: datetime

    @property
    def key(self) -> str:
        """The form value naming this post: '<period>:<site>:<ISO day>:<kind>:<role>'."""
        return f"{self.period.id}:{self.site.id}:{self.day.isoformat()}:{self.kind}:{self.role.id}"


@dataclass
class MySignup:
    """One of the volunteer's self-sign-ups in a draft."""

    assignment: Assignment
    withdrawable: bool  # not yet in a published version


# Built once: /me asks on every request.
_SIGNUP_PERIODS = (
    select(PlanningPeriod)
    .where(PlanningPeriod.self_signup_open.is_(True))
    .order_by(PlanningPeriod.start_date, PlanningPeriod.id)
)


def signup_periods() -> list[PlanningPeriod]:
    """Periods open for self-sign-up, by start date."""
    return list(db.session.scalars(_SIGNUP_PERIODS))


def eligible_posts(
    period: PlanningPeriod,
    volunteer: Volunteer,
    now: datetime | None = None,
    only: tuple[int, date, str, int] | None = None,
) -> list[OpenPost]:
    """Posts of `period` not yet started that the volunteer may take, full ones included
    (free = 0): qualified, available (their cells, not a day off, nights only if accepted) and
    rested (the solver's hard rules against everything they hold in the draft).

    The problem holds this volunteer alone (the rules judge one person against what that person
    holds), and with `only` = (site id, day, kind, role id) just that post's site: a claim
    judges the claimed post, at the same cost whatever the size of the period and the pool."""
    now = now or utcnow()
    try:
        problem, mapping = build_problem(
            period,
            site_ids=[only[0]] if only is not None else None,
            volunteer_ids=[volunteer.id],
        )
    except PlanningError:
        return []  # no active sites, a site not in the period, a stale pin: nothing to claim
    me = person_id(volunteer.id)
    if me not in mapping.volunteers:
        return []
    person = problem.person(me)
    draft = current_draft(period.id)
    held: list[solver.Assignment] = []
    mine: set[tuple[date, str]] = set()
    if draft is not None:
        code_of = {rid: code for code, rid in mapping.roles.items()}
        for site_id, day, kind, role_id in db.session.execute(
            select(Assignment.site_id, Assignment.day, Assignment.shift, Assignment.role_id).where(
                Assignment.roster_id == draft.id, Assignment.volunteer_id == volunteer.id
            )
        ):
            mine.add((day, kind))
            sid, code = shift_id(site_id, day, kind), code_of.get(role_id)
            if sid in mapping.shifts and code is not None:
                held.append(solver.Assignment(person=me, shift=sid, role=code))
    state = RosterState(problem, held)
    if only is not None:
        filled = _filled_post(draft.id if draft is not None else None, *only)
    else:
        filled = filled_per_post(draft.id if draft is not None else None)
    sites = {s.id: s for s in period.sites}
    roles = {r.id: r for r in db.session.scalars(select(Role))}
    posts = []
    for shift in problem.shifts:
        if shift.id in mapping.fixed_shifts or shift.start <= now:
            continue
        key = mapping.shifts[shift.id]
        if only is not None and (key.site_id, key.day, key.kind) != only[:3]:
            continue
        if (key.day, key.kind) in mine or state.blocker(person, shift) is not None:
            continue
        for need in shift.demands:
            role_id = mapping.roles[need.role]
            if only is not None and role_id != only[3]:
                continue
            headcount = need.min  # the site's head count plus urgent requests
            if not headcount or state.static_block(person, shift, need.role) is not None:
                continue
            free = headcount - filled[(key.site_id, key.day, key.kind, role_id)]
            posts.append(
                OpenPost(
                    period,
                    sites[key.site_id],
                    key.day,
                    key.kind,
                    roles[role_id],
                    max(free, 0),
                    headcount,
                    shift.start,
                    shift.end,
                )
            )
    posts.sort(key=lambda p: (p.start, p.site.name, p.role.sort_order))
    return posts


def _filled_post(
    roster_id: int | None, site_id: int, day: date, kind: str, role_id: int
) -> Counter[tuple[int, date, str, int]]:
    """filled_per_post for one post only."""
    if roster_id is None:
        return Counter()
    count = db.session.scalar(
        select(func.count()).where(
            Assignment.roster_id == roster_id,
            Assignment.site_id == site_id,
            Assignment.day == day,
            Assignment.shift == kind,
            Assignment.role_id == role_id,
        )
    )
    return Counter({(site_id, day, kind, role_id): count or 0})


def open_posts(volunteer: Volunteer, now: datetime | None = None) -> list[OpenPost]:
    """Every post the volunteer can claim now, across the periods open for self-sign-up."""
    return [
        post
        for period in signup_periods()
        for post in eligible_posts(period, volunteer, now)
        if post.free > 0
    ]


def ensure_draft(period: PlanningPeriod) -> Roster:
    """The period's draft; created when there is none (as a copy of the latest published
    version, so nothing published is lost by the next publish). A concurrent creation loses
    on the one-draft-per-period index and uses the winner's draft. Commits a new draft."""
    draft = current_draft(period.id)
    if draft is not None:
        return draft
    period_id = period.id
    published = latest_published(period_id)
    draft = Roster(period_id=period_id, status=DRAFT)
    db.session.add(draft)
    try:
        db.session.flush()
        if published is not None:
            columns = [
                c.name for c in Assignment.__table__.columns if c.name not in ("id", "roster_id")
            ]
            rows = [
                {**{name: getattr(a, name) for name in columns}, "roster_id": draft.id}
                for a in db.session.scalars(
                    select(Assignment).where(Assignment.roster_id == published.id)
                )
            ]
            if rows:
                db.session.execute(insert(Assignment), rows)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        draft = current_draft(period_id)
        if draft is None:
            raise
    return draft


def parse_post(value: str) -> tuple[int, int, date, str, int] | None:
    """'<period>:<site>:<ISO day>:<kind>:<role>' -> its parts, or None when malformed."""
    parts = value.split(":")
    if len(parts) != 5:
        return None
    period_id, site_id, role_id = (database_id(parts[i]) for i in (0, 1, 4))
    day = iso_day(parts[2])
    if period_id is None or site_id is None or role_id is None or day is None:
        return None
    return period_id, site_id, day, parts[3], role_id


def free_slot(roster_id: int, site_id: int, day: date, kind: str, role_id: int) -> int:
    """The lowest place number not yet used on a post (for any code that adds an assignment)."""
    used = set(
        db.session.scalars(
            select(Assignment.slot).where(
                Assignment.roster_id == roster_id,
                Assignment.site_id == site_id,
                Assignment.day == day,
                Assignment.shift == kind,
                Assignment.role_id == role_id,
                Assignment.slot.is_not(None),
            )
        )
    )
    return next(n for n in range(1, len(used) + 2) if n not in used)


TAKEN = _l("Sorry, this post was just taken.")


def claim(volunteer: Volunteer, post_key: str, now: datetime | None = None) -> Assignment:
    """Claim one open post for the volunteer (see the module docstring). Commits."""
    parsed = parse_post(post_key)
    period = db.session.get(PlanningPeriod, parsed[0]) if parsed else None
    if parsed is None or period is None or not period.self_signup_open:
        raise SignupError(_l("This post is not open for self-sign-up."))
    if solving(period.id):
        # The run would not know of the claim and could fill the same place again.
        raise SignupError(_l("The roster is being regenerated right now: try again in a minute."))
    _period_id, site_id, day, kind, role_id = parsed
    if _already_full(period, site_id, day, kind, role_id):
        # When fifty people claim the last place, forty-nine learn it at the cost of a few
        # lookups instead of the rules judging them against the whole post first.
        raise SignupError(TAKEN)
    post = next(
        iter(eligible_posts(period, volunteer, now, only=(site_id, day, kind, role_id))), None
    )
    if post is None:
        raise SignupError(
            _l("You cannot take this post: check your availability, skills and rest.")
        )
    headcount = post.headcount
    volunteer_id = volunteer.id
    draft = ensure_draft(period)
    draft_id = draft.id
    for _attempt in range(MAX_CLAIM_ATTEMPTS):
        slots = list(
            db.session.scalars(
                select(Assignment.slot).where(
                    Assignment.roster_id == draft_id,
                    Assignment.site_id == site_id,
                    Assignment.day == day,
                    Assignment.shift == kind,
                    Assignment.role_id == role_id,
                )
            )
        )
        used = {s for s in slots if s is not None}
        unnumbered = len(slots) - len(used)
        places = [n for n in range(1, headcount - unnumbered + 1) if n not in used]
        if len(slots) >= headcount or not places:
            break
        assignment = Assignment(
            roster_id=draft_id,
            site_id=site_id,
            day=day,
            shift=kind,
            role_id=role_id,
            volunteer_id=volunteer_id,
            slot=places[0],
            pinned=True,
            source=SOURCE_SELF_SIGNUP,
        )
        db.session.add(assignment)
        draft.touch()
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            busy = db.session.scalar(
                select(Assignment.id).where(
                    Assignment.roster_id == draft_id,
                    Assignment.volunteer_id == volunteer_id,
                    Assignment.day == day,
                    Assignment.shift == kind,
                )
            )
            if busy is not None:
                raise SignupError(_l("You already have a shift at that time.")) from None
            continue  # someone took that place first: try the next one
        return assignment
    raise SignupError(TAKEN)


def _already_full(period: PlanningPeriod, site_id: int, day: date, kind: str, role_id: int) -> bool:
    """Whether the draft already holds the post's head count (the site's demand plus urgent
    requests); an unknown site is not full (the full check refuses it)."""
    site = db.session.get(Site, site_id)
    if site is None:
        return False
    headcount = demand_of(site, day, kind, urgent_extra(period.id, [site_id])).get(role_id, 0)
    draft = current_draft(period.id)
    filled = _filled_post(draft.id if draft is not None else None, site_id, day, kind, role_id)
    return headcount > 0 and filled[(site_id, day, kind, role_id)] >= headcount


def my_signups(volunteer: Volunteer) -> list[MySignup]:
    """The volunteer's self-sign-ups in the drafts of periods, by date; withdrawable while no
    published version holds them yet."""
    rows = list(
        db.session.scalars(
            select(Assignment)
            .join(Roster, Roster.id == Assignment.roster_id)
            .where(
                Roster.status == DRAFT,
                Assignment.volunteer_id == volunteer.id,
                Assignment.source == SOURCE_SELF_SIGNUP,
            )
            .options(selectinload(Assignment.site), selectinload(Assignment.role))
        )
    )
    result = []
    for a in rows:
        result.append(MySignup(a, not _published(a)))
    result.sort(key=lambda s: s.assignment.site.shift_window(s.assignment.day, s.assignment.shift))
    return result


def _published(a: Assignment) -> bool:
    published = latest_published(a.roster.period_id)
    if published is None:
        return False
    return (
        db.session.scalar(
            select(Assignment.id).where(
                Assignment.roster_id == published.id,
                Assignment.volunteer_id == a.volunteer_id,
                Assignment.site_id == a.site_id,
                Assignment.day == a.day,
                Assignment.shift == a.shift,
            )
        )
        is not None
    )


def withdraw(volunteer: Volunteer, assignment_id: int) -> None:
    """Withdraw one of the volunteer's own self-sign-ups from a draft, before it is published
    (afterwards it is a published shift: cancel it instead). LookupError when not theirs."""
    a = db.session.scalar(
        select(Assignment)
        .join(Roster, Roster.id == Assignment.roster_id)
        .where(
            Assignment.id == assignment_id,
            Assignment.volunteer_id == volunteer.id,
            Assignment.source == SOURCE_SELF_SIGNUP,
            Roster.status == DRAFT,
        )
    )
    if a is None:
        raise LookupError(assignment_id)
    if _published(a):
        raise SignupError(_l("This shift is already published: cancel it from your shifts."))
    a.roster.touch()
    db.session.delete(a)
    db.session.commit()
