"""Time slots and the max-flow coverage bound.

In the volunteer domain every site runs the same few shift times, so the shifts of all sites
that share (start, end, kind, day) form one *time slot*. Every rule about rest, days, weeks and
nights depends only on a person's slots, not on the site, which is what lets large problems be
reasoned about per slot (see :mod:`solver.decompose`).

:func:`coverage_bound` is an upper bound on the number of posts any roster can fill: a max-flow

    source -> person -> (person, 7-day block) -> (person, day) -> (slot, role set) -> (slot, role)
           -> sink

with capacities: a person's period total, their 7-day cap per disjoint 7-day block (each such
block lies inside some 7-day window the hard rule limits), the shifts-per-day limit per day,
and per (slot, role) the posts the slot needs in that role. Rest rules, sliding windows other
than the disjoint blocks, consecutive-day and night limits are relaxed away, and the sites of a
slot are pooled, so every real roster is a feasible flow: the flow value bounds the filled
posts. People with the same role set share their (slot, role set) node, which keeps the graph
at about (people x available days) arcs.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
from ortools.graph.python import max_flow, min_cost_flow

from solver.model import Person, Problem, Shift

__all__ = [
    "Slot",
    "SlotIndex",
    "coverage_bound",
    "fairness_bound",
    "plan_slots",
    "seven_day_cap",
]

WINDOW_DAYS = 7


@dataclass
class Slot:
    """The shifts of all sites that share one time: (start, end, kind, day)."""

    index: int
    start: datetime
    end: datetime
    kind: str
    day: date
    day_index: int
    shifts: list[Shift] = field(default_factory=list)
    shift_ids: frozenset[str] = frozenset()
    # role -> posts (sum of minimum head counts over the slot's shifts)
    need: dict[str, int] = field(default_factory=dict)


def seven_day_cap(problem: Problem, person: Person) -> int | None:
    """The tighter of the 7-day shift limit and the person's own weekly cap."""
    caps = [
        c
        for c in (problem.limit(person, "max_shifts_in_7_days"), person.weekly_cap)
        if c is not None
    ]
    return int(min(caps)) if caps else None


class SlotIndex:
    """Slots of a problem and, per person, the slots they may work at all.

    A slot is *open* to a person when they are available for at least one of its shifts and no
    per-shift hard rule (day off, nights refused, a zero per-kind cap) rules it out and they
    hold one of the roles it needs. Built once; O(people x slots) set operations in C.
    """

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        rules = problem.rules
        self.days = problem.days
        self.day_index = {d: i for i, d in enumerate(self.days)}
        by_key: dict[tuple[datetime, datetime, str, date], Slot] = {}
        for shift in problem.shifts:
            assert shift.day is not None
            key = (shift.start, shift.end, shift.kind, shift.day)
            slot = by_key.get(key)
            if slot is None:
                slot = Slot(
                    -1, shift.start, shift.end, shift.kind, shift.day, self.day_index[shift.day]
                )
                by_key[key] = slot
            slot.shifts.append(shift)
        self.slots: list[Slot] = sorted(by_key.values(), key=lambda s: (s.start, s.end, s.kind))
        self.slot_of: dict[str, int] = {}
        for i, slot in enumerate(self.slots):
            slot.index = i
            slot.shift_ids = frozenset(s.id for s in slot.shifts)
            need: dict[str, int] = defaultdict(int)
            for s in slot.shifts:
                self.slot_of[s.id] = i
                for d in s.demands:
                    need[d.role] += d.min
            slot.need = dict(need)
        self.is_night = [s.kind in rules.night_kinds for s in self.slots]
        self.person_slots: dict[str, list[int]] = {}
        for person in problem.people:
            self.person_slots[person.id] = self._open_slots(person)

    def _open_slots(self, person: Person) -> list[int]:
        problem = self.problem
        night_cap = problem.limit(person, "max_nights_in_7_days")
        nights_ok = person.accepts_nights and night_cap != 0
        available = person.available
        out = []
        for slot in self.slots:
            if available.isdisjoint(slot.shift_ids):
                continue
            if slot.day in person.days_off:
                continue
            if self.is_night[slot.index] and not nights_ok:
                continue
            if person.max_shifts_by_kind.get(slot.kind) == 0:
                continue
            if person.roles.isdisjoint(slot.need):
                continue
            out.append(slot.index)
        return out


