"""A scarce skill re-planned over the whole horizon: one small CP-SAT model per role, by slot.

The holders of a scarce skill (the samplers of the testing sites) are what limits cover on a
long call-up: a constructive roster fills their posts slot by slot, and once it has, the weekly
caps, rest and one-shift-a-day rules chain every sampler's weeks together, so a hole on day 40
is filled only by moving several samplers' shifts across many days at once. Neither a
site-by-window neighbourhood of the full model nor an ejection chain of length one does that.

:func:`replan_role` builds the problem of that role alone at the level of time slots (the
sites of a slot are pooled, see :class:`solver.flow.SlotIndex`): one Boolean per holder and slot
of theirs that needs the role, at most the slot's open posts per slot, and per holder every
upper limit on what one person works (shifts per day, rest and overlap, forbidden successions,
per-kind caps, period totals, the 7-day and night windows, consecutive days, weekends), posted
by the full model's own rules (:data:`solver.rules.PERSONAL`, minimums left out), with their
pins as fixed context. Their assignments in other roles are left out: giving them up is the
caller's business (anyone else can take a general post), and a part of a roster may break a
minimum rule that the whole keeps. The model maximises the posts filled and is searched from
the current roster (a hint that is always feasible: every roster keeps those rules) by
CP-SAT's neighbourhood search. What comes back is only a plan, slot by slot; the caller places
it with :class:`solver.feasibility.RosterState`, which checks every hard rule again, and
:func:`solver.check` checks the result.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass

from ortools.sat.python import cp_model

from solver.build import add_days
from solver.feasibility import RosterState
from solver.flow import SlotIndex
from solver.model import Person, Problem, Shift
from solver.progress import Stopper
from solver.rules import PERSONAL, Context

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
    # the rules' indices over the model (each slot as one of its shifts)
    ctx: Context


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
    # the rules of solver.rules see each slot as one shift of it (they ask only its times
    # and kind), a pinned slot as a shift always worked
    ctx = Context(
        problem=problem,
        model=model,
        days=index.days,
        day_index=index.day_index,
        shifts={},
        people={p.id: p for p in holders},
        minimums=False,
    )
    one = model.new_constant(1)
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
        worked = {**mine, **dict.fromkeys(fixed_slots, one)}
        standing = [index.slots[i].shifts[0] for i in sorted(worked)]  # slots are in start order
        for i, shift in zip(sorted(worked), standing, strict=True):
            ctx.shifts[shift.id] = shift
            ctx.on_shift[(person.id, shift.id)] = worked[i]
        add_days(ctx, person.id, standing)
        for sid, held in state.held.get(person.id, {}).items():
            i = index.slot_of[sid]
            if held == role and i in mine:
                hint.add((person.id, i))
    if not chosen:
        return None
    for post in PERSONAL:
        post(ctx)
    for i, variables in by_slot.items():
        model.add(sum(variables) <= max(0, need[i]))
    model.maximize(sum(chosen.values()))
    return RoleModel(model, chosen, need, hint, holders, ctx)


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
    value: dict[int, bool] = {}
    for key, var in chosen.items():
        model.add_hint(var, key in hint)
        value[var.index] = key in hint
    # and the day literals of the rules, so that the hint is a whole solution (without them
    # the neighbourhood search gained nothing on scenario L's leads in 20 deterministic s)
    ctx = built.ctx
    for (pid, day), standing in ctx.shifts_on_day.items():
        if len(standing) > 1:  # else the day's literal is the slot's own
            worked = any(value.get(ctx.on_shift[(pid, s.id)].index, True) for s in standing)
            model.add_hint(ctx.work[(pid, day)], worked)
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
