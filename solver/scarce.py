"""A scarce skill re-planned over the whole horizon: one small CP-SAT model per role, by slot.

The holders of a scarce skill (the samplers of the testing sites) are what limits cover on a
long call-up: a constructive roster fills their posts slot by slot, and once it has, the weekly
caps, rest and one-shift-a-day rules chain every sampler's weeks together, so a hole on day 40
is filled only by moving several samplers' shifts across many days at once. Neither a
site-by-window neighbourhood of the full model nor an ejection chain of length one does that.

:func:`replan_role` builds the problem of that role alone at the level of time slots (the
sites of a slot are pooled, see :class:`solver.flow.SlotIndex`): one Boolean per holder and slot
of theirs that needs the role, at most the slot's open posts per slot, and per holder every
rule that depends on their own days only (shifts per day, rest and overlap, forbidden
successions, per-kind caps, period totals, the 7-day and night windows, consecutive days,
weekends), with their pins as fixed context. Their assignments in other roles are left out:
giving them up is the caller's business (anyone else can take a general post). The model
maximises the posts filled and is searched from the current roster (a hint that is always
feasible: every roster keeps those rules) by CP-SAT's neighbourhood search. What comes back is
only a plan, slot by slot; the caller places it with :class:`solver.feasibility.RosterState`,
which checks every hard rule again, and :func:`solver.check` checks the result.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from ortools.sat.python import cp_model

from solver.feasibility import RosterState
from solver.flow import WINDOW_DAYS, SlotIndex, seven_day_cap
from solver.model import Person, Problem, Shift
from solver.progress import Stopper

__all__ = ["Plan", "RoleModel", "open_posts", "replan_role", "role_model"]

# The search ends when no better plan has turned up for this many seconds or this share of its
# budget, whichever is longer; the clock is looked at every WATCH_SECONDS.
PATIENCE_SECONDS = 8.0
PATIENCE_SHARE = 0.3
WATCH_SECONDS = 0.25
# No search when building the model left less than this of the budget.
MIN_SEARCH_SECONDS = 0.5


@dataclass(frozen=True)
class Plan:
    """The slots each holder should work in the role, and the posts that fills."""

    role: str
    slots: dict[str, frozenset[int]]
    filled: int
    before: int


def open_posts(problem: Problem, index: SlotIndex, role: str) -> dict[int, int]:
    """Slot -> posts of ``role`` the constructions aim at (minimum head counts within hard
    caps), for the slots that have any."""
    need: dict[int, int] = defaultdict(int)
    for slot in index.slots:
        for shift in slot.shifts:
            demand = shift.demand(role)
            if demand is None:
                continue
            cap = problem.cap(shift.id, role)
            need[slot.index] += demand.min if cap is None else min(demand.min, cap)
    return {i: n for i, n in need.items() if n > 0}


class _Watch(cp_model.CpSolverSolutionCallback):
    """Stops the search when asked, once every post of the role is filled, or when no better
    plan has turned up for ``patience`` seconds (a thread watches the clock between
    solutions)."""

    def __init__(self, solver: cp_model.CpSolver, stop: Stopper | None, goal: int, patience: float):
        super().__init__()
        self.solver = solver
        self.stop = stop
        self.goal = goal
        self.patience = patience
        self.last = time.monotonic()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def on_solution_callback(self) -> None:
        self.last = time.monotonic()
        if self.objective_value >= self.goal or (self.stop is not None and self.stop()):
            self.stop_search()

    def _watch(self) -> None:
        while not self.done.wait(WATCH_SECONDS):
            stale = time.monotonic() - self.last > self.patience
            if stale or (self.stop is not None and self.stop()):
                self.solver.stop_search()
                return

    def __enter__(self) -> _Watch:
        self.last = time.monotonic()
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()


@dataclass
class RoleModel:
    """The CP-SAT model of one role's posts: ``chosen[(person, slot)]`` is 1 when the holder
    works that slot in the role; ``need`` is the posts per slot left to fill besides pins, and
    ``held`` the (person, slot) pairs the current roster has in the role."""

    model: cp_model.CpModel
    chosen: dict[tuple[str, int], cp_model.IntVar]
    need: dict[int, int]
    held: set[tuple[str, int]]
    holders: list[Person]


def role_model(
    problem: Problem, index: SlotIndex, state: RosterState, role: str
) -> RoleModel | None:
    """The model :func:`replan_role` searches (see the module doc), or None when the role has
    no post anybody could fill."""
    need = open_posts(problem, index, role)
    if not need:
        return None
    pinned: dict[str, list[tuple[Shift, str]]] = defaultdict(list)
    shifts = problem._shift_index()
    for a in problem.pins:
        pinned[a.person].append((shifts[a.shift], a.role))
    for fixed in pinned.values():
        for shift, held in fixed:
            i = index.slot_of[shift.id]
            if held == role and i in need:
                need[i] -= 1
    holders = [p for p in problem.people if role in p.roles]
    model = cp_model.CpModel()
    chosen: dict[tuple[str, int], cp_model.IntVar] = {}
    by_slot: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    hint: set[tuple[str, int]] = set()
    for person in holders:
        fixed_slots = {index.slot_of[s.id] for s, _ in pinned.get(person.id, ())}
        options = [
            i
            for i in index.person_slots.get(person.id, ())
            if need.get(i, 0) > 0
            and i not in fixed_slots
            and _can_work(state, person, index.slots[i].shifts, role)
        ]
        if not options:
            continue
        mine = {i: model.new_bool_var(f"x[{person.id},{i}]") for i in options}
        for i, var in mine.items():
            chosen[(person.id, i)] = var
            by_slot[i].append(var)
        _post_person_rules(model, problem, index, state, person, mine, fixed_slots)
        for sid, held in state.held.get(person.id, {}).items():
            i = index.slot_of[sid]
            if held == role and i in mine:
                hint.add((person.id, i))
    if not chosen:
        return None
    for i, variables in by_slot.items():
        model.add(sum(variables) <= max(0, need[i]))
    model.maximize(sum(chosen.values()))
    return RoleModel(model, chosen, need, hint, holders)


def replan_role(
    problem: Problem,
    index: SlotIndex,
    state: RosterState,
    role: str,
    budget: float,
    *,
    workers: int = 2,
    seed: int = 0,
    stop: Stopper | None = None,
    goal: int | None = None,
) -> Plan | None:
    """A plan filling more posts of ``role`` than ``state`` does, or None (see the module doc).

    ``goal`` is the most posts of the role any roster can fill (e.g. a max-flow bound); the
    search stops once it reaches it. ``budget`` is the wall-clock limit of building the model
    and searching it.
    """
    started = time.monotonic()
    built = role_model(problem, index, state, role)
    if built is None:
        return None
    model, chosen, need = built.model, built.chosen, built.need
    hint = set(built.held)
    # the current roster, counted the way the model counts it
    held_per_slot: dict[int, int] = defaultdict(int)
    for _, i in hint:
        held_per_slot[i] += 1
    before = sum(min(n, need[i]) for i, n in held_per_slot.items())
    # a slot over its posts (over-cover) is no feasible hint: drop the surplus from it
    kept: dict[int, int] = defaultdict(int)
    for key in sorted(hint):
        kept[key[1]] += 1
        if kept[key[1]] > need[key[1]]:
            hint.discard(key)
    by_slot: dict[int, int] = defaultdict(int)
    for _, i in chosen:
        by_slot[i] += 1
    most = sum(min(max(0, need[i]), n) for i, n in by_slot.items())
    goal = most if goal is None else min(goal, most)
    if before >= goal:
        return None
    for key, var in chosen.items():
        model.add_hint(var, key in hint)
    # building the model came out of the budget
    left = budget - (time.monotonic() - started)
    if left < MIN_SEARCH_SECONDS or (stop is not None and stop()):
        return None
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = max(1, workers)
    solver.parameters.max_time_in_seconds = left
    solver.parameters.random_seed = seed
    # the hint is a full feasible solution: neighbourhoods around it improve it fastest
    solver.parameters.use_lns_only = True
    watch = _Watch(solver, stop, goal, max(PATIENCE_SECONDS, PATIENCE_SHARE * left))
    with watch:
        status = solver.solve(model, watch)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    best = round(solver.objective_value)
    if best <= before:
        return None
    slots: dict[str, set[int]] = defaultdict(set)
    for (pid, i), var in chosen.items():
        if solver.boolean_value(var):
            slots[pid].add(i)
    return Plan(
        role=role,
        slots={p.id: frozenset(slots.get(p.id, ())) for p in built.holders},
        filled=best,
        before=before,
    )


def _can_work(state: RosterState, person: Person, shifts: list[Shift], role: str) -> bool:
    """Whether the person may take ``role`` on one of the slot's shifts at all (availability,
    skill, days off, refused nights: the rules that do not depend on the roster)."""
    return any(
        shift.demand(role) is not None and state.static_block(person, shift, role) is None
        for shift in shifts
    )


def _post_person_rules(
    model: cp_model.CpModel,
    problem: Problem,
    index: SlotIndex,
    state: RosterState,
    person: Person,
    mine: dict[int, cp_model.IntVar],
    fixed_slots: set[int],
) -> None:
    """Every hard rule of :meth:`RosterState.blocker` that depends on the person's own days,
    over their slots ``mine`` (variables) and ``fixed_slots`` (pins, always worked)."""
    rules = problem.rules
    horizon = len(index.days)
    one = model.new_constant(1)
    worked: dict[int, cp_model.IntVar] = {**mine, **dict.fromkeys(fixed_slots, one)}
    slots = sorted(worked)
    by_day: dict[int, list[int]] = defaultdict(list)
    for i in slots:
        by_day[index.slots[i].day_index].append(i)

    def total(items: list[int]) -> cp_model.LinearExprT:
        return sum(worked[i] for i in items)

    per_day = rules.max_shifts_per_day
    if per_day is not None:
        for items in by_day.values():
            if len(items) > per_day:
                model.add(total(items) <= per_day)
    rest = timedelta(hours=float(problem.limit(person, "min_rest_hours") or 0))
    reach = 2 + int(rest / timedelta(hours=24))
    for a in slots:
        first = index.slots[a]
        for day in range(first.day_index, first.day_index + reach + 1):
            for b in by_day.get(day, ()):
                second = index.slots[b]
                if (second.start, b) <= (first.start, a) or (a in fixed_slots and b in fixed_slots):
                    continue
                clash = second.start < first.end + rest or (
                    day - first.day_index == 1
                    and (first.kind, second.kind) in rules.forbidden_successions
                )
                if clash:
                    model.add(worked[a] + worked[b] <= 1)
    for kind, cap in person.max_shifts_by_kind.items():
        items = [i for i in slots if index.slots[i].kind == kind]
        if len(items) > cap:
            model.add(total(items) <= cap)
    max_shifts = problem.limit(person, "max_shifts")
    if max_shifts is not None and len(slots) > max_shifts:
        model.add(total(slots) <= int(max_shifts))
    max_minutes = problem.limit(person, "max_minutes")
    if max_minutes is not None:
        minutes = {i: index.slots[i].shifts[0].minutes for i in slots}
        if sum(minutes.values()) > max_minutes:
            model.add(sum(minutes[i] * worked[i] for i in slots) <= int(max_minutes))
    seven = seven_day_cap(problem, person)
    night_cap = problem.limit(person, "max_nights_in_7_days")
    nights = rules.night_kinds
    for first_day in range(max(horizon - WINDOW_DAYS, 0) + 1):
        items = [i for d in range(first_day, first_day + WINDOW_DAYS) for i in by_day.get(d, ())]
        if seven is not None and len(items) > seven:
            model.add(total(items) <= seven)
        if night_cap is not None:
            night_items = [i for i in items if index.slots[i].kind in nights]
            if len(night_items) > night_cap:
                model.add(total(night_items) <= int(night_cap))
    # a day worked (more than one shift a day counts once)
    day_worked: dict[int, cp_model.LinearExprT] = {}
    for day, items in by_day.items():
        if len(items) == 1 or per_day == 1:
            day_worked[day] = total(items)
        else:
            flag = model.new_bool_var(f"day[{person.id},{day}]")
            for i in items:
                model.add_implication(worked[i], flag)
            day_worked[day] = flag
    longest = problem.limit(person, "max_consecutive_days")
    if longest is not None:
        longest = int(longest)
        for start in range(horizon - longest):
            run = [day_worked[d] for d in range(start, start + longest + 1) if d in day_worked]
            if len(run) > longest:
                model.add(sum(run) <= longest)
    weekends = problem.limit(person, "max_weekends")
    if weekends is not None:
        by_week: dict[tuple[int, int], list[cp_model.LinearExprT]] = defaultdict(list)
        for day, worked_day in day_worked.items():
            week = state.weekend_of.get(day)
            if week is not None:
                by_week[week].append(worked_day)
        if len(by_week) > weekends:
            flags = []
            for week, days in by_week.items():
                flag = model.new_bool_var(f"weekend[{person.id},{week}]")
                for worked_day in days:
                    model.add(worked_day <= flag)
                flags.append(flag)
            model.add(sum(flags) <= int(weekends))
