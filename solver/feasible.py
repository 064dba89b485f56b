"""A first roster that keeps every hard rule, minimums included, built person by person.

Minimum minutes and minimum runs of days on and off bind each person alone: apart from the
hard caps on posts (:meth:`solver.model.Problem.cap`) and the pins, nothing hard ties two
people together (cover is soft). So a roster meeting every hard rule exists exactly when each
person, taken in turn with everybody before them fixed, has a schedule of their own that does;
:func:`feasible_roster` builds one person at a time:

1. a depth-first search over the person's days in order, in plain Python: each day is off or
   one shift, the upper limits are asked of :class:`solver.feasibility.RosterState` (which
   mirrors :mod:`solver.check`), runs of days on and off are kept at their minimum as they
   grow (runs touching either end of the horizon are exempt, as in :mod:`solver.rules
   .consecutive`), and a branch that can no longer reach the minimum minutes is cut. Days are
   worked where a post is still short or a request asks for it, or when the person falls
   behind the pace their minimum needs; otherwise they are off. Both the cut and the pace
   measure what is left against the most the person could still work: their free days as
   runs of days on and off allow them (:func:`_run_bound`), filled with the longest kinds
   their per-kind caps leave. The search backtracks within
   a budget of steps; a second pass works every day the rules allow (most minutes);
2. if both passes fail, a CP-SAT model of that person alone (their shifts, the cover the
   others leave, the caps left), which finds a schedule whenever one exists.

People placed early take the posts that are short when they come, so on tight instances
(demand near everybody's maximum) the roster ends short on some days and over on others;
:func:`improve_cover` then moves shifts within days and, with ``reshape``, between days and
plans people's fortnights around short posts again (the LNS of :mod:`solver.cpsat` starts
from a roster about a third cheaper on Curtois Instance1-8).

The roster is re-checked with :func:`solver.check` before it is returned; None means some
person has no schedule at all (pins or minimums that contradict the hard rules). It depends
only on the problem (no clock), so it is the same on any machine and under any load. A
person already holding a valid schedule in ``start`` keeps it, so the function also repairs a
roster that is short of a few minimums.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from functools import cached_property
from itertools import compress
from operator import itemgetter
from typing import NamedTuple

from ortools.graph.python import min_cost_flow
from ortools.sat.python import cp_model

from solver.build import build
from solver.check import check
from solver.feasibility import RosterState
from solver.model import Assignment, Demand, Person, Problem, Shift
from solver.progress import StopCallback

__all__ = ["feasible_roster", "improve_cover"]

log = logging.getLogger(__name__)

# Steps (days tried) the depth-first search may take per day of the horizon, per pass.
STEPS_PER_DAY = 30
# Work candidates tried on one day (the best few by cover): more only multiplies backtracking.
CANDIDATES_PER_DAY = 3
# A person is behind pace when the minutes still missing reach this share of the most they
# could still work.
PACE = 0.9
# ... and must take the longest shifts first when they reach this share.
URGENT = 0.97
# Passes of the same-day moves that fill short posts (see _PersonBuilder.polish).
POLISH_ROUNDS = 3
# Days on each side of a short post that replan_windows plans again for one person.
RESHAPE_REACH = 14
# Re-plans (one person's window searched again) replan_windows may try per person, all rounds.
RESHAPES_PER_PERSON = 20
# Seconds for the one-person CP-SAT model when both depth-first passes fail.
PERSON_SECONDS = 10.0

Option = tuple[Shift, str]
# (the longest option's minutes, each kind's longest in order of first appearance)
_Summary = tuple[int, tuple[tuple[str, int], ...]]


class _Options(NamedTuple):
    """What a person may work each day (see :meth:`_PersonBuilder._options`)."""

    days: list[list[Option]]  # each day's (shift, role), read-only
    best: list[int]  # each day's longest option in minutes (0: none)
    kinds: dict[str, int]  # kind -> its longest shift's minutes


def _summary(kinds: Iterable[tuple[str, int]]) -> _Summary:
    """The longest of some options' (kind, minutes), and each kind's longest."""
    longest: dict[str, int] = {}
    for kind, minutes in kinds:
        longest[kind] = max(longest.get(kind, 0), minutes)
    return max(longest.values(), default=0), tuple(longest.items())


def feasible_roster(
    problem: Problem,
    start: Iterable[Assignment] = (),
    *,
    people_order: Iterable[str] = (),
    polish: bool = True,
    stop: StopCallback | None = None,
) -> list[Assignment] | None:
    """A roster :func:`solver.check` accepts, or None when some person has no valid schedule.

    People whose own assignments in ``start`` keep every hard rule keep them (when ``start``
    breaks no rule shared between people); everybody else is scheduled anew against the cover
    the others leave, in ``people_order`` first, then in the problem's order. People work
    where posts are short; when hard caps on posts leave someone with no schedule, the
    construction is run again with them first and everybody working only what their
    minimums need. With ``polish`` the cover is then improved by :func:`improve_cover`: within
    days, then (until ``stop()`` says so) between days.
    """
    start = list(start)
    kept: set[str] = set()
    if start:
        report = check(problem, start)
        if all(v.person is not None for v in report.violations):
            kept = {p.id for p in problem.people} - {v.person for v in report.violations}
    failed: list[str] = []
    for lazy in (False, True):
        order = [*failed, *people_order]
        roster, failed = _attempt(problem, start, kept, order, lazy=lazy)
        if roster is not None and polish:
            # the same-day moves as always, then the moves between days while time allows
            polished = improve_cover(problem, roster)
            return improve_cover(problem, polished, stop=stop, reshape=True)
        if roster is not None or not problem._cap_index():
            # without caps nobody's schedule depends on anybody else's: a failure is final
            return roster
    return None


def improve_cover(
    problem: Problem,
    roster: Iterable[Assignment],
    *,
    stop: StopCallback | None = None,
    reshape: bool = False,
) -> list[Assignment]:
    """``roster`` (which :func:`solver.check` accepts) with people moved between the shifts of
    days they already work wherever that fills a short post at a lower cost elsewhere (see
    :meth:`_PersonBuilder.polish` and :meth:`_PersonBuilder.reassign_days`); every hard rule
    still holds, and the roster is returned unchanged if check says otherwise.

    With ``reshape`` the days people work change too: short posts are given to people off
    that day, as an extra shift or in place of one where cover is to spare
    (:meth:`_PersonBuilder.move_days`), and people's fortnights around a short post are
    planned again (:meth:`_PersonBuilder.replan_windows`), within ``RESHAPES_PER_PERSON``
    re-plans in all (a count: the result depends only on the input). The roster comes back
    only if check scores it no worse than ``roster`` (these moves weigh cover and requests
    alone).

    ``stop()`` is asked before every short post and every day is worked on; once it returns
    True the moves made so far are kept and no more are tried (a deadline, or a count of
    steps for a deterministic budget)."""
    roster = list(roster)
    if stop is not None and stop():
        return roster  # not even the bookkeeping: a deadline may be near
    state = RosterState(problem, roster)
    builder = _PersonBuilder(problem, state, stop=stop)
    for _ in range(POLISH_ROUNDS):
        moves = builder.moves
        builder.polish()
        builder.reassign_days()
        if reshape:
            builder.move_days()
            builder.replan_windows()
        if builder.moves == moves:
            break
    if not builder.moves:
        return roster  # nothing moved: no second check of the same roster
    better = state.assignments()
    report = check(problem, better)
    if not report.ok:  # a bug in the bookkeeping: keep what was given
        log.error("improve_cover broke a hard rule; the roster is kept as it was")
        return roster
    if reshape and report.objective > check(problem, roster).objective:
        # better cover, but worse on a term these moves do not weigh: the same-day moves alone
        return improve_cover(problem, roster, stop=stop)
    return better


def _attempt(
    problem: Problem,
    start: list[Assignment],
    kept: set[str],
    people_order: Iterable[str],
    *,
    lazy: bool,
) -> tuple[list[Assignment] | None, list[str]]:
    """One construction: the roster (None if anybody has no schedule) and who had none."""
    pinned = {(a.person, a.shift) for a in problem.pins}
    state = RosterState(problem, problem.pins)
    for a in start:
        if a.person in kept and (a.person, a.shift) not in pinned:
            state.add(a.person, problem.shift(a.shift), a.role)
    known = problem._person_index()
    order = [pid for pid in dict.fromkeys(people_order) if pid in known]
    order += [p.id for p in problem.people if p.id not in set(order)]
    builder = _PersonBuilder(problem, state, lazy=lazy)
    failed: list[str] = []
    for person_id in order:
        if person_id in kept:
            continue
        if not builder.schedule(known[person_id]):
            log.debug("feasible roster: no schedule for %s (lazy: %s)", person_id, lazy)
            failed.append(person_id)
    if failed:
        return None, failed
    roster = state.assignments()
    report = check(problem, roster)
    if not report.ok:  # a bug in the bookkeeping: say so, the caller falls back
        log.error("feasible roster rejected by check: %s", report.violations[:3])
        return None, []
    return roster, []


class _PersonBuilder:
    def __init__(
        self,
        problem: Problem,
        state: RosterState,
        *,
        lazy: bool = False,
        stop: StopCallback | None = None,
    ) -> None:
        self.problem = problem
        self.stop = stop
        self.moves = 0  # people moved by polish, reassign_days, move_days, replan_windows
        self.reshapes_left = RESHAPES_PER_PERSON * len(problem.people)
        # work only what the minimums need (cover then only picks the shift)
        self.lazy = lazy
        self.state = state
        self.horizon = len(problem.days)
        # roles -> each day's options and signature number (see _base_options)
        self._bases: dict[frozenset[str], list[tuple[list[Option], int]]] = {}
        # each signature number's (kind, minutes) of the options
        self._signatures: list[tuple[tuple[str, int], ...]] = []
        # (signature number, options kept) -> _summary of the kept options
        self._summaries: dict[tuple[int, tuple[bool, ...]], _Summary] = {}
        self.by_day: dict[int, list[Shift]] = defaultdict(list)
        for shift in problem.shifts:
            self.by_day[state.day_of(shift)].append(shift)
        rules = problem.rules
        self.under_weight: dict[tuple[str, str], int] = {}
        self.over_weight: dict[tuple[str, str], int] = {}
        self.demand: dict[tuple[str, str], Demand] = {}
        self.posts: dict[tuple[str, str], tuple[int, int, int, int]] = {}
        for shift in problem.shifts:
            for d in shift.demands:
                key = (shift.id, d.role)
                self.demand[key] = d
                self.under_weight[key] = (
                    rules.weight_shortfall * shift.site_priority
                    if d.under_weight is None
                    else d.under_weight
                )
                self.over_weight[key] = (
                    rules.weight_over_cover if d.over_weight is None else d.over_weight
                )
                # (minimum, upper head count, weight under, weight over): a post's cover
                self.posts[key] = (d.min, d.upper, self.under_weight[key], self.over_weight[key])

    # -- cover ------------------------------------------------------------------------------

    def _stopped(self) -> bool:
        """Whether the caller's ``stop`` says to end the cover moves now (latched)."""
        if self.stop is not None and self.stop():
            self.stop = lambda: True
            return True
        return False

    @cached_property
    def _wishes(self) -> dict[tuple[str, str], int]:
        """(person, shift) -> what granting it is worth (+ asked for, - asked off)."""
        state = self.state
        wishes: dict[tuple[str, str], int] = defaultdict(int)
        for person in self.problem.people:
            for r in person.requests:
                sign = r.weight if r.on else -r.weight
                if r.shift is not None:
                    wishes[(person.id, r.shift)] += sign
                elif r.day is not None and r.day in state.day_index:
                    for shift in self.by_day.get(state.day_index[r.day], ()):
                        wishes[(person.id, shift.id)] += sign
        return wishes

    def _change(self, key: tuple[str, str], delta: int) -> int:
        """The cover cost of changing the head count on post ``key`` by ``delta`` (+1/-1)."""
        filled = self.state.filled[key]
        demand = self.demand[key]
        after = filled + delta

        def cost(n: int) -> int:
            return self.under_weight[key] * max(0, demand.min - n) + self.over_weight[key] * max(
                0, n - demand.upper
            )

        return cost(after) - cost(filled)

    def polish(self, rounds: int = POLISH_ROUNDS) -> None:
        """Move people between shifts of the same day while that fills a post short of its
        minimum at a lower cost elsewhere. Days worked stay the same, so runs of days on and off
        and weekends are untouched; every other hard rule is asked again, and nobody drops
        below their minimum minutes."""
        problem = self.problem
        state = self.state
        people = problem._person_index()
        fixed = {(a.person, a.shift) for a in problem.pins}
        wishes = self._wishes
        for _ in range(rounds):
            moved = 0
            short = [
                (shift, d.role)
                for shift in problem.shifts
                for d in shift.demands
                if state.filled[(shift.id, d.role)] < d.min
            ]
            for shift, role in short:
                if self._stopped():
                    return
                key = (shift.id, role)
                day = state.day_of(shift)
                for other in list(self.by_day.get(day, ())):
                    if state.filled[key] >= self.demand[key].min:
                        break
                    if other.id == shift.id:
                        continue
                    for pid, old_role in list(state.by_shift.get(other.id, {}).items()):
                        person = people[pid]
                        if (
                            (pid, other.id) in fixed
                            or shift.id not in person.available
                            or role not in person.roles
                            or shift.day in person.days_off
                        ):
                            continue
                        gain = -self._change(key, +1) - self._change((other.id, old_role), -1)
                        gain += wishes.get((pid, shift.id), 0) - wishes.get((pid, other.id), 0)
                        if gain <= 0:
                            continue
                        minimum = int(problem.limit(person, "min_minutes") or 0)
                        if state.minutes[pid] - other.minutes + shift.minutes < minimum:
                            continue
                        cap = problem.cap(shift.id, role)
                        if cap is not None and state.filled[key] >= cap:
                            continue
                        state.remove(pid, other)
                        if state.static_block(person, shift, role) is None and (
                            state.blocker(person, shift) is None
                        ):
                            state.add(pid, shift, role)
                            moved += 1
                            self.moves += 1
                            break
                        state.add(pid, other, old_role)
            if not moved:
                return

    def reassign_days(self, rounds: int = POLISH_ROUNDS) -> None:
        """On each day with a post short and one over its upper head count, give the people
        working that day the posts that cover best: a min-cost flow from people to posts, a
        person's arcs only to posts they may take with their other days as they are. Days
        worked are unchanged, so runs and weekends are too; each person's arcs are checked
        alone, so any choice of one arc per person keeps every hard rule."""
        problem = self.problem
        state = self.state
        people = problem._person_index()
        fixed = {(a.person, a.shift) for a in problem.pins}
        for _ in range(rounds):
            changed = 0
            for day in range(self.horizon):
                if self._stopped():
                    return
                shifts = self.by_day.get(day, ())
                posts = [(s, d) for s in shifts for d in s.demands]
                short = any(state.filled[(s.id, d.role)] < d.min for s, d in posts)
                spare = any(state.filled[(s.id, d.role)] > d.min for s, d in posts)
                if short and spare:
                    changed += self._reassign(posts, people, fixed)
            if not changed:
                return

    def _short_posts(self) -> list[tuple[Shift, str]]:
        """The posts below their minimum head count, the costliest gaps first."""
        filled = self.state.filled
        short = [
            (shift, d.role)
            for shift in self.problem.shifts
            for d in shift.demands
            if filled[(shift.id, d.role)] < d.min
        ]
        short.sort(key=lambda post: -self.under_weight[(post[0].id, post[1])])
        return short

    def move_days(self) -> None:
        """Give each post short of its minimum to somebody off that day: as one more shift when
        their maximums allow it, or in place of a shift they work on a post above its minimum
        (on any day), whichever gains most. Unlike :meth:`polish` and :meth:`reassign_days`
        this changes the days people work, so every upper limit is asked of the state again
        and each person's runs of days on and off and their minimum minutes are checked anew
        (:meth:`_keeps_minimums`); a move that breaks one is undone."""
        problem = self.problem
        state = self.state
        fixed = {(a.person, a.shift) for a in problem.pins}
        wishes = self._wishes
        for shift, role in self._short_posts():
            if self._stopped():
                return
            key = (shift.id, role)
            cap = problem.cap(shift.id, role)
            if cap is not None and state.filled[key] >= cap:
                continue  # a hard cap below the post's minimum
            day = state.day_of(shift)
            # (gain, person, the shift given up or None)
            moves: list[tuple[int, Person, Shift | None]] = []
            for person in problem.people:
                pid = person.id
                if day in state.on_day.get(pid, ()) or (pid, shift.id) in fixed:
                    continue
                if state.static_block(person, shift, role) is not None:
                    continue
                gain = -self._change(key, +1) + wishes.get((pid, shift.id), 0)
                if gain <= 0:
                    continue
                most = problem.limit(person, "max_minutes")
                if most is None or state.minutes[pid] + shift.minutes <= most:
                    moves.append((gain, person, None))
                for other_id, other_role in state.held.get(pid, {}).items():
                    other_key = (other_id, other_role)
                    if (pid, other_id) in fixed or state.filled[other_key] <= self.demand[
                        other_key
                    ].min:
                        continue
                    loss = self._change(other_key, -1) + wishes.get((pid, other_id), 0)
                    if gain - loss > 0:
                        moves.append((gain - loss, person, state.shifts[other_id]))
            moves.sort(key=itemgetter(0), reverse=True)
            for _, person, given_up in moves:
                pid = person.id
                old_role = None if given_up is None else state.remove(pid, given_up)
                if state.blocker(person, shift) is None:
                    state.add(pid, shift, role)
                    if self._keeps_minimums(person):
                        self.moves += 1
                        break
                    state.remove(pid, shift)
                if given_up is not None and old_role is not None:
                    state.add(pid, given_up, old_role)

    def _worth(self, pid: str, held: list[tuple[Shift, str]]) -> int:
        """What ``held`` (assignments the state holds for ``pid``) costs the cover and the
        wishes, everybody else as they are."""
        filled = self.state.filled
        wishes = self._wishes
        total = 0
        for shift, role in held:
            key = (shift.id, role)
            low, high, under, over = self.posts[key]
            n = filled[key]
            total += under * (max(0, low - n) - max(0, low - n + 1))
            total += over * (max(0, n - high) - max(0, n - 1 - high))
            total -= wishes.get((pid, shift.id), 0)
        return total

    def replan_windows(self, reach: int = RESHAPE_REACH) -> None:
        """For each post short of its minimum, plan again the days within ``reach`` of it of
        somebody off that day (:meth:`_search` with their other days as they are, so cover is
        filled where it is short and every hard rule kept), until one such re-plan costs less
        in cover and requests than what that person worked there before; the others are
        undone. A person may have to give up a shift elsewhere in the window to take the
        short post (runs of days on and off, maximum minutes): single-day moves
        (:meth:`move_days`) cannot do that."""
        problem = self.problem
        state = self.state
        fixed = {(a.person, a.shift) for a in problem.pins}
        short = self._short_posts()
        options: dict[str, _Options] = {}

        def movable(pid: str, first: int, last: int) -> list[tuple[Shift, str]]:
            return [
                (held, role)
                for shift_id, role in state.held.get(pid, {}).items()
                if (pid, shift_id) not in fixed
                and first <= state.day_of(held := state.shifts[shift_id]) <= last
            ]

        for shift, role in short:
            key = (shift.id, role)
            day = state.day_of(shift)
            first, last = max(0, day - reach), min(self.horizon - 1, day + reach)
            for person in problem.people:
                if state.filled[key] >= self.demand[key].min:
                    break
                if self.reshapes_left <= 0 or self._stopped():
                    return
                pid = person.id
                if day in state.on_day.get(pid, ()) or (pid, shift.id) in fixed:
                    continue
                if state.static_block(person, shift, role) is not None:
                    continue
                whole = options.get(pid)
                if whole is None:
                    whole = options[pid] = self._options(person)
                window = _Options(
                    [o if first <= d <= last else [] for d, o in enumerate(whole.days)],
                    [b if first <= d <= last else 0 for d, b in enumerate(whole.best)],
                    whole.kinds,
                )
                self.reshapes_left -= 1
                old = movable(pid, first, last)
                before = self._worth(pid, old)
                for taken, _ in old:
                    state.remove(pid, taken)
                if self._search(person, window, eager=False):
                    new = movable(pid, first, last)
                    if self._worth(pid, new) < before:
                        self.moves += 1
                        continue
                    for taken, _ in new:
                        state.remove(pid, taken)
                for taken, taken_role in old:
                    state.add(pid, taken, taken_role)

    def _keeps_minimums(self, person: Person) -> bool:
        """Whether ``person``'s roster in the state keeps their minimum minutes and minimum runs
        of days on and off (runs touching either end of the horizon exempt, as in
        :mod:`solver.check`); the upper limits are :meth:`RosterState.blocker`'s."""
        problem = self.problem
        state = self.state
        pid = person.id
        if state.minutes[pid] < (problem.limit(person, "min_minutes") or 0):
            return False
        min_on = problem.limit(person, "min_consecutive_days") or 1
        min_off = problem.limit(person, "min_consecutive_days_off") or 1
        if min_on <= 1 and min_off <= 1:
            return True
        worked = state.on_day.get(pid, {})
        horizon = self.horizon
        start = 0
        for day in range(1, horizon + 1):
            if day == horizon or (day in worked) != (start in worked):
                if start > 0 and day < horizon:
                    need = min_on if start in worked else min_off
                    if day - start < need:
                        return False
                start = day
        return True

    def _reassign(
        self,
        posts: list[tuple[Shift, Demand]],
        people: dict[str, Person],
        fixed: set[tuple[str, str]],
    ) -> int:
        """One day's min-cost flow (see :meth:`reassign_days`); the number of people moved."""
        problem = self.problem
        state = self.state
        wishes = self._wishes
        workers = [
            (pid, shift, role)
            for shift, _ in {s.id: (s, None) for s, _ in posts}.values()
            for pid, role in state.by_shift.get(shift.id, {}).items()
            if (pid, shift.id) not in fixed
        ]
        if not workers:
            return 0
        # posts anybody may be moved to: short ones and those at their minimum (a chain)
        targets = [(s, d) for s, d in posts if state.filled[(s.id, d.role)] <= d.min]
        arcs: list[tuple[int, int, int]] = []  # (worker, post index, cost)
        index = {(s.id, d.role): i for i, (s, d) in enumerate(posts)}
        for w, (pid, shift, role) in enumerate(workers):
            person = people[pid]
            minimum = int(problem.limit(person, "min_minutes") or 0)
            arcs.append((w, index[(shift.id, role)], -wishes.get((pid, shift.id), 0)))
            state.remove(pid, shift)
            for other, demand in targets:
                if (other.id, demand.role) == (shift.id, role):
                    continue
                if demand.role not in person.roles or other.id not in person.available:
                    continue
                if state.minutes[pid] + other.minutes < minimum:
                    continue
                if state.static_block(person, other, demand.role) is not None:
                    continue
                if state.blocker(person, other) is not None:
                    continue
                arcs.append((w, index[(other.id, demand.role)], -wishes.get((pid, other.id), 0)))
            state.add(pid, shift, role)
        if len(arcs) == len(workers):
            return 0  # nobody may move
        flow = min_cost_flow.SimpleMinCostFlow()
        source = len(workers) + len(posts)
        sink = source + 1
        for w in range(len(workers)):
            flow.add_arc_with_capacity_and_unit_cost(source, w, 1, 0)
        arc_ids = []
        for w, i, cost in arcs:
            arc_ids.append(flow.add_arc_with_capacity_and_unit_cost(w, len(workers) + i, 1, cost))
        moving = {(s.id, role) for _, s, role in workers}
        for i, (shift, demand) in enumerate(posts):
            key = (shift.id, demand.role)
            base = state.filled[key] - sum(1 for _, s, r in workers if (s.id, r) == key)
            cap = problem.cap(shift.id, demand.role)
            room = len(workers) if cap is None else max(0, cap - base)
            if key not in moving and all(index[key] != a[1] for a in arcs):
                continue
            for k in range(1, room + 1):
                n = base + k
                if n <= demand.min:
                    cost = -self.under_weight[key]
                elif n <= demand.upper:
                    cost = 0
                else:
                    cost = self.over_weight[key]
                flow.add_arc_with_capacity_and_unit_cost(len(workers) + i, sink, 1, cost)
        flow.set_node_supply(source, len(workers))
        flow.set_node_supply(sink, -len(workers))
        if flow.solve() != flow.OPTIMAL:
            return 0
        moved = 0
        for (w, i, _), arc in zip(arcs, arc_ids, strict=True):
            if flow.flow(arc) == 0:
                continue
            pid, shift, role = workers[w]
            other, demand = posts[i]
            if (other.id, demand.role) == (shift.id, role):
                continue
            state.remove(pid, shift)
            state.add(pid, other, demand.role)
            moved += 1
        self.moves += moved
        return moved

    # -- one person -------------------------------------------------------------------------

    def schedule(self, person: Person) -> bool:
        """Give ``person`` a schedule keeping every hard rule (their pins are held already)."""
        options = self._options(person)
        for eager in (False, True):
            if self._search(person, options, eager=eager):
                return True
        return self._cp_sat(person)

    def _options(self, person: Person) -> _Options:
        """Each day's (shift, role) the person may ever fill (see
        :func:`solver.rules.eligibility.ineligibility`, inlined here for speed), with each
        day's longest option and each kind's longest shift. The lists are read-only: people
        with the same roles may share them."""
        problem = self.problem
        excluded = {kind for kind, cap in person.max_shifts_by_kind.items() if cap == 0}
        if not person.accepts_nights or problem.limit(person, "max_nights_in_7_days") == 0:
            excluded |= problem.rules.night_kinds
        available = person.available
        # a set holding every shift: nothing to filter (Availability is asked shift by shift)
        everything = isinstance(available, frozenset | set) and self._shift_ids <= available
        day_index = self.state.day_index
        off = {day_index[d] for d in person.days_off if d in day_index}
        masks: dict[int, tuple[bool, ...]] = {}  # a day's signature -> the options kept
        seen: dict[int, tuple[int, tuple[tuple[str, int], ...]]] = {}
        days: list[list[Option]] = []
        best: list[int] = []
        for day, (today, signature) in enumerate(self._base_options(person.roles)):
            if day in off or not today:
                days.append([])
                best.append(0)
                continue
            if everything:
                mask = masks.get(signature)
                if mask is None:
                    kinds = self._signatures[signature]
                    mask = masks[signature] = tuple(kind not in excluded for kind, _ in kinds)
                key = (signature, mask)
                summary = self._summaries.get(key)
                if summary is None:
                    summary = self._summaries[key] = _summary(
                        compress(self._signatures[signature], mask)
                    )
                chosen = today if all(mask) else list(compress(today, mask))
            else:
                chosen = [
                    option
                    for option in today
                    if option[0].id in available and option[0].kind not in excluded
                ]
                summary = _summary((shift.kind, shift.minutes) for shift, _ in chosen)
            days.append(chosen)
            best.append(summary[0])
            seen.setdefault(id(summary), summary)
        kinds_longest: dict[str, int] = {}
        for _, longest in seen.values():  # in the order of first appearance, as the days
            for kind, minutes in longest:
                kinds_longest[kind] = max(kinds_longest.get(kind, 0), minutes)
        return _Options(days, best, kinds_longest)

    @cached_property
    def _shift_ids(self) -> frozenset[str]:
        return frozenset(s.id for s in self.problem.shifts)

    def _base_options(self, roles: frozenset[str]) -> list[tuple[list[Option], int]]:
        """Each day's (shift, role) for people with these roles, whatever their availability,
        days off and kinds (computed once per set of roles), with the number of the day's
        signature: its options' (kind, minutes), the same on most days."""
        base = self._bases.get(roles)
        if base is None:
            base = []
            numbers: dict[tuple[tuple[str, int], ...], int] = {
                kinds: n for n, kinds in enumerate(self._signatures)
            }
            for day in range(self.horizon):
                today: list[Option] = []
                for shift in self.by_day.get(day, ()):
                    today.extend((shift, d.role) for d in shift.demands if d.role in roles)
                kinds = tuple((shift.kind, shift.minutes) for shift, _ in today)
                number = numbers.get(kinds)
                if number is None:
                    number = numbers[kinds] = len(self._signatures)
                    self._signatures.append(kinds)
                base.append((today, number))
            self._bases[roles] = base
        return base

    def _search(self, person: Person, choices: _Options, *, eager: bool) -> bool:
        """Depth-first over the days; on failure the state is left as it was."""
        options = choices.days
        problem = self.problem
        state = self.state
        horizon = self.horizon
        pid = person.id
        min_on = int(problem.limit(person, "min_consecutive_days") or 1)
        min_off = int(problem.limit(person, "min_consecutive_days_off") or 1)
        min_minutes = int(problem.limit(person, "min_minutes") or 0)
        pinned_days = set(state.on_day.get(pid, {}))
        works = [day in pinned_days for day in range(horizon)]
        # wishes: + for a shift asked for, - for one (or a day) asked off
        wishes: dict[str, int] = defaultdict(int)
        day_wishes: dict[int, int] = defaultdict(int)
        for r in person.requests:
            sign = r.weight if r.on else -r.weight
            if r.shift is not None:
                wishes[r.shift] += sign
            elif r.day is not None and r.day in state.day_index:
                day_wishes[state.day_index[r.day]] += sign
        for day, wish in day_wishes.items():
            for shift, _ in options[day] if wish else ():
                wishes[shift.id] += wish
        # the most minutes still to be had from day d on (free days only)
        suffix = [0] * (horizon + 1)
        for day in range(horizon - 1, -1, -1):
            best = 0 if day in pinned_days else choices.best[day]
            suffix[day] = suffix[day + 1] + best
        # free days with an option from d on
        free_days = [0] * (horizon + 1)
        for day in range(horizon - 1, -1, -1):
            usable = day not in pinned_days and bool(options[day])
            free_days[day] = free_days[day + 1] + int(usable)
        # days in a row from d on that could be worked (pinned or with an option)
        reach = [0] * (horizon + 1)
        for day in range(horizon - 1, -1, -1):
            workable = day in pinned_days or bool(options[day])
            reach[day] = reach[day + 1] + 1 if workable else 0
        # the next pinned day at or after d
        next_pin = [horizon] * (horizon + 1)
        for day in range(horizon - 1, -1, -1):
            next_pin[day] = day if day in pinned_days else next_pin[day + 1]
        # the most free days that may be worked from d on, runs of days on at most
        # max_consecutive_days long and days off between them at least min_off (a fresh
        # start at d: at least what is left in the middle of a run)
        longest = problem.limit(person, "max_consecutive_days")
        if longest is None or longest >= horizon:
            run_days = free_days
        else:
            run_days = _run_bound(
                horizon,
                int(longest),
                min_off,
                [day in pinned_days or bool(options[day]) for day in range(horizon)],
                [day not in pinned_days and bool(options[day]) for day in range(horizon)],
            )

        # minutes of each kind the person may work, longest first (for the pace)
        by_length = sorted(choices.kinds.items(), key=lambda kv: -kv[1])
        caps = problem._cap_index()
        kind_caps = dict(person.max_shifts_by_kind)
        lengths = [(kind, minutes, kind_caps.get(kind)) for kind, minutes in by_length]
        filled = state.filled
        kind_count = state.kind_count
        posts = self.posts

        def potential(day: int) -> int:
            """The most minutes still to be had from ``day`` on: the free days that runs of
            days on and off leave workable, filled with the longest kinds the per-kind caps
            leave."""
            days_left = run_days[day]
            total = 0
            for kind, minutes, cap in lengths:
                if days_left <= 0:
                    break
                take = days_left if cap is None else min(days_left, cap - kind_count[(pid, kind)])
                if take > 0:
                    total += take * minutes
                    days_left -= take
            return min(total, suffix[day])

        def run_before(day: int) -> tuple[bool, int, bool]:
            """(working, length, inner) of the run that ends the day before ``day``."""
            working = works[day - 1]
            length = 0
            first = day - 1
            while first >= 0 and works[first] == working:
                length += 1
                first -= 1
            return working, length, first >= 0

        def alternatives(day: int) -> list[Option | None]:
            if day in pinned_days:
                if day > 0:
                    working, length, inner = run_before(day)
                    if not working and inner and length < min_off:
                        return []
                return [None]  # the pin itself
            forced_on = forced_off = False
            working = False
            if day > 0:
                working, length, inner = run_before(day)
                forced_on = working and inner and length < min_on
                forced_off = not working and inner and length < min_off
            may_rest = not forced_on
            if may_rest and working and day > 0:
                # an off run starting here must reach min_off days before the next pin
                nxt = next_pin[day]
                if nxt < horizon and nxt - day < min_off:
                    may_rest = False
            may_work = not forced_off
            # a run starting here must be able to reach min_on days (or the end)
            if (
                may_work
                and not working
                and day > 0
                and reach[day] < min_on
                and day + reach[day] < horizon
            ):
                may_work = False
            work: list[tuple[int, Option]] = []
            if may_work:
                # what each option is worth to the cover and the wishes (the hottest loop)
                for option in options[day]:
                    shift, role = option
                    key = (shift.id, role)
                    count = filled[key]
                    cap = caps.get(key)
                    if cap is not None and count >= cap:
                        continue
                    kind_cap = kind_caps.get(shift.kind)
                    if kind_cap is not None and kind_count[(pid, shift.kind)] >= kind_cap:
                        continue
                    low, high, under, over = posts[key]
                    gain = wishes.get(shift.id, 0)
                    if count < low:
                        gain += under
                    elif count >= high:
                        gain -= over
                    work.append((gain, option))
                # best first, ties in the options' order (a stable sort, reversed or not)
                work.sort(key=itemgetter(0), reverse=True)
            rest: list[Option | None] = [None] if may_rest else []
            if not work:
                return rest
            need = min_minutes - state.minutes[pid]
            most = potential(day) if need > 0 else 0
            behind = need > 0 and need >= PACE * most
            if eager or (need > 0 and need >= URGENT * most):
                # the longest shifts first: minutes are what is missing
                work.sort(key=lambda item: (-item[1][0].minutes, -item[0]))
            prefer_work = eager or forced_on or behind or (work[0][0] > 0 and not self.lazy)
            chosen: list[Option | None] = [option for _, option in work[:CANDIDATES_PER_DAY]]
            return chosen + rest if prefer_work else rest + chosen

        steps = STEPS_PER_DAY * max(1, horizon)
        # stack of (day, alternatives, next index, option taken or None, minutes left after)
        stack: list[tuple[int, list[Option | None], int, Option | None, int]] = []
        later = 0
        day = 0
        pending: list[Option | None] | None = None
        index = 0
        while True:
            if day == horizon:
                if state.minutes[pid] >= min_minutes:
                    return True
                pending = None
            elif pending is None:
                pending = alternatives(day)
                index = 0
                # the most minutes the days after this one may still add (before this day's
                # choice takes a kind's cap: never too low, so no schedule is cut)
                later = potential(day + 1) if min_minutes else 0
            # try the next alternative of this day
            advanced = False
            while pending is not None and index < len(pending) and steps > 0:
                steps -= 1
                option = pending[index]
                index += 1
                if day in pinned_days:
                    stack.append((day, pending, index, None, later))
                    advanced = True
                    break
                if option is None:
                    if state.minutes[pid] + later < min_minutes:
                        continue
                    works[day] = False
                    stack.append((day, pending, index, None, later))
                    advanced = True
                    break
                shift, role = option
                if state.minutes[pid] + shift.minutes + later < min_minutes:
                    continue
                if state.blocker(person, shift) is not None:
                    continue
                state.add(pid, shift, role)
                works[day] = True
                stack.append((day, pending, index, option, later))
                advanced = True
                break
            if advanced:
                day += 1
                pending = None
                continue
            if steps <= 0 or not stack:
                # give up: undo everything this pass added
                for _, _, _, taken, _ in stack:
                    if taken is not None:
                        state.remove(pid, taken[0])
                for d in range(horizon):
                    works[d] = d in pinned_days
                return False
            day, pending, index, taken, later = stack.pop()
            if taken is not None:
                state.remove(pid, taken[0])
            works[day] = day in pinned_days

    def _cp_sat(self, person: Person) -> bool:
        """Schedule ``person`` with a CP-SAT model of them alone (exact; bounded in time)."""
        problem = self.problem
        state = self.state
        pid = person.id
        mine = {s.id for shifts in state.on_day.get(pid, {}).values() for s in shifts}
        shifts: list[Shift] = []
        caps: dict[tuple[str, str], int] = {}
        for shift in problem.shifts:
            if shift.id not in person.available:
                continue
            demands = []
            for d in shift.demands:
                others = state.filled[(shift.id, d.role)] - int(
                    state.held.get(pid, {}).get(shift.id) == d.role
                )
                demands.append(replace(d, min=max(0, d.min - others), max=max(0, d.upper - others)))
                cap = problem.cap(shift.id, d.role)
                if cap is not None:
                    caps[(shift.id, d.role)] = max(0, cap - others)
            shifts.append(replace(shift, demands=tuple(demands)))
        pins = tuple(
            Assignment(pid, shift_id, role)
            for shift_id, role in state.held.get(pid, {}).items()
            if shift_id in mine
        )
        sub = Problem(
            shifts=tuple(shifts),
            people=(replace(person, partner=None),),
            rules=problem.rules,
            pins=pins,
            first_day=problem.first_day,
            last_day=problem.last_day,
            caps=caps,
        )
        built = build(sub)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.max_time_in_seconds = PERSON_SECONDS
        solver.parameters.random_seed = 0
        solver.parameters.stop_after_first_solution = True
        status = solver.solve(built.ctx.model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return False
        values = solver.response_proto.solution
        for index, (_, shift_id, role) in built.triples.items():
            if values[index] and shift_id not in mine:
                state.add(pid, problem.shift(shift_id), role)
        return True


def _run_bound(
    horizon: int, longest: int, min_off: int, workable: list[bool], free: list[bool]
) -> list[int]:
    """For each day d (and ``horizon``), the most ``free`` days one person may work from d on
    when runs of days on are at most ``longest`` long, only ``workable`` days are worked and
    the days off between two runs are at least ``min_off``: an upper bound for the pace of
    :meth:`_PersonBuilder._search` (minimum runs of days on are left out, so it is never too
    low). Dynamic programming from the end, O(horizon x longest)."""
    best = [0] * (horizon + 1)
    for day in range(horizon - 1, -1, -1):
        value = best[day + 1]  # day off
        count = 0
        for length in range(1, longest + 1):
            last = day + length - 1
            if last >= horizon or not workable[last]:
                break
            count += free[last]
            after = last + 1 + min_off
            value = max(value, count + (best[after] if after <= horizon else 0))
        best[day] = value
    return best
