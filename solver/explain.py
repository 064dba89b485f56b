"""Why a post is unfilled, as structured reasons the app renders in the coordinator's language.

For every unfilled post the explanation takes each person who holds the role and finds the
first rule that keeps them off it, given the rest of the roster: a static rule (not available,
a day off, refuses nights) or one that depends on what they already work (busy on another post
at that time, too little rest after their previous shift, the weekly cap or the 7-day limit
already reached, too many nights or working days in a row, ...). People stopped by the same
rule are grouped into one :class:`Reason`, and the reasons are ordered by how many people each
explains, so the first one is the main cause: "all 3 available samplers already work 5 shifts
in these 7 days".

No language lives here: a reason is a ``code`` plus the binding facts (people, other shifts,
limit, count, hours, day). Codes:

=====================  ==========================================================================
``no_one_qualified``   nobody in the pool holds the role
``none_available``     people hold the role but none said they are available for the shift
``day_off``            the qualified and available ones have a day off that day
``nights_refused``     they do not accept night shifts
``busy_elsewhere``     they work another post at the same time (``shifts`` and ``roles``: those
                       posts; a role other than the post's own means a swap might help)
``shifts_per_day``     they already work another shift that day (``limit``: shifts per day)
``rest``               too little rest next to another shift (``shifts``, ``hours`` needed)
``succession``         a forbidden kind-after-kind on consecutive days
``weekly_cap``         their own weekly cap is reached in a 7-day window (``count``, ``limit``)
``seven_day_limit``    the rule's shifts-in-7-days limit is reached (``count``, ``limit``)
``nights_limit``       the nights-in-7-days limit is reached (``count``, ``limit``)
``consecutive_days``   the shift would make too many working days in a row (``limit``)
``kind_cap``           the per-kind cap is reached (``kind``, ``count``, ``limit``)
``max_shifts``         the period's shift cap is reached (``count``, ``limit``)
``max_minutes``        the period's minutes cap would be exceeded (``count``, ``limit``)
``weekends``           the weekends cap is reached (``count``, ``limit``)
``could_fill``         nothing stops them: the solver traded the post for other goals or ran out
                       of time (the coordinator can assign them by hand)
=====================  ==========================================================================

``count`` is the largest count among the grouped people; ``limit`` is the limit that binds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from solver.feasibility import Block, RosterState
from solver.model import Assignment, Person, Problem, Solution, UnfilledPost

__all__ = ["Reason", "explain", "explain_post"]


@dataclass(frozen=True)
class Reason:
    """One cause of an unfilled post, with the facts a sentence about it needs."""

    code: str
    shift: str
    role: str
    people: tuple[str, ...] = ()
    shifts: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    count: int | None = None
    limit: int | float | None = None
    hours: float | None = None
    kind: str | None = None
    day: date | None = None
    since: date | None = None

    @property
    def size(self) -> int:
        """How many candidates this reason explains."""
        return len(self.people)


def explain(
    problem: Problem, solution: Solution | Iterable[Assignment]
) -> dict[UnfilledPost, tuple[Reason, ...]]:
    """The reasons for every unfilled post of ``solution``, most explanatory first.

    Runs in O(assignments + unfilled posts x people holding the role): the roster is indexed
    by person once.
    """
    assignments = tuple(solution.assignments if isinstance(solution, Solution) else solution)
    state = RosterState(problem, assignments)
    if isinstance(solution, Solution):
        unfilled = solution.unfilled
    else:
        unfilled = tuple(_unfilled(problem, state))
    holders: dict[str, list[Person]] = defaultdict(list)
    for person in problem.people:
        for role in person.roles:
            holders[role].append(person)
    return {post: _reasons(problem, state, holders, post.shift, post.role) for post in unfilled}


def explain_post(
    problem: Problem, solution: Solution | Iterable[Assignment], shift: str, role: str
) -> tuple[Reason, ...]:
    """The reasons nobody more can be placed on ``role`` of ``shift`` in ``solution``."""
    assignments = tuple(solution.assignments if isinstance(solution, Solution) else solution)
    state = RosterState(problem, assignments)
    holders = [p for p in problem.people if role in p.roles]
    return _reasons(problem, state, {role: holders}, shift, role)


def _unfilled(problem: Problem, state: RosterState) -> Iterable[UnfilledPost]:
    for shift in problem.shifts:
        for demand in shift.demands:
            missing = demand.min - state.filled[(shift.id, demand.role)]
            if missing > 0:
                yield UnfilledPost(shift=shift.id, role=demand.role, missing=missing)


def _reasons(
    problem: Problem, state: RosterState, holders: dict[str, list[Person]], shift_id: str, role: str
) -> tuple[Reason, ...]:
    shift = problem.shift(shift_id)
    qualified = holders.get(role, [])
    base: dict[str, Any] = {"shift": shift_id, "role": role, "day": shift.day, "kind": shift.kind}
    if not qualified:
        return (Reason(code="no_one_qualified", **base),)
    groups: dict[str, list[tuple[str, Block]]] = defaultdict(list)
    for person in qualified:
        if shift_id in state.held.get(person.id, {}) and state.held[person.id][shift_id] == role:
            continue  # already on this very post
        block = state.static_block(person, shift, role)
        if block is None:
            block = state.blocker(person, shift)
        if block is None:
            block = ("could_fill",)
        if block[0] == "not_available":
            groups["none_available"].append((person.id, block))
            continue
        groups[block[0]].append((person.id, block))
    available = {code: members for code, members in groups.items() if code != "none_available"}
    if not available:
        return (Reason(code="none_available", count=len(qualified), **base),)
    reasons = [_group(state, code, members, base) for code, members in available.items()]
    reasons.sort(key=lambda r: (-r.size, r.code))
    return tuple(reasons)


def _group(
    state: RosterState, code: str, members: list[tuple[str, Block]], base: dict[str, Any]
) -> Reason:
    people = tuple(sorted(pid for pid, _ in members))
    blocks = [b for _, b in members]
    facts: dict[str, Any] = {}
    if code in ("busy_elsewhere", "rest", "succession"):
        facts["shifts"] = tuple(sorted({b[1] for b in blocks}))
        if code == "busy_elsewhere":
            facts["roles"] = tuple(sorted({state.held[pid][b[1]] for pid, b in members}))
        if code == "rest":
            facts["hours"] = max(b[3] for b in blocks)
    elif code == "shifts_per_day":
        facts["shifts"] = tuple(sorted({s for b in blocks for s in b[1]}))
        facts["limit"] = blocks[0][2]
    elif code in ("weekly_cap", "seven_day_limit", "nights_limit"):
        facts["count"] = max(b[1] for b in blocks)
        facts["limit"] = max(b[2] for b in blocks)
        if len(blocks[0]) > 3 and isinstance(blocks[0][3], date):
            facts["since"] = min(b[3] for b in blocks)
    elif code == "kind_cap":
        facts["count"] = max(b[2] for b in blocks)
        facts["limit"] = max(b[3] for b in blocks)
    elif code in ("max_shifts", "max_minutes", "weekends", "consecutive_days"):
        facts["count"] = max(b[1] for b in blocks)
        facts["limit"] = max(b[2] for b in blocks)
    return Reason(code=code, people=people, **base, **facts)