def _total_cap(problem: Problem, person: Person, open_days: int) -> int:
    """An upper bound on the shifts a person can work in the whole period."""
    caps = [open_days * (problem.rules.max_shifts_per_day or 3)]
    horizon = len(problem.days)
    seven = seven_day_cap(problem, person)
    if seven is not None:
        caps.append(seven * -(-horizon // WINDOW_DAYS))
    max_shifts = problem.limit(person, "max_shifts")
    if max_shifts is not None:
        caps.append(int(max_shifts))
    return max(0, min(caps))


def coverage_bound(
    problem: Problem, index: SlotIndex | None = None, roles: set[str] | None = None
) -> int:
    """The most posts (minimum head counts) any roster of ``problem`` could fill; with
    ``roles``, the most posts of those roles alone.

    An upper bound from the max-flow described in the module docstring; exact when rest,
    sliding-window and night limits do not bind and availability is per slot.
    """
    flow, _ = _max_flow(problem, index or SlotIndex(problem), roles)
    return 0 if flow is None else int(flow.optimal_flow())


def plan_slots(problem: Problem, index: SlotIndex, roles: set[str]) -> set[tuple[str, int]]:
    """(person, slot) pairs of a max-flow that covers as many posts of ``roles`` as possible.

    Used to reserve scarce skills: the constructive roster gives these pairs first call on the
    posts of those roles, so that holders of a rare skill are spent where only they can go.
    """
    flow, person_arcs = _max_flow(problem, index, roles, balanced=True)
    if flow is None:
        return set()
    return {key for key, arc in person_arcs.items() if flow.flow(arc) > 0}


def fairness_bound(
    problem: Problem,
    capacity: Mapping[str, int],
    index: SlotIndex | None = None,
    *,
    posts: int | None = None,
    rounds: int = 30,
) -> float:
    """A lower bound on the spread of load relative to capacity of a roster filling ``posts``
    posts (None: as many as :func:`coverage_bound`): the smallest population standard
    deviation of ``load / capacity[person]`` (over people with an open slot and a capacity)
    that any flow of that value in the module docstring's graph allows.

    The variance is ``V = min over c of V(c)``, ``V(c) = min over flows of mean((s - c)^2)``;
    for a fixed centre ``c`` that is a convex separable cost (a person's k-th shift costs
    ``((k - c·cap)^2 - (k - 1 - c·cap)^2) / cap^2``: piecewise-linear, increasing in k), solved
    as a min-cost max-flow on a graph built once (only those costs change with ``c``). ``V(c)``
    is convex (the minimum over the flow polytope of a function convex in both) with slope
    ``2 (c - mean(s))`` at ``c``, so it is least where the centre is its own flow's mean share:
    ``c`` moves to that mean until it stays (each move lowers ``V``; a handful of flows).
    Rest, consecutive-day and night rules are relaxed away like the coverage bound's, so every
    roster with that coverage is one of the flows: its spread is at least this.
    """
    index = index or SlotIndex(problem)
    counted = [p.id for p in problem.people if index.person_slots.get(p.id) and capacity.get(p.id)]
    if not counted:
        return 0.0
    graph = _graph(problem, index, None, unit_arcs=True)
    if graph is None:
        return 0.0
    units = graph.units
    arc_ids = np.fromiter((arc for arc, _, _, _ in units), dtype=np.int64, count=len(units))
    k = np.fromiter((k for _, _, k, _ in units), dtype=np.float64, count=len(units))
    cap = np.fromiter(
        (capacity.get(pid) or 0 for _, pid, _, _ in units), dtype=np.float64, count=len(units)
    )
    weighted = cap > 0
    safe = np.where(weighted, cap, 1.0)
    costs = np.asarray(graph.costs, dtype=np.int64)
    scale = 10**7
    capacity_of = np.asarray([capacity[p] for p in counted], dtype=np.float64)
    slot_arcs = np.fromiter(graph.person_arcs.values(), dtype=np.int64)
    person_of_arc = {pid: n for n, pid in enumerate(counted)}
    owner = np.fromiter(
        (person_of_arc.get(pid, -1) for pid, _ in graph.person_arcs),
        dtype=np.int64,
        count=len(slot_arcs),
    )
    mine = owner >= 0

    def shares_at(centre: float) -> np.ndarray:
        step = (2 * k - 1 - 2 * centre * safe) / safe**2
        costs[arc_ids] = np.where(weighted, np.rint(step * scale), 0).astype(np.int64)
        solver = graph.solve(costs, posts)
        flows = np.asarray(solver.flows(slot_arcs[mine]), dtype=np.float64)
        load = np.bincount(owner[mine], weights=flows, minlength=len(counted))
        return load / capacity_of

    centre = 0.5
    best = math.inf
    for _ in range(rounds):
        shares = shares_at(centre)
        best = min(best, float(np.mean((shares - centre) ** 2)))
        mean = float(np.mean(shares))
        if abs(mean - centre) < 1e-6:
            break
        centre = mean
    # the flow at that centre has a variance around its own mean no larger than V(centre)
    return math.sqrt(max(0.0, best))


def _max_flow(
    problem: Problem,
    index: SlotIndex,
    roles: set[str] | None,
    *,
    balanced: bool = False,
) -> tuple[
    max_flow.SimpleMaxFlow | min_cost_flow.SimpleMinCostFlow | None, dict[tuple[str, int], int]
]:
    """The flow graph of the module docstring, solved; and the (person, slot) arc ids.

    With ``balanced``, a min-cost max-flow: a person's k-th shift costs k / capacity, so among
    the maximum flows the one that spreads load in proportion to capacity is chosen.
    """
    graph = _graph(problem, index, roles, unit_arcs=balanced)
    if graph is None:
        return None, {}
    if balanced:
        for arc, _, k, total in graph.units:
            graph.costs[arc] = (1000 * k) // total
        return graph.solve(np.asarray(graph.costs, dtype=np.int64)), graph.person_arcs
    flow = max_flow.SimpleMaxFlow()
    flow.add_arcs_with_capacity(
        np.asarray(graph.tails, dtype=np.int32),
        np.asarray(graph.heads, dtype=np.int32),
        np.asarray(graph.caps, dtype=np.int64),
    )
    status = flow.solve(graph.source, graph.sink)
    if status != flow.OPTIMAL:
        raise RuntimeError(f"max-flow failed with status {status}")
    return flow, graph.person_arcs


@dataclass
class _Graph:
    """The arcs of the module docstring's graph (costs 0 until set), the (person, slot) arc
    ids, and, with unit arcs, per person one source arc per shift: (arc id, person, k, the
    person's total)."""

    source: int
    sink: int
    tails: list[int] = field(default_factory=list)
    heads: list[int] = field(default_factory=list)
    caps: list[int] = field(default_factory=list)
    costs: list[int] = field(default_factory=list)
    person_arcs: dict[tuple[str, int], int] = field(default_factory=dict)
    units: list[tuple[int, str, int, int]] = field(default_factory=list)

    def arc(self, tail: int, head: int, cap: int) -> int:
        self.tails.append(tail)
        self.heads.append(head)
        self.caps.append(cap)
        self.costs.append(0)
        return len(self.tails) - 1

    def solve(self, costs: np.ndarray, value: int | None = None) -> min_cost_flow.SimpleMinCostFlow:
        """The flow of least ``costs`` (one per arc) among the maximum flows, or among those of
        ``value`` when given (at most the maximum)."""
        solver = min_cost_flow.SimpleMinCostFlow()
        solver.add_arcs_with_capacity_and_unit_cost(
            np.asarray(self.tails, dtype=np.int32),
            np.asarray(self.heads, dtype=np.int32),
            np.asarray(self.caps, dtype=np.int64),
            costs,
        )
        if value is None:
            value = sum(c for t, c in zip(self.tails, self.caps, strict=True) if t == self.source)
            solve = solver.solve_max_flow_with_min_cost  # sends what it can of that
        else:
            solve = solver.solve
        solver.set_node_supply(self.source, value)
        solver.set_node_supply(self.sink, -value)
        status = solve()
        if status != solver.OPTIMAL:
            raise RuntimeError(f"min-cost flow failed with status {status}")
        return solver


def _graph(
    problem: Problem, index: SlotIndex, roles: set[str] | None, *, unit_arcs: bool
) -> _Graph | None:
    """The graph of the module docstring over ``roles`` (None: all); None when it has no arc.

    With ``unit_arcs`` a person's source arc is split into one arc of capacity 1 per shift
    (``_Graph.units``), so that a cost per k-th shift can be put on them.
    """
    per_day = problem.rules.max_shifts_per_day
    horizon = len(index.days)
    nodes = _Nodes()
    graph = _Graph(nodes["source"], nodes["sink"])
    arc = graph.arc
    person_arcs = graph.person_arcs
    big = 1 << 40
    # (slot, role) -> sink
    for slot in index.slots:
        for role, need in slot.need.items():
            if need > 0 and (roles is None or role in roles):
                arc(nodes[("post", slot.index, role)], graph.sink, need)
    roleset_nodes: set[tuple[int, frozenset[str]]] = set()
    for person in problem.people:
        held = person.roles if roles is None else person.roles & roles
        if not held:
            continue
        open_slots = [
            i
            for i in index.person_slots.get(person.id, [])
            if not held.isdisjoint(index.slots[i].need)
        ]
        if not open_slots:
            continue
        by_day: dict[int, list[int]] = defaultdict(list)
        for i in open_slots:
            by_day[index.slots[i].day_index].append(i)
        total = _total_cap(problem, person, len(by_day))
        if total == 0:
            continue
        pnode = nodes[("p", person.id)]
        if unit_arcs:
            for k in range(1, total + 1):
                graph.units.append((arc(graph.source, pnode, 1), person.id, k, total))
        else:
            arc(graph.source, pnode, total)
        seven = seven_day_cap(problem, person)
        for day, slots in by_day.items():
            block = day // WINDOW_DAYS if horizon >= WINDOW_DAYS else 0
            bnode = nodes.get(("b", person.id, block))
            if bnode is None:
                bnode = nodes[("b", person.id, block)]
                arc(pnode, bnode, big if seven is None else seven)
            dnode = nodes[("d", person.id, day)]
            arc(bnode, dnode, len(slots) if per_day is None else min(per_day, len(slots)))
            for i in slots:
                posts = index.slots[i].need
                wanted = frozenset(r for r in held if posts.get(r, 0) > 0)
                if not wanted:
                    continue
                key = (i, wanted)
                rnode = nodes[("r", *key)]
                person_arcs[(person.id, i)] = arc(dnode, rnode, 1)  # one post per slot
                if key not in roleset_nodes:
                    roleset_nodes.add(key)
                    for role in wanted:
                        arc(rnode, nodes[("post", i, role)], big)
    return graph if graph.tails else None


class _Nodes(dict[object, int]):
    """Node ids allocated on first use."""

    def __missing__(self, key: object) -> int:
        value = len(self)
        self[key] = value
        return value
