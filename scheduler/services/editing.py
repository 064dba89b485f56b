"""Hand edits of a period's draft roster: ranked candidates for a post, assign, unassign, swap
and pin, each re-checked with `solver.check` against the rules the solver itself obeys.

An edit that breaks a hard rule the draft did not already break is not written; the caller
gets the new violations as warnings and may repeat the edit with `confirm=True` and a note.
The rows it then writes carry `rule_override=True` and the note, so the roster records that a
rule was broken deliberately. Such rows cannot be solver pins (the solver's Problem rejects a
pin for someone unavailable or unqualified): `scheduler.planning.build_problem` leaves them
out of the problem, and `save_solution` keeps a pinned one as it is (an unpinned one at a
re-solved site is replaced like any unpinned row). The solver does not see an override row, so
it may fill the same post again or schedule that volunteer next to it; the rule check of the
next hand edit still sees it.

Published rosters are immutable: every function here refuses them. Functions flush; the
caller commits once per request.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

import solver
from scheduler.extensions import db
from scheduler.i18n import lazy_gettext as _l
from scheduler.models import (
    Assignment,
    PlanningPeriod,
    Role,
    Roster,
    ShiftResponse,
    Site,
    UnfilledPost,
    User,
    Volunteer,
)
from scheduler.models.responses import CANCELLED_BY_VOLUNTEER
from scheduler.models.rosters import DRAFT, SOURCE_HAND
from scheduler.planning import PlanningError, build_problem, person_id, shift_id
from scheduler.services import audit, scope
from scheduler.services.demand import demand_of, urgent_extra
from scheduler.services.errors import ServiceError
from scheduler.services.lookups import current_draft, lock_draft
from scheduler.services.rosters import solving
from scheduler.services.signup import free_slot

__all__ = [
    "MAX_CANDIDATES",
    "NOTE_MAX",
    "Candidate",
    "EditError",
    "EditOutcome",
    "PostFill",
    "RuleWarning",
    "assign",
    "candidates",
    "draft_assignment",
    "editable_draft",
    "ensure_editable",
    "post_fill",
    "set_pinned",
    "swap",
    "swap_partners",
    "unassign",
]

MAX_CANDIDATES = 40
# The warning for putting a volunteer back on a shift time they cancelled (publishing then
# withdraws their cancellation: scheduler.services.publishing).
CANCELLED_RULE = "cancelled_by_volunteer"
CHECKED_CANDIDATES = 120  # candidates run through solver.check, after a cheap first cut
NOTE_MAX = 500

# What each of the checker's hard rules means, in the coordinator's language.
RULE_LABELS = {
    "rest": _l("Less rest between two shifts than the rules require (16 hours)"),
    "overlap": _l("Two shifts at the same time"),
    "shifts_per_day": _l("More than one shift on one day"),
    "seven_day_cap": _l("Above the weekly cap or the limit of shifts in 7 days"),
    "nights_refused": _l("Does not accept night shifts"),
    "not_qualified": _l("Not qualified or trained for this post"),
    "not_available": _l("Not available for this shift"),
    "day_off": _l("Works on a day off"),
    "max_consecutive_days": _l("Too many working days in a row"),
    "nights_7_days": _l("Too many night shifts in 7 days"),
    CANCELLED_RULE: _l(
        "Cancelled this shift themselves: confirming gives it back to them and withdraws "
        "their cancellation"
    ),
    "over_cover": _l("The post already has every person it needs"),
}
OTHER_RULE = _l("Breaks a roster rule")


class EditError(ServiceError):
    """Why an edit cannot be made at all (nothing was written); `field` names the form field."""


@dataclass(frozen=True)
class RuleWarning:
    """A hard rule an edit would break: the rule code, whom it concerns, the checker's detail
    (internal, for logs and tests: pages show `sentence`), and the person's name."""

    rule: str
    volunteer_id: int | None
    detail: str
    name: str = ""

    @property
    def label(self) -> str:
        """The rule in words (translated)."""
        return str(RULE_LABELS.get(self.rule, OTHER_RULE))

    @property
    def sentence(self) -> str:
        """'周点长：不具备此岗位的资质或未经培训': whom it concerns and the rule, in words."""
        if not self.name:
            return self.label
        return str(_l("%(name)s: %(rule)s", name=self.name, rule=self.label))


