"""The only bridge between the app and `solver/`: database rows -> `solver.Problem`, and a
`solver.Solution` -> the period's draft roster.

Ids on the solver side are plain strings: a shift is ``"<site id>:<ISO day>:<kind>"``, a person
``"v<volunteer id>"``, a role its catalogue code. `PlanningMap` keeps the way back.

Solving a subset of a period's sites leaves the rest of the draft as it is: those assignments
(and every pinned assignment) go into the problem as pins, on shifts whose demand is exactly
what they hold, so every rest and cap rule still sees each volunteer's whole schedule.

A pin is kept only while its volunteer may still serve it: one who is no longer among the
people the period draws on (they left its unions: scope.eligible_volunteer_ids) or no longer
holds the skill, verified qualification or training the role needs is dropped from a solve of
its site -- the post is solved again and the run lists each dropped pin with its reason
(`SolveRun.dropped_pins`, shown with the run's result). Such a row at a site not being solved
stays in the draft as it is, out of the problem. (A deactivated account's upcoming posts are
freed when it is deactivated: services.profile.leave_rosters.)
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Select, delete, insert, select
from sqlalchemy.orm import selectinload

import solver
from scheduler.extensions import db
from scheduler.i18n import lazy_gettext as _l
from scheduler.models import (
    Assignment,
    Availability,
    DayOff,
    PlanningPeriod,
    Role,
    Roster,
    ShiftResponse,
    Site,
    Skill,
    SolveRun,
    UnfilledPost,
    User,
    Volunteer,
    VolunteerSkill,
)
from scheduler.models.responses import CANCELLED_BY_VOLUNTEER
from scheduler.models.rosters import DRAFT, PUBLISHED, SOURCE_SOLVER
from scheduler.services import scope
from scheduler.services.availability import Offer, span_index
from scheduler.services.demand import PostKey, demand_of, urgent_extra
from scheduler.services.errors import ServiceError
from scheduler.services.lookups import current_draft, lock_draft
from solver.explain import Reason, explain

__all__ = [
    "NOT_DRAWN_ON",
    "NOT_QUALIFIED",
    "DroppedPin",
    "PlanningError",
    "PlanningMap",
    "ShiftKey",
    "build_problem",
    "person_id",
    "repair_holes",
    "save_solution",
    "shift_id",
]


class PlanningError(ServiceError):
    """The period cannot be turned into a problem, or a solution cannot be saved. The message
    is a lazy string, translated where it is shown (the run's error is stored in English)."""


class ShiftKey(NamedTuple):
    """Where and when a solver shift is: site, local date, shift kind."""

    site_id: int
    day: date
    kind: str


@dataclass
class PlanningMap:
    """How the solver's string ids map back onto rows, and what the problem was built from."""

    shifts: dict[str, ShiftKey] = field(default_factory=dict)
    volunteers: dict[str, int] = field(default_factory=dict)  # person id -> volunteer id
    roles: dict[str, int] = field(default_factory=dict)  # role code -> role id
    site_ids: tuple[int, ...] = ()  # the sites being solved
    # Shifts present only to carry assignments the solve keeps (other sites' draft rows).
    fixed_shifts: frozenset[str] = frozenset()
    draft_id: int | None = None
    posts_total: int = 0  # posts of the solved sites: the sum of their head counts
    # Draft rows of inactive volunteers (deleted or deactivated accounts): kept as they are.
    held_ids: frozenset[int] = frozenset()
    # Pins at the solved sites whose volunteer may no longer serve them: deleted on save.
    dropped: tuple[DroppedPin, ...] = ()


# Why a pin was dropped from a solve (SolveRun.dropped_pins[*]["reason"]).
NOT_DRAWN_ON = "not_drawn_on"  # no longer one of the people the period draws on
NOT_QUALIFIED = "not_qualified"  # lacks the role's skill, verified qualification or training


@dataclass(frozen=True)
class DroppedPin:
    """A pinned draft row a solve did not keep, and why (NOT_DRAWN_ON, NOT_QUALIFIED)."""

    assignment_id: int
    volunteer_id: int
    site_id: int
    day: date
    shift: str
    role_id: int
    reason: str


def shift_id(site_id: int, day: date, kind: str) -> str:
    """The solver id of a site's shift on a day."""
    return f"{site_id}:{day.isoformat()}:{kind}"


def person_id(volunteer_id: int) -> str:
    """The solver id of a volunteer."""
    return f"v{volunteer_id}"


# Cost of dropping a baseline assignment in a minimal-change run (a repair): above what moving
# one shift can gain in fair load (weight_fair_load 5 × a shift's cost, under 100; see
# solver.rules.fairness), below an unfilled post (1000).
MINIMAL_CHANGE_WEIGHT = 600


def _chosen_sites(period: PlanningPeriod, site_ids: Iterable[int] | None) -> list[Site]:
    sites = [s for s in period.sites if s.archived_at is None]
    if site_ids is not None:
        wanted = set(site_ids)
        unknown = wanted - {s.id for s in sites}
        if unknown:
            raise PlanningError(_l("A chosen site is not one of this period's active sites."))
        sites = [s for s in sites if s.id in wanted]
    if not sites:
        raise PlanningError(_l("The period has no active sites to roster."))
    return sorted(sites, key=lambda s: s.id)


@dataclass
class _RoleInfo:
    id: int
    code: str
    skill_id: int | None
    qualification: bool
    training: bool
    lead: bool
    sort_order: int


def _roles() -> dict[int, _RoleInfo]:
    rows = db.session.execute(
        select(
            Role.id,
            Role.code,
            Role.required_skill_id,
            Skill.is_qualification,
            Role.requires_training,
            Role.is_lead,
            Role.sort_order,
        ).outerjoin(Skill, Skill.id == Role.required_skill_id)
    )
    return {
        r.id: _RoleInfo(r.id, r.code, r.required_skill_id, bool(r[3]), r[4], r[5], r[6])
        for r in rows
    }


def _inactive_volunteers(volunteer_ids: set[int]) -> set[int]:
    """Those of `volunteer_ids` whose account is not active (deleted or deactivated)."""
    if not volunteer_ids:
        return set()
    return set(
        db.session.scalars(
            select(Volunteer.id)
            .join(User, User.id == Volunteer.user_id)
            .where(Volunteer.id.in_(volunteer_ids), User.active.is_(False))
        )
    )


def build_problem(
    period: PlanningPeriod,
    site_ids: Iterable[int] | None = None,
    baseline_roster: Roster | None = None,
    minimal_change: bool = False,
    volunteer_ids: Collection[int] | None = None,
    no_shows: Mapping[int, int] | None = None,
) -> tuple[solver.Problem, PlanningMap]:
    """The rostering problem of `period` for its active sites (or the chosen `site_ids`).

    Shifts: every day × every shift kind each site runs that has a head count. People: every
    volunteer with an active account; qualified for a role when they hold its required skill
    (verified, for a qualification) and, if it needs training, are trained; available for
    every shift whose real hours lie inside the hours they offered (services.availability.Offer),
    except on their days off and on slots where they cancelled a published shift. Pins: the draft's
    pinned assignments and everything the draft holds at sites not being solved, except those
    whose volunteer may no longer serve them (see the module docstring: `mapping.dropped`).
    `baseline_roster`'s assignments become the baseline (minimal change when re-solving; with
    `minimal_change`, as for a repair, changing one costs more than any fairness gain).
    With the period's `deprioritise_no_shows`, volunteers with repeated `no_shows` (per volunteer
    id, their no-shows before the period: the caller passes services.hours.no_show_counts) get
    a soft off-request on each of its days (see _no_show_requests).
    Only volunteers of the period's unions are people (services.scope: a district's period
    draws on its district, a city-wide one on everybody).
    Loads everything with a handful of set queries, whatever the number of volunteers.
    With `volunteer_ids`, only those volunteers are people and only their draft rows are kept
    (pins, other sites' rows): enough to judge what one volunteer may take (self-sign-up)
    against what they hold, without loading the pool or the rest of the draft.
    """
    days = period.days
    first, last = days[0], days[-1]
    chosen = _chosen_sites(period, site_ids)
    chosen_ids = {s.id for s in chosen}
    roles = _roles()
    code_of = {rid: info.code for rid, info in roles.items()}
    mapping = PlanningMap(
        roles={info.code: rid for rid, info in roles.items()},
        site_ids=tuple(sorted(chosen_ids)),
    )

    draft = current_draft(period.id)
    mapping.draft_id = draft.id if draft is not None else None
    kept, overridden, mapping.held_ids = _kept_assignments(draft, chosen_ids, volunteer_ids)
    eligible = scope.eligible_volunteer_ids(period)
    before = kept
    kept, dropped, unsolved = _split_ineligible(kept, chosen_ids, roles, eligible)
    mapping.dropped = tuple(dropped)
    mapping.held_ids |= unsolved
    held_out = [a for a in before if a.id in unsolved]
    site_rows = _site_rows(chosen, kept)
    kept_by_shift: dict[str, Counter[str]] = defaultdict(Counter)
    for a in kept:
        kept_by_shift[shift_id(a.site_id, a.day, a.shift)][code_of[a.role_id]] += 1

    extra = urgent_extra(period.id, chosen_ids)
    solved, mapping.posts_total = _solved_shifts(
        chosen, days, code_of, extra, kept_by_shift, overridden
    )
    solved_ids = {s.id for s in solved}
    fixed = _fixed_shifts(
        {sid: counts for sid, counts in kept_by_shift.items() if sid not in solved_ids},
        site_rows,
    )
    shifts = solved + fixed
    mapping.shifts = {s.id: _shift_key(s) for s in shifts}
    mapping.fixed_shifts = frozenset(s.id for s in fixed)
    # Solved shifts by their local start (an hour index): availability is matched on real hours.
    by_start: dict[int, list[ShiftKey]] = defaultdict(list)
    for s in solved:
        by_start[span_index(s.start.date(), s.start.hour)].append(mapping.shifts[s.id])

    requests = _no_show_requests(no_shows or {}, days) if period.deprioritise_no_shows else {}
    people = _people(
        first,
        last,
        chosen,
        roles,
        by_start,
        kept,
        requests,
        volunteer_ids,
        eligible,
    )
    mapping.volunteers = {p.id: int(p.id[1:]) for p in people}
    known = set(mapping.volunteers)

    pins = _pins(kept, known, code_of)
    baseline = (
        _baseline(baseline_roster, shifts, known, code_of) if baseline_roster is not None else []
    )
    rules = _rules(roles, minimal_change=bool(baseline) and minimal_change)
    people = _busy_around(people, held_out, shifts, pins, rules.min_rest_hours)
    try:
        problem = solver.Problem(
            shifts=tuple(shifts),
            people=tuple(people),
            rules=rules,
            pins=tuple(pins),
            baseline=tuple(baseline),
            first_day=first,
            last_day=last,
            # A head count is exact: nobody is sent to a post that does not need them.
            cover_cap=True,
        )
    except ValueError as error:
        # Raised for a pin the volunteer is no longer qualified for (or a similar change
        # made after the assignment): the run fails with the solver library's words.
        raise PlanningError(str(error)) from error
    return problem, mapping


def _kept_assignments(
    draft: Roster | None, chosen_ids: set[int], volunteer_ids: Collection[int] | None
) -> tuple[list[Any], Counter[tuple[str, int]], frozenset[int]]:
    """The draft's rows the solve keeps as pins: pinned ones, and all at sites not being
    solved (only those of `volunteer_ids`, when given); how many rows out of the problem hold
    a place on each solved (shift, role id); and the ids of the rows of inactive volunteers,
    which stay in the draft as they are."""
    if draft is None:
        return [], Counter(), frozenset()
    kept = list(
        db.session.execute(
            select(
                Assignment.id,
                Assignment.site_id,
                Assignment.day,
                Assignment.shift,
                Assignment.role_id,
                Assignment.volunteer_id,
                Assignment.pinned,
                Assignment.rule_override,
            ).where(
                Assignment.roster_id == draft.id,
                *_among(Assignment.volunteer_id, volunteer_ids),
            )
        )
    )
    # A deliberate rule override (scheduler.services.editing) cannot be a valid pin (the
    # person may be unqualified or unavailable): it stays in the draft but out of the
    # problem, and save_solution skips solver rows that collide with it. A pinned one stays
    # in the draft and holds its place: the solver's head count there is one lower, so
    # nobody is sent on top of it.
    overridden = Counter(
        (shift_id(a.site_id, a.day, a.shift), a.role_id)
        for a in kept
        if a.rule_override and a.pinned and a.site_id in chosen_ids
    )
    # A row of a volunteer whose account is no longer active (deleted: only posts that had
    # started stay; deactivated: all stay) is the roster's history, not a choice to make
    # again: it stays in the draft as it is, out of the problem (that person is no longer one
    # of its people), and holds its place like a pinned override.
    inactive = _inactive_volunteers({a.volunteer_id for a in kept})
    held = [a for a in kept if a.volunteer_id in inactive and not a.rule_override]
    overridden.update(
        (shift_id(a.site_id, a.day, a.shift), a.role_id) for a in held if a.site_id in chosen_ids
    )
    pins = [
        a
        for a in kept
        if (a.pinned or a.site_id not in chosen_ids)
        and not a.rule_override
        and a.volunteer_id not in inactive
    ]
    return pins, overridden, frozenset(a.id for a in held)


def _qualified(info: _RoleInfo, skills: set[int], trained: bool) -> bool:
    """Whether someone holding `skills` (verified, for a qualification) and `trained` or not
    may take the role: the one rule for people in the problem and for kept pins."""
    return (info.skill_id is None or info.skill_id in skills) and (trained or not info.training)


def _skills_of(volunteer_ids: Collection[int] | None) -> dict[int, set[int]]:
    """The skills each volunteer (of `volunteer_ids`; None: everyone) may use: a qualification
    counts once a coordinator has verified it."""
    skills: dict[int, set[int]] = defaultdict(set)
    for vid, skill_id, verified_at, qualification in db.session.execute(
        select(
            VolunteerSkill.volunteer_id,
            VolunteerSkill.skill_id,
            VolunteerSkill.verified_at,
            Skill.is_qualification,
        )
        .join(Skill, Skill.id == VolunteerSkill.skill_id)
        .where(*_among(VolunteerSkill.volunteer_id, volunteer_ids))
    ):
        if not qualification or verified_at is not None:
            skills[vid].add(skill_id)
    return skills


def _split_ineligible(
    kept: list[Any], chosen_ids: set[int], roles: dict[int, _RoleInfo], eligible: Select[int]
) -> tuple[list[Any], list[DroppedPin], frozenset[int]]:
    """`kept` without the rows whose volunteer may no longer serve them (not among the people
    the period draws on, or not qualified for the row's role any more): those at the solved
    sites (pins) as DroppedPins with their reason, and the ids of those elsewhere, which stay
    in the draft as they are. Three set queries over the kept rows' volunteers."""
    if not kept:
        return kept, [], frozenset()
    vids = {a.volunteer_id for a in kept}
    able = set(
        db.session.scalars(
            select(Volunteer.id).where(Volunteer.id.in_(vids), Volunteer.id.in_(eligible))
        )
    )
    skills = _skills_of(vids)
    trained = {
        vid: at is not None
        for vid, at in db.session.execute(
            select(Volunteer.id, Volunteer.trained_at).where(Volunteer.id.in_(vids))
        )
    }
    keep: list[Any] = []
    dropped: list[DroppedPin] = []
    elsewhere: set[int] = set()
    for a in kept:
        vid = a.volunteer_id
        if vid not in able:
            reason = NOT_DRAWN_ON
        elif not _qualified(roles[a.role_id], skills.get(vid, set()), trained.get(vid, False)):
            reason = NOT_QUALIFIED
        else:
            keep.append(a)
            continue
        if a.site_id in chosen_ids:
            dropped.append(DroppedPin(a.id, vid, a.site_id, a.day, a.shift, a.role_id, reason))
        else:
            elsewhere.add(a.id)
    return keep, dropped, frozenset(elsewhere)


def _busy_around(
    people: list[solver.Person],
    held_out: list[Any],
    shifts: list[solver.Shift],
    pins: list[solver.Assignment],
    rest_hours: float,
) -> list[solver.Person]:
    """`people` without the shifts that would break overlap or rest around a row held out of
    the problem (`_split_ineligible`: its volunteer no longer qualifies for it, at a site not
    being solved; it stays in the draft as it is, and the person works it). The solver does
    not see that row, so its person's shifts within the minimum rest either side of it are
    taken out of their availability, as cancelled slots are (their pins stay: a clash there
    is the checker's to report). One query for the held rows' sites."""
    if not held_out:
        return people
    sites = {
        s.id: s
        for s in db.session.scalars(select(Site).where(Site.id.in_({a.site_id for a in held_out})))
    }
    busy: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for a in held_out:
        busy[person_id(a.volunteer_id)].append(sites[a.site_id].shift_window(a.day, a.shift))
    window = {s.id: (s.start, s.end) for s in shifts}
    pinned = {(p.person, p.shift) for p in pins}
    out = []
    for person in people:
        if person.id in busy:
            hours = person.min_rest_hours
            rest = timedelta(hours=rest_hours if hours is None else hours)
            spans = [(start - rest, end + rest) for start, end in busy[person.id]]
            person = replace(
                person,
                available=frozenset(
                    sid
                    for sid in person.available
                    if (person.id, sid) in pinned
                    or sid not in window
                    or not any(
                        window[sid][0] < late and early < window[sid][1] for early, late in spans
                    )
                ),
            )
        out.append(person)
    return out


def _site_rows(chosen: list[Site], kept: list[Any]) -> dict[int, Site]:
    """The chosen sites, and the sites of kept assignments outside them (which carry only
    those assignments), by id."""
    other_ids = {a.site_id for a in kept} - {s.id for s in chosen}
    site_rows = {s.id: s for s in chosen}
    if other_ids:
        site_rows.update(
            {
                s.id: s
                for s in db.session.scalars(
                    select(Site).where(Site.id.in_(other_ids)).options(selectinload(Site.demands))
                )
            }
        )
    return site_rows


def _shift(site: Site, day: date, kind: str, demands: Iterable[solver.Demand]) -> solver.Shift:
    """A site's shift on a day as a solver Shift, at its real hours."""
    start, end = site.shift_window(day, kind)
    return solver.Shift(
        id=shift_id(site.id, day, kind),
        site=str(site.id),
        start=start,
        end=end,
        kind=kind,
        demands=tuple(demands),
        day=day,
    )


def _shift_key(shift: solver.Shift) -> ShiftKey:
    """Where and when a shift built by `_shift` is."""
    assert shift.day is not None  # set by _shift (and by Shift itself when left out)
    return ShiftKey(int(shift.site), shift.day, shift.kind)


def _solved_shifts(
    chosen: list[Site],
    days: list[date],
    code_of: dict[int, str],
    extra: dict[PostKey, Counter[int]],
    kept_by_shift: dict[str, Counter[str]],
    overridden: Counter[tuple[str, int]],
) -> tuple[list[solver.Shift], int]:
    """Every day × shift kind of the chosen sites that has a head count, and the number of
    their posts (the sum of the head counts); a post a pinned rule override holds is not
    offered to the solver."""
    shifts: list[solver.Shift] = []
    posts_total = 0
    for site in chosen:
        for day in days:
            for kind in site.shift_kinds:
                sid = shift_id(site.id, day, kind)
                wanted = demand_of(site, day, kind, extra)
                need = {code_of[rid]: n for rid, n in wanted.items()}
                demands = [
                    solver.Demand(role=code_of[rid], min=max(0, n - overridden[(sid, rid)]))
                    for rid, n in wanted.items()
                ]
                # A pin on a role the shift no longer asks for (or above its head count)
                # widens the demand so the pin stays valid; no shortfall is invented.
                for code, count in kept_by_shift.get(sid, {}).items():
                    if code not in need:
                        demands.append(solver.Demand(role=code, min=0, max=count))
                    elif count > need[code]:
                        demands = [
                            solver.Demand(role=code, min=d.min, max=count) if d.role == code else d
                            for d in demands
                        ]
                if not demands:
                    continue
                posts_total += sum(need.values())
                shifts.append(_shift(site, day, kind, demands))
    return shifts, posts_total


def _fixed_shifts(
    kept_by_shift: dict[str, Counter[str]], site_rows: dict[int, Site]
) -> list[solver.Shift]:
    """Shifts present only to carry kept assignments (other sites' draft rows): each one's
    demand is exactly what it holds."""
    shifts = []
    for sid, counts in sorted(kept_by_shift.items()):
        site_part, day_part, kind = sid.split(":")
        demands = (solver.Demand(role=code, min=n, max=n) for code, n in sorted(counts.items()))
        shifts.append(
            _shift(site_rows[int(site_part)], date.fromisoformat(day_part), kind, demands)
        )
    return shifts


def _pins(kept: list[Any], known: set[str], code_of: dict[int, str]) -> list[solver.Assignment]:
    """The kept assignments as solver pins; each must belong to one of the problem's people."""
    pins = []
    for a in kept:
        pid = person_id(a.volunteer_id)
        if pid not in known:
            raise PlanningError(
                _l("A kept assignment belongs to a volunteer whose account is no longer active.")
            )
        pins.append(
            solver.Assignment(
                person=pid, shift=shift_id(a.site_id, a.day, a.shift), role=code_of[a.role_id]
            )
        )
    return pins


def _baseline(
    roster: Roster, shifts: list[solver.Shift], known: set[str], code_of: dict[int, str]
) -> list[solver.Assignment]:
    """`roster`'s assignments that still fit the problem (its shift, person and role)."""
    rows = db.session.execute(
        select(
            Assignment.site_id,
            Assignment.day,
            Assignment.shift,
            Assignment.role_id,
            Assignment.volunteer_id,
        ).where(Assignment.roster_id == roster.id)
    )
    by_id = {s.id: s for s in shifts}
    baseline = []
    for r in rows:
        sid, pid = shift_id(r.site_id, r.day, r.shift), person_id(r.volunteer_id)
        code = code_of[r.role_id]
        if sid in by_id and pid in known and by_id[sid].demand(code) is not None:
            baseline.append(solver.Assignment(person=pid, shift=sid, role=code))
    return baseline


def _rules(roles: dict[int, _RoleInfo], minimal_change: bool) -> solver.Rules:
    """The solver's rules: the first lead role by sort order leads each shift; with
    `minimal_change`, changing a baseline assignment costs more than any fairness gain."""
    leads = sorted((info.sort_order, info.id) for info in roles.values() if info.lead)
    rules = solver.Rules(lead_role=roles[leads[0][1]].code if leads else None)
    if minimal_change:
        # Volunteers were told their shifts: a repair keeps them unless moving one fills a
        # post, rather than trading them for fairer loads.
        rules = replace(rules, weight_baseline_change=MINIMAL_CHANGE_WEIGHT)
    return rules


def repair_holes(
    period: PlanningPeriod, problem: solver.Problem, mapping: PlanningMap
) -> dict[tuple[str, str], int]:
    """The holes a repair of the period's draft fills, as solver (shift, role) -> how many
    people the post may gain: what the latest published version held there and the draft
    has lost since (a cancellation, a hand removal), plus what open urgent requests add —
    never more than the post still misses. Every other post keeps what it holds (see
    solver.solve_repair)."""
    published = db.session.scalar(
        select(Roster.id)
        .where(Roster.period_id == period.id, Roster.status == PUBLISHED)
        .order_by(Roster.version.desc())
        .limit(1)
    )

    def held(roster_id: int | None) -> Counter[tuple[int, date, str, int]]:
        if roster_id is None:
            return Counter()
        rows = db.session.execute(
            select(Assignment.site_id, Assignment.day, Assignment.shift, Assignment.role_id).where(
                Assignment.roster_id == roster_id
            )
        )
        return Counter((site, day, kind, role) for site, day, kind, role in rows)

    told, now = held(published), held(mapping.draft_id)
    extra = urgent_extra(period.id, mapping.site_ids)
    in_problem = Counter((a.shift, a.role) for a in {*problem.pins, *problem.baseline})
    holes = {}
    for shift in problem.shifts:
        if shift.id in mapping.fixed_shifts:
            continue
        key = mapping.shifts[shift.id]
        for demand in shift.demands:
            role_id = mapping.roles[demand.role]
            post = (key.site_id, key.day, key.kind, role_id)
            lost = max(0, told[post] - now[post])
            gained = extra.get((key.site_id, key.day, key.kind), Counter())[role_id]
            missing = demand.min - in_problem[(shift.id, demand.role)]
            count = min(missing, lost + gained)
            if count > 0:
                holes[(shift.id, demand.role)] = count
    return holes


# Repeat no-shows (scheduler.services.hours.is_no_show) are rostered last when the period asks:
# from NO_SHOW_THRESHOLD no-shows before the period, each day they work costs NO_SHOW_BASE_WEIGHT
# plus NO_SHOW_WEIGHT per no-show, up to NO_SHOW_WEIGHT_CAP (so the worst go last of all). The
# base outweighs what fair load gains by handing them a shift instead of someone else (a shift
# costs weight_fair_load 5 x under 100, see solver.rules.fairness: in a two-week period the gap
# between the dearest and the cheapest shift is under 470), so anyone else who can take a post
# gets it first; and with their own shift's fair-load cost (under 500) it stays below an unfilled
# post (1000), so they still fill the posts nobody else can.
NO_SHOW_THRESHOLD = 2
NO_SHOW_BASE_WEIGHT = 470
NO_SHOW_WEIGHT = 2
NO_SHOW_WEIGHT_CAP = 20


def _no_show_requests(
    no_shows: Mapping[int, int], days: list[date]
) -> dict[int, tuple[solver.Request, ...]]:
    """Per volunteer id with NO_SHOW_THRESHOLD or more `no_shows`: an off-request for every
    one of `days` (an ungranted one costs its weight)."""
    requests = {}
    for volunteer_id, count in no_shows.items():
        if count >= NO_SHOW_THRESHOLD:
            weight = NO_SHOW_BASE_WEIGHT + min(NO_SHOW_WEIGHT * count, NO_SHOW_WEIGHT_CAP)
            requests[volunteer_id] = tuple(
                solver.Request(on=False, day=day, weight=weight) for day in days
            )
    return requests


def _among(column: Any, volunteer_ids: Collection[int] | None) -> list[Any]:
    """Where-clauses keeping the rows of `volunteer_ids` (none: every volunteer)."""
    return [] if volunteer_ids is None else [column.in_(list(volunteer_ids))]


def _people(
    first: date,
    last: date,
    chosen: list[Site],
    roles: dict[int, _RoleInfo],
    by_start: dict[int, list[ShiftKey]],
    kept: list[Any],
    requests: dict[int, tuple[solver.Request, ...]],
    volunteer_ids: Collection[int] | None = None,
    eligible: Select[int] | None = None,
) -> list[solver.Person]:
    """Every active volunteer (or those of `volunteer_ids`; only those `eligible` selects,
    when given: the period's own unions) as a solver Person (six set queries, no per-person
    query)."""
    volunteers = db.session.execute(
        select(
            Volunteer.id,
            Volunteer.district_id,
            Volunteer.accepts_nights,
            Volunteer.weekly_cap,
            Volunteer.partner_phone,
            Volunteer.trained_at,
            User.phone,
        )
        .join(User, User.id == Volunteer.user_id)
        .where(User.active.is_(True), *_among(Volunteer.id, volunteer_ids))
        .where(*([] if eligible is None else [Volunteer.id.in_(eligible)]))
        .order_by(Volunteer.id)
    ).all()
    ids = [v.id for v in volunteers]
    skills = _skills_of(volunteer_ids)
    # The day before and after count too: a 23:00 cell runs into the next date.
    cells: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for vid, day, hour in db.session.execute(
        select(Availability.volunteer_id, Availability.day, Availability.start_hour).where(
            Availability.day.between(first - timedelta(days=1), last + timedelta(days=1)),
            *_among(Availability.volunteer_id, volunteer_ids),
        )
    ):
        cells[vid].append((day, hour))
    starts = sorted(by_start)
    slot_table = solver.SlotTable({i: [shift_id(*key) for key in by_start[i]] for i in starts})
    days_off: dict[int, set[date]] = defaultdict(set)
    for vid, day in db.session.execute(
        select(DayOff.volunteer_id, DayOff.day).where(
            DayOff.day.between(first, last), *_among(DayOff.volunteer_id, volunteer_ids)
        )
    ):
        days_off[vid].add(day)
    # A volunteer who cancelled a published shift is not offered that (day, kind) slot again,
    # at any site: repairing the hole must not put them back.
    cancelled: dict[int, set[tuple[date, str]]] = defaultdict(set)
    for vid, day, kind in db.session.execute(
        select(ShiftResponse.volunteer_id, ShiftResponse.day, ShiftResponse.shift).where(
            ShiftResponse.status == CANCELLED_BY_VOLUNTEER,
            ShiftResponse.day.between(first, last),
            *_among(ShiftResponse.volunteer_id, volunteer_ids),
        )
    ):
        cancelled[vid].add((day, kind))
    kept_shifts: dict[int, set[str]] = defaultdict(set)
    for a in kept:
        kept_shifts[a.volunteer_id].add(shift_id(a.site_id, a.day, a.shift))

    by_phone = {v.phone: v.id for v in volunteers}
    known = set(ids)
    sites_by_district: dict[int, set[str]] = defaultdict(set)
    for site in chosen:
        if site.district_id is not None:
            sites_by_district[site.district_id].add(str(site.id))

    people = []
    for v in volunteers:
        held = skills.get(v.id, set())
        trained = v.trained_at is not None
        qualified = frozenset(
            info.code for info in roles.values() if _qualified(info, held, trained)
        )
        off = days_off.get(v.id, set())
        gone = cancelled.get(v.id, set())
        # Available for a shift whose real hours lie inside the hours they offered: kept per
        # start hour (the same at every site) and expanded by the solver only when needed.
        covered = list(Offer(cells.get(v.id, ())).covered(starts))
        excluded = (
            {
                shift_id(*key)
                for index in covered
                for key in by_start[index]
                if key.day in off or (key.day, key.kind) in gone
            }
            if off or gone
            else ()
        )
        # A kept assignment was placed deliberately: it counts as availability (the checker
        # still reports a day off or a refused night it falls on).
        available = solver.Availability(
            slot_table, covered, extra=kept_shifts.get(v.id, ()), excluded=excluded
        )
        partner = by_phone.get(v.partner_phone) if v.partner_phone else None
        people.append(
            solver.Person(
                id=person_id(v.id),
                roles=qualified,
                available=available,
                days_off=frozenset(off),
                preferred_sites=frozenset(sites_by_district.get(v.district_id, ()))
                if v.district_id is not None
                else frozenset(),
                partner=person_id(partner)
                if partner is not None and partner != v.id and partner in known
                else None,
                accepts_nights=v.accepts_nights,
                weekly_cap=v.weekly_cap,
                requests=requests.get(v.id, ()),
            )
        )
    return people


class SolutionRejected(PlanningError):
    """`solver.check` found a hard-rule violation in a roster: it is never saved."""


def _reason_facts(reason: Reason, mapping: PlanningMap) -> dict[str, Any]:
    """A solver Reason as JSON with database ids: people -> volunteer ids, shifts -> [site id,
    ISO day, kind], roles -> role ids."""
    facts: dict[str, Any] = {"code": reason.code}
    if reason.people:
        facts["people"] = [mapping.volunteers[p] for p in reason.people if p in mapping.volunteers]
    if reason.shifts:
        facts["shifts"] = [
            [key.site_id, key.day.isoformat(), key.kind]
            for key in (mapping.shifts.get(s) for s in reason.shifts)
            if key is not None
        ]
    if reason.roles:
        facts["roles"] = [mapping.roles[r] for r in reason.roles if r in mapping.roles]
    for name in ("count", "limit", "hours", "kind"):
        value = getattr(reason, name)
        if value is not None:
            facts[name] = value
    for name in ("day", "since"):
        value = getattr(reason, name)
        if value is not None:
            facts[name] = value.isoformat()
    return facts


# Reason codes of a post left open because its volunteer changed something while the run was
# solving (rendered in templates/coordinator/_roster_reasons.html).
CANCELLED_DURING_RUN = "cancelled_during_run"
DAY_OFF_DURING_RUN = "day_off_during_run"
UNAVAILABLE_DURING_RUN = "unavailable_during_run"
LEFT_DURING_RUN = "left_during_run"


def _changed_since_build(
    problem: solver.Problem,
    solution: solver.Solution,
    mapping: PlanningMap,
) -> dict[tuple[int, date, str], str]:
    """(volunteer id, day, kind) of the solver's new assignments that the volunteers' data no
    longer allows, with a reason code: the solver only assigns what the problem allowed, so
    each of these was changed after the problem was built -- a cancellation, a day off, an
    availability cell taken back, an account closed. Read now, in the saving transaction, with
    four set queries over the period's days. Pins are checked too: a pinned post (a
    self-sign-up, say) cancelled during the run is a hole with a reason like any other."""
    where = {(mapping.volunteers[a.person], mapping.shifts[a.shift]) for a in solution.assignments}
    if not where:
        return {}
    first, last = problem.first_day, problem.last_day
    assert first is not None  # a solution with rows has days
    assert last is not None
    active = set(
        db.session.scalars(
            select(Volunteer.id).join(User, User.id == Volunteer.user_id).where(User.active)
        )
    )
    cancelled = {
        tuple(row)
        for row in db.session.execute(
            select(ShiftResponse.volunteer_id, ShiftResponse.day, ShiftResponse.shift).where(
                ShiftResponse.status == CANCELLED_BY_VOLUNTEER,
                ShiftResponse.day.between(first, last),
            )
        )
    }
    off = {
        tuple(row)
        for row in db.session.execute(
            select(DayOff.volunteer_id, DayOff.day).where(DayOff.day.between(first, last))
        )
    }
    # The day before counts too: a 23:00 cell runs into the next date.
    cells: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for vid, day, hour in db.session.execute(
        select(Availability.volunteer_id, Availability.day, Availability.start_hour).where(
            Availability.day.between(first - timedelta(days=1), last)
        )
    ):
        cells[vid].append((day, hour))
    offers = {vid: Offer(hours) for vid, hours in cells.items()}
    sites = {
        site.id: site
        for site in db.session.scalars(
            select(Site).where(Site.id.in_({key.site_id for _vid, key in where}))
        )
    }
    changed: dict[tuple[int, date, str], str] = {}
    for vid, key in where:
        slot = (vid, key.day, key.kind)
        start, _end = sites[key.site_id].shift_window(key.day, key.kind)
        if vid not in active:
            changed[slot] = LEFT_DURING_RUN
        elif slot in cancelled:
            changed[slot] = CANCELLED_DURING_RUN
        elif (vid, key.day) in off:
            changed[slot] = DAY_OFF_DURING_RUN
        elif not offers.get(vid, Offer(())).covers(start.date(), start.hour):
            changed[slot] = UNAVAILABLE_DURING_RUN
    return changed


def _changed_reasons(gone: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """One reason per code, naming the volunteers (as _reason_facts does)."""
    people: dict[str, list[int]] = defaultdict(list)
    for vid, code in gone:
        people[code].append(vid)
    return [{"code": code, "people": sorted(ids)} for code, ids in sorted(people.items())]


@dataclass(frozen=True)
class SavedRoster:
    """What `save_solution` wrote: the draft and its coverage of the solved sites."""

    roster_id: int
    posts_total: int
    posts_filled: int
    unfilled: int


def save_solution(
    run: SolveRun, solution: solver.Solution, problem: solver.Problem, mapping: PlanningMap
) -> SavedRoster:
    """Write `solution` into the period's draft roster (created when there is none), replacing
    the draft's unpinned assignments at the solved sites and their unfilled posts (with the
    reasons from `solver.explain`); pinned assignments and other sites stay as they are.

    Only a roster `solver.check` accepts is written: otherwise `SolutionRejected` is raised
    and nothing changes. Flushes; the caller commits (with the run's outcome, atomically).
    """
    _refuse_unusable(problem, solution)
    reasons = explain(problem, solution)
    draft = _draft_for(run, mapping)
    _clear_solved_sites(draft, mapping)
    run.dropped_pins = _dropped_facts(mapping.dropped) or None
    pins = {(p.person, p.shift, p.role) for p in problem.pins}
    changed = _changed_since_build(problem, solution, mapping)
    taken = _held_in(draft)
    rows = _assignment_rows(draft, solution, mapping, pins, changed, taken)
    if rows:
        db.session.execute(insert(Assignment), rows)
    unfilled_rows, missing_total = _unfilled_rows(
        draft, solution, mapping, reasons, pins, changed, taken
    )
    if unfilled_rows:
        db.session.execute(insert(UnfilledPost), unfilled_rows)
    draft.created_from_run_id = run.id
    draft.touch()
    db.session.flush()
    return SavedRoster(
        roster_id=draft.id,
        posts_total=mapping.posts_total,
        posts_filled=mapping.posts_total - missing_total,
        unfilled=len(unfilled_rows),
    )


def _refuse_unusable(problem: solver.Problem, solution: solver.Solution) -> None:
    """Raise unless `solution` is a roster `solver.check` accepts."""
    if solution.status == "UNKNOWN":
        raise PlanningError(
            _l("The solver found no roster within the time limit: try a longer time limit.")
        )
    if not solution.feasible:
        raise PlanningError(
            _l(
                "The solver found no roster (%(status)s): pinned assignments contradict the rules.",
                status=solution.status,
            )
        )
    report = solver.check(problem, solution)
    if not report.ok:
        details = "; ".join(v.message for v in report.violations[:3])
        raise SolutionRejected(
            _l("The roster breaks a hard rule and was not saved: %(details)s", details=details)
        )


def _draft_for(run: SolveRun, mapping: PlanningMap) -> Roster:
    """The draft the problem was built from, else the period's draft, else a new one."""
    draft = db.session.get(Roster, mapping.draft_id) if mapping.draft_id is not None else None
    if draft is None:
        draft = current_draft(run.period_id)
    if draft is not None:
        # Before reading what changed during the run: a cancellation committing now waits
        # for this run's commit, or is seen by it -- never undone by it.
        lock_draft(draft.id)
    if draft is None:
        draft = Roster(period_id=run.period_id, status=DRAFT)
        db.session.add(draft)
        db.session.flush()
    return draft


def _clear_solved_sites(draft: Roster, mapping: PlanningMap) -> None:
    """Delete the draft's unpinned assignments, the pins the problem dropped and the unfilled
    posts at the solved sites."""
    chosen = list(mapping.site_ids)
    if mapping.dropped:
        db.session.execute(
            delete(Assignment).where(
                Assignment.roster_id == draft.id,
                Assignment.id.in_([d.assignment_id for d in mapping.dropped]),
            )
        )
    db.session.execute(
        delete(Assignment).where(
            Assignment.roster_id == draft.id,
            Assignment.site_id.in_(chosen),
            Assignment.pinned.is_(False),
            Assignment.id.not_in(mapping.held_ids),
        )
    )
    db.session.execute(
        delete(UnfilledPost).where(
            UnfilledPost.roster_id == draft.id, UnfilledPost.site_id.in_(chosen)
        )
    )


def _dropped_facts(dropped: Iterable[DroppedPin]) -> list[dict[str, Any]]:
    """The dropped pins as the run stores them for the coordinator: who (the volunteer's id
    only: their name is looked up when shown, so retention's anonymising reaches it), where
    (site name), when, which role (both names) and why. Two queries."""
    dropped = list(dropped)
    if not dropped:
        return []
    sites = dict(
        db.session.execute(
            select(Site.id, Site.name).where(Site.id.in_({d.site_id for d in dropped}))
        ).all()
    )
    roles = {r.id: r for r in db.session.scalars(select(Role))}
    return [
        {
            "volunteer_id": d.volunteer_id,
            "site": sites.get(d.site_id, ""),
            "day": d.day.isoformat(),
            "shift": d.shift,
            "role_zh": roles[d.role_id].name_zh if d.role_id in roles else "",
            "role_en": roles[d.role_id].name_en if d.role_id in roles else "",
            "reason": d.reason,
        }
        for d in sorted(dropped, key=lambda d: (d.day, d.site_id, d.shift, d.assignment_id))
    ]


def _held_in(draft: Roster) -> set[tuple[int, date, str]]:
    """(volunteer id, day, kind) of what the (cleared) draft still holds: pins, other sites'
    rows and rows of inactive volunteers."""
    return {
        (vid, day, kind)
        for vid, day, kind in db.session.execute(
            select(Assignment.volunteer_id, Assignment.day, Assignment.shift).where(
                Assignment.roster_id == draft.id
            )
        )
    }


def _assignment_rows(
    draft: Roster,
    solution: solver.Solution,
    mapping: PlanningMap,
    pins: set[tuple[str, str, str]],
    changed: dict[tuple[int, date, str], str],
    taken: set[tuple[int, date, str]],
) -> list[dict[str, Any]]:
    """The solver's new assignments as rows to insert into the (cleared) draft: not the pins,
    not a (volunteer, day, kind) the draft still holds, not one the volunteer changed during the
    run; each in the lowest free numbered place of its post and role."""
    # Rows that stay (pins first) keep their numbered places; the solver's rows take the
    # lowest free ones (see Assignment.slot: self-sign-up claims collide on these numbers).
    used_slots: dict[tuple[int, date, str, int], set[int]] = defaultdict(set)
    for site_id, day, kind, role_id, slot in db.session.execute(
        select(
            Assignment.site_id,
            Assignment.day,
            Assignment.shift,
            Assignment.role_id,
            Assignment.slot,
        ).where(Assignment.roster_id == draft.id, Assignment.slot.is_not(None))
    ):
        assert slot is not None  # the query reads numbered rows only
        used_slots[(site_id, day, kind, role_id)].add(slot)
    rows = []
    for a in solution.assignments:
        key = mapping.shifts[a.shift]
        volunteer_id = mapping.volunteers[a.person]
        if (a.person, a.shift, a.role) in pins:
            # Kept as it is in the draft; one taken off the draft during the run (the
            # volunteer cancelled it) stays off.
            continue
        if (volunteer_id, key.day, key.kind) in taken:
            continue  # a pin or another site's assignment, kept as it was
        if (volunteer_id, key.day, key.kind) in changed:
            continue  # the volunteer's own change made during the run wins (_unfilled_rows)
        used = used_slots[(key.site_id, key.day, key.kind, mapping.roles[a.role])]
        slot = next(n for n in itertools.count(1) if n not in used)
        used.add(slot)
        rows.append(
            {
                "roster_id": draft.id,
                "site_id": key.site_id,
                "day": key.day,
                "shift": key.kind,
                "role_id": mapping.roles[a.role],
                "volunteer_id": volunteer_id,
                "pinned": False,
                "source": SOURCE_SOLVER,
                "slot": slot,
            }
        )
    return rows


def _unfilled_rows(
    draft: Roster,
    solution: solver.Solution,
    mapping: PlanningMap,
    reasons: dict[solver.UnfilledPost, tuple[Reason, ...]],
    pins: set[tuple[str, str, str]],
    changed: dict[tuple[int, date, str], str],
    taken: set[tuple[int, date, str]],
) -> tuple[list[dict[str, Any]], int]:
    """The solved sites' open posts as rows to insert, with their reasons (`solver.explain`'s,
    and the posts left open because their volunteer changed something during the run), and
    the number of missing people in all."""
    reopened: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    for a in solution.assignments:
        key = mapping.shifts[a.shift]
        volunteer_id = mapping.volunteers[a.person]
        code = changed.get((volunteer_id, key.day, key.kind))
        if code is None:
            continue
        if (a.person, a.shift, a.role) in pins and (
            # A pin still in the draft was kept (a coordinator gave the post back knowingly);
            # another site's pin keeps its own unfilled posts.
            (volunteer_id, key.day, key.kind) in taken or a.shift in mapping.fixed_shifts
        ):
            continue
        reopened[(a.shift, a.role)].append((volunteer_id, code))
    unfilled_rows = []
    missing_total = 0
    for post, post_reasons in reasons.items():
        if post.shift in mapping.fixed_shifts:
            continue
        key = mapping.shifts[post.shift]
        gone = reopened.pop((post.shift, post.role), [])
        missing = post.missing + len(gone)
        missing_total += missing
        unfilled_rows.append(
            {
                "roster_id": draft.id,
                "site_id": key.site_id,
                "day": key.day,
                "shift": key.kind,
                "role_id": mapping.roles[post.role],
                "missing": missing,
                "reasons": _changed_reasons(gone)
                + [_reason_facts(r, mapping) for r in post_reasons],
            }
        )
    for (sid, role), gone in sorted(reopened.items()):
        key = mapping.shifts[sid]
        missing_total += len(gone)
        unfilled_rows.append(
            {
                "roster_id": draft.id,
                "site_id": key.site_id,
                "day": key.day,
                "shift": key.kind,
                "role_id": mapping.roles[role],
                "missing": len(gone),
                "reasons": _changed_reasons(gone),
            }
        )
    return unfilled_rows, missing_total