def _named(warnings: list[RuleWarning]) -> list[RuleWarning]:
    """The warnings with the names of the volunteers they concern (one query)."""
    ids = {w.volunteer_id for w in warnings if w.volunteer_id is not None}
    if not ids:
        return warnings
    names: dict[int | None, str] = dict(
        db.session.execute(
            select(Volunteer.id, User.name).join(User).where(Volunteer.id.in_(ids))
        ).all()
    )
    return [replace(w, name=names.get(w.volunteer_id, "")) for w in warnings]


@dataclass(frozen=True)
class PostFill:
    """How many people the draft has on one post, against its head count."""

    assigned: int
    needed: int

    @property
    def full(self) -> bool:
        return self.assigned >= self.needed


def post_fill(period: PlanningPeriod, site: Site, day: date, kind: str, role: Role) -> PostFill:
    """The draft's head count on one post (site, day, shift, role) and what it needs."""
    draft = editable_draft(period)
    needed = demand_of(site, day, kind, urgent_extra(period.id, [site.id])).get(role.id, 0)
    assigned = (
        db.session.scalar(
            select(func.count(Assignment.id)).where(
                Assignment.roster_id == draft.id,
                Assignment.site_id == site.id,
                Assignment.day == day,
                Assignment.shift == kind,
                Assignment.role_id == role.id,
            )
        )
        or 0
    )
    return PostFill(assigned=assigned, needed=needed)


@dataclass
class EditOutcome:
    """What an edit did: `applied` False means nothing was written and `warnings` need a
    confirmation; True with warnings means the rules were broken deliberately."""

    applied: bool
    warnings: list[RuleWarning] = field(default_factory=list)


@dataclass
class Candidate:
    """A volunteer who could take a post, with the rules they would break and why they fit."""

    volunteer: Volunteer
    warnings: list[RuleWarning]
    shifts: int  # shifts in the draft in this period
    cap_share: int  # shifts as a percentage of their capacity over the period
    same_site: bool  # works this site the day before, the same day or the day after
    district_match: bool

    @property
    def fits(self) -> bool:
        """Breaks no rule."""
        return not self.warnings


def ensure_editable(roster: Roster) -> None:
    """Refuse any change to a published roster (published versions are immutable), and any
    change to a draft while a run of its period is queued or running (the run would overwrite
    the edit when it saves)."""
    if roster.status != DRAFT:
        raise EditError(_l("A published roster cannot be changed; edit the draft instead."))
    # start_run takes the same lock: a run cannot start between this check and the edit.
    lock_draft(roster.id)
    if solving(roster.period_id):
        raise EditError(
            _l("A roster is being generated for this period: edit the draft when it has finished.")
        )


def _cancellation_warnings(moves: list[tuple[int, date, str]]) -> list[RuleWarning]:
    """A warning for each (volunteer id, day, kind) the volunteer has cancelled themselves,
    with the reason they gave."""
    warnings = []
    for volunteer_id, day, kind in moves:
        reason = db.session.scalar(
            select(ShiftResponse.reason).where(
                ShiftResponse.volunteer_id == volunteer_id,
                ShiftResponse.day == day,
                ShiftResponse.shift == kind,
                ShiftResponse.status == CANCELLED_BY_VOLUNTEER,
            )
        )
        if reason is not None:
            warnings.append(RuleWarning(CANCELLED_RULE, volunteer_id, reason))
    return warnings


def editable_draft(period: PlanningPeriod) -> Roster:
    """The period's draft, or an EditError when there is none yet."""
    draft = current_draft(period.id)
    if draft is None:
        raise EditError(_l("There is no draft yet: generate a roster first."))
    return draft


@dataclass
class _Context:
    """The period as the solver sees it, and the draft's rows in solver terms."""

    problem: solver.Problem
    rows: list[Assignment]
    codes: dict[int, str]  # role id -> role code

    def as_solver(self, a: Assignment, volunteer_id: int | None = None) -> solver.Assignment:
        vid = a.volunteer_id if volunteer_id is None else volunteer_id
        return solver.Assignment(
            person=person_id(vid),
            shift=shift_id(a.site_id, a.day, a.shift),
            role=self.codes[a.role_id],
        )

    def current(self) -> list[solver.Assignment]:
        return [self.as_solver(a) for a in self.rows]


def _context(period: PlanningPeriod, draft: Roster) -> _Context:
    try:
        problem, _mapping = build_problem(period)
    except PlanningError as error:
        raise EditError(error.message) from error
    # Checking a hand edit is about the rules, not about keeping pins: an unassigned pin is
    # a deliberate edit, not a violation.
    problem = replace(problem, pins=(), baseline=())
    rows = list(db.session.scalars(select(Assignment).where(Assignment.roster_id == draft.id)))
    codes: dict[int, str] = {}
    for rid, code in db.session.execute(select(Role.id, Role.code)):
        codes[rid] = code
    return _Context(problem, rows, codes)


def _new_violations(
    problem: solver.Problem,
    before: list[solver.Assignment],
    after: list[solver.Assignment],
    people: set[str] | None = None,
) -> list[RuleWarning]:
    """Violations of `after` that `before` does not have (restricted to `people` if given)."""
    old = set(solver.check(problem, before).violations)
    found = []
    for v in solver.check(problem, after).violations:
        if v in old or (people is not None and v.person not in people):
            continue
        vid = int(v.person[1:]) if v.person and v.person.startswith("v") else None
        found.append(RuleWarning(v.rule, vid, v.message))
    return found


def _check_post(period: PlanningPeriod, site: Site, day: date, kind: str, role: Role) -> None:
    if site not in period.sites or site.archived_at is not None:
        raise EditError(_l("This site is not one of the period's active sites."))
    if not period.covers(day) or kind not in site.shift_kinds:
        raise EditError(_l("This site has no such shift in the period."))
    if role.id not in demand_of(site, day, kind, urgent_extra(period.id, [site.id])):
        raise EditError(_l("This shift has no such post."))


def _clean_note(note: str | None) -> str | None:
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise EditError(_l("At most %(max)d characters.", max=NOTE_MAX), "note")
    return note or None


def _require_note(note: str | None) -> str:
    if not note:
        raise EditError(_l("Say why the rule may be broken."), "note")
    return note


def sync_unfilled(
    draft: Roster, site: Site, day: date, kind: str, role_id: int
) -> UnfilledPost | None:
    """Keep the draft's unfilled post for one role on one shift in step with its head count
    (after a hand edit, or an urgent request that changes the head count); returns it (None:
    the post is filled). Flushes nothing."""
    extra = urgent_extra(draft.period_id, [site.id])
    needed = demand_of(site, day, kind, extra).get(role_id, 0)
    filled = db.session.scalar(
        select(func.count(Assignment.id)).where(
            Assignment.roster_id == draft.id,
            Assignment.site_id == site.id,
            Assignment.day == day,
            Assignment.shift == kind,
            Assignment.role_id == role_id,
        )
    )
    post = db.session.scalar(
        select(UnfilledPost).where(
            UnfilledPost.roster_id == draft.id,
            UnfilledPost.site_id == site.id,
            UnfilledPost.day == day,
            UnfilledPost.shift == kind,
            UnfilledPost.role_id == role_id,
        )
    )
    missing = needed - (filled or 0)
    draft.touch()
    if missing <= 0:
        if post is not None:
            db.session.delete(post)
        return None
    if post is None:
        post = UnfilledPost(
            roster_id=draft.id,
            site_id=site.id,
            day=day,
            shift=kind,
            role_id=role_id,
            missing=missing,
            reasons=[],
        )
        db.session.add(post)
    else:
        post.missing = missing
    return post


def _touch(draft: Roster) -> None:
    draft.touch()
    db.session.flush()


def edit_context(period: PlanningPeriod) -> _Context:
    """The draft in solver terms, for ranking several posts' candidates with one build."""
    return _context(period, editable_draft(period))


def candidates(
    period: PlanningPeriod,
    site: Site,
    day: date,
    kind: str,
    role: Role,
    context: _Context | None = None,
) -> list[Candidate]:
    """Volunteers for one post of the draft, best fit first: those who break no rule (available,
    qualified, rested, under their caps), then the rest by how few rules they would break; ties
    go to the lowest load relative to their capacity, then to someone already working this
    site on the neighbouring days, then to someone from the site's district.

    Each candidate is checked with `solver.check` on their own schedule plus the post (hard
    rules are per person, so this equals checking the whole draft). Volunteers already on this
    shift time are left out; only those available for the shift or qualified for the role are
    considered: the CHECKED_CANDIDATES likeliest are checked, the best MAX_CANDIDATES shown."""
    _check_post(period, site, day, kind, role)
    ctx = context if context is not None else edit_context(period)
    sid = shift_id(site.id, day, kind)
    busy = {a.volunteer_id for a in ctx.rows if a.day == day and a.shift == kind}
    by_person: dict[str, list[solver.Assignment]] = {}
    worked_here: set[int] = set()
    load: Counter[int] = Counter()
    for a in ctx.rows:
        by_person.setdefault(person_id(a.volunteer_id), []).append(ctx.as_solver(a))
        load[a.volunteer_id] += 1
        if a.site_id == site.id and abs((a.day - day).days) <= 1:
            worked_here.add(a.volunteer_id)
    weeks = ((period.end_date - period.start_date).days + 1) / 7
    weekly_limit = ctx.problem.rules.max_shifts_in_7_days
    night = kind in ctx.problem.rules.night_kinds
    # A cheap first cut (availability, qualification, nights, load) picks whom to check: the
    # rule check per candidate is linear in the period's shifts, so checking a city's whole
    # pool for every post would be slow.
    pool = []
    for person in ctx.problem.people:
        vid = int(person.id[1:])
        if vid in busy or (sid not in person.available and role.code not in person.roles):
            continue
        caps = [c for c in (person.weekly_cap, weekly_limit) if c is not None]
        capacity = min(caps) * weeks if caps else 0
        share = round(100 * load[vid] / capacity) if capacity else 0
        misfit = (
            (sid not in person.available)
            + (role.code not in person.roles)
            + (night and not person.accepts_nights)
        )
        pool.append((misfit, share, vid not in worked_here, vid, person))
    pool.sort(key=lambda item: item[:4])
    shifts_only = replace(ctx.problem, people=(), pins=(), baseline=())
    scored = []
    for _misfit, share, away, vid, person in pool[:CHECKED_CANDIDATES]:
        # Hard rules are per person: checking them alone against every shift is the same as
        # checking the whole draft, and independent of the pool's size.
        alone = replace(shifts_only, people=(replace(person, partner=None),))
        mine = by_person.get(person.id, [])
        new = solver.Assignment(person=person.id, shift=sid, role=role.code)
        warnings = _new_violations(alone, mine, [*mine, new])
        scored.append((len(warnings), share, away, vid, warnings))
    ids = [vid for *_rest, vid, _w in scored]
    volunteers = {
        v.id: v
        for v in db.session.scalars(
            select(Volunteer)
            .where(Volunteer.id.in_(ids))
            .options(selectinload(Volunteer.user), selectinload(Volunteer.organisation))
        )
    }
    result = [
        Candidate(
            volunteer=volunteers[vid],
            warnings=warnings,
            shifts=load[vid],
            cap_share=share,
            same_site=not away,
            district_match=site.district_id is not None
            and volunteers[vid].district_id == site.district_id,
        )
        for _broken, share, away, vid, warnings in scored
    ]
    result.sort(
        key=lambda c: (
            len(c.warnings),
            c.cap_share,
            not c.same_site,
            not c.district_match,
            c.volunteer.user.name_pinyin or "",
        )
    )
    return result[:MAX_CANDIDATES]


def assign(
    period: PlanningPeriod,
    site: Site,
    day: date,
    kind: str,
    role: Role,
    volunteer_id: int,
    *,
    confirm: bool = False,
    note: str | None = None,
) -> EditOutcome:
    """Put a volunteer on a post of the draft by hand. Breaking a rule the draft did not break
    needs `confirm` and a note; the row then records the override."""
    draft = editable_draft(period)
    ensure_editable(draft)
    _check_post(period, site, day, kind, role)
    note = _clean_note(note)
    volunteer = db.session.get(Volunteer, volunteer_id)
    # Someone the period may not draw on (another district's) is as unknown as no one.
    if volunteer is None or not volunteer.user.active or not scope.may_serve(period, volunteer):
        raise EditError(_l("Choose an active volunteer."), "volunteer_id")
    ctx = _context(period, draft)
    for a in ctx.rows:
        if a.volunteer_id == volunteer_id and a.day == day and a.shift == kind:
            raise EditError(
                _l("This volunteer already has a post on this shift time; unassign it first."),
                "volunteer_id",
            )
    before = ctx.current()
    new = solver.Assignment(
        person=person_id(volunteer_id), shift=shift_id(site.id, day, kind), role=role.code
    )
    warnings = _cancellation_warnings([(volunteer_id, day, kind)])
    warnings += _new_violations(ctx.problem, before, [*before, new])
    if warnings and not confirm:
        return EditOutcome(applied=False, warnings=_named(warnings))
    if warnings:
        note = _require_note(note)
    row = Assignment(
        roster_id=draft.id,
        site_id=site.id,
        day=day,
        shift=kind,
        role_id=role.id,
        volunteer_id=volunteer_id,
        slot=free_slot(draft.id, site.id, day, kind, role.id),
        pinned=False,
        source=SOURCE_HAND,
        rule_override=bool(warnings),
        override_note=note if warnings else None,
    )
    db.session.add(row)
    db.session.flush()
    named = _named(warnings)
    _record(
        audit.EDIT_OVERRIDE if warnings else audit.EDIT_ASSIGN,
        row,
        after={"volunteer_id": volunteer_id, "volunteer": volunteer.user.name},
        details={"warnings": sorted({w.rule for w in named}), "note": note} if warnings else None,
    )
    sync_unfilled(draft, site, day, kind, role.id)
    _touch(draft)
    return EditOutcome(applied=True, warnings=named)


def _post_label(a: Assignment) -> audit.Summary:
    """The post, for the audit log: shown in the reader's language (the role in both)."""
    return audit.Summary(
        "post",
        {
            "site": a.site.name,
            "day": a.day,
            "shift": a.shift,
            "role_zh": a.role.name_zh,
            "role_en": a.role.name_en,
        },
    )


def _record(
    action: str,
    a: Assignment,
    *,
    before: dict[str, object] | None = None,
    after: dict[str, object] | None = None,
    details: dict[str, object] | None = None,
) -> None:
    """One audit row for a hand edit of draft post `a` (site, date, shift, role)."""
    audit.record(
        action,
        object_type="assignment",
        object_id=a.id,
        summary=_post_label(a),
        before=before,
        after=after,
        details=details,
        period_id=a.roster.period_id,
        site_id=a.site_id,
        volunteer_id=a.volunteer_id,
        district_id=a.site.district_id,
    )


def _person(a: Assignment) -> str:
    return a.volunteer.user.name


def draft_assignment(period: PlanningPeriod, assignment_id: int) -> Assignment | None:
    """An assignment of one of `period`'s rosters (draft or published), or None."""
    a = db.session.get(Assignment, assignment_id)
    if a is None or a.roster.period_id != period.id:
        return None
    return a


def unassign(assignment: Assignment) -> None:
    """Take a volunteer off a post of the draft (the post shows as unfilled again)."""
    ensure_editable(assignment.roster)
    _record(
        audit.EDIT_UNASSIGN,
        assignment,
        before={"volunteer_id": assignment.volunteer_id, "volunteer": _person(assignment)},
    )
    draft, site, day, kind, role_id = (
        assignment.roster,
        assignment.site,
        assignment.day,
        assignment.shift,
        assignment.role_id,
    )
    db.session.delete(assignment)
    db.session.flush()
    sync_unfilled(draft, site, day, kind, role_id)
    _touch(draft)


def set_pinned(assignment: Assignment, pinned: bool) -> None:
    """Pin an assignment (re-solving keeps it) or release it to the solver."""
    ensure_editable(assignment.roster)
    if assignment.pinned == pinned:
        return
    _record(
        audit.EDIT_PIN, assignment, before={"pinned": assignment.pinned}, after={"pinned": pinned}
    )
    assignment.pinned = pinned
    _touch(assignment.roster)


def swap_partners(assignment: Assignment) -> list[Assignment]:
    """Other volunteers' assignments in the same draft, within a day of this one: the posts
    this one can be swapped with."""
    return list(
        db.session.scalars(
            select(Assignment)
            .join(Volunteer, Volunteer.id == Assignment.volunteer_id)
            .join(User, User.id == Volunteer.user_id)
            .where(
                Assignment.roster_id == assignment.roster_id,
                Assignment.volunteer_id != assignment.volunteer_id,
                Assignment.day.between(
                    assignment.day - timedelta(days=1), assignment.day + timedelta(days=1)
                ),
            )
            .options(selectinload(Assignment.volunteer).selectinload(Volunteer.user))
            .order_by(Assignment.day, Assignment.shift, Assignment.site_id, User.name_pinyin)
        )
    )


def swap(
    period: PlanningPeriod,
    first: Assignment,
    second: Assignment,
    *,
    confirm: bool = False,
    note: str | None = None,
) -> EditOutcome:
    """Exchange the volunteers of two posts of the draft. Rules broken anew need `confirm` and
    a note, as for `assign`; both rows are then marked as overrides. Pins stay with the post."""
    ensure_editable(first.roster)
    ensure_editable(second.roster)
    if first.roster_id != second.roster_id or first.roster.period_id != period.id:
        raise EditError(_l("Both posts must be in this period's draft."), "other_id")
    if first.volunteer_id == second.volunteer_id:
        raise EditError(_l("Choose a post held by another volunteer."), "other_id")
    note = _clean_note(note)
    draft = first.roster
    ctx = _context(period, draft)
    before = ctx.current()
    after = []
    for a in ctx.rows:
        if a.id == first.id:
            after.append(ctx.as_solver(a, second.volunteer_id))
        elif a.id == second.id:
            after.append(ctx.as_solver(a, first.volunteer_id))
        else:
            after.append(ctx.as_solver(a))
    moved = {
        (second.volunteer_id, first.day, first.shift),
        (first.volunteer_id, second.day, second.shift),
    }
    for a in ctx.rows:
        if a.id not in (first.id, second.id) and (a.volunteer_id, a.day, a.shift) in moved:
            raise EditError(
                _l("A volunteer would hold two posts on one shift time; unassign one first."),
                "other_id",
            )
    warnings = _cancellation_warnings(
        [
            (second.volunteer_id, first.day, first.shift),
            (first.volunteer_id, second.day, second.shift),
        ]
    )
    warnings += _new_violations(ctx.problem, before, after)
    if warnings and not confirm:
        return EditOutcome(applied=False, warnings=_named(warnings))
    if warnings:
        note = _require_note(note)
    for a, other in ((first, second), (second, first)):
        _record(
            audit.EDIT_OVERRIDE if warnings else audit.EDIT_SWAP,
            a,
            before={"volunteer_id": a.volunteer_id, "volunteer": _person(a)},
            after={"volunteer_id": other.volunteer_id, "volunteer": _person(other)},
            details={"warnings": sorted({w.rule for w in warnings}), "note": note}
            if warnings
            else None,
        )
    # Update in place (ids stay, so anything that refers to a row keeps working), in an
    # order no unique constraint trips over half-way: posts on the same shift time exchange
    # their place (site, role, numbered place, pin) instead of their volunteers.
    if (first.day, first.shift) == (second.day, second.shift):
        places = [(a.site_id, a.role_id, a.slot, a.pinned) for a in (first, second)]
        first.slot = second.slot = None
        db.session.flush()
        for a, (site_id, role_id, _slot, pinned) in ((first, places[1]), (second, places[0])):
            a.site_id, a.role_id, a.pinned = site_id, role_id, pinned
        db.session.flush()
        first.slot, second.slot = places[1][2], places[0][2]
    else:
        first.volunteer_id, second.volunteer_id = second.volunteer_id, first.volunteer_id
    for a in (first, second):
        a.source = SOURCE_HAND
        a.rule_override = bool(warnings)
        a.override_note = note if warnings else None
    _touch(draft)
    return EditOutcome(applied=True, warnings=_named(warnings))
