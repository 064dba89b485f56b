"""Fairness: load spread evenly relative to capacity; nights spread out.

* ``fair_load``: a convex cost of each person's load relative to their capacity, summed over
  everybody: the k-th shift of a person of capacity ``c`` costs ``step(k, c)``, about
  ``50 * (2k - 1) / c``, so a person's cost is about ``50 * load^2 / c``. For a given number of
  filled posts the sum is smallest when every share ``load / c`` is the same, so minimising it
  narrows the spread of shares (the peak and the bottom alike), not just the peak. A shift
  costs less than 100 (x ``weight_fair_load``) because load never exceeds capacity, so any post
  filled (1000) outweighs it: fairness comes lexicographically after coverage. Capacity is
  :func:`capacity` (``Person.fair_capacity`` when given). Convex and piecewise linear in the
  load, so it is posted exactly as the maximum of its secants, which keeps the LP tight.
* ``fair_nights``: the most night shifts any one person works.

:mod:`solver.check` recomputes both from the roster (``score_fairness``).
"""

from __future__ import annotations

import math

from solver.model import Person, Problem
from solver.rules.base import Context, Term

WINDOW_DAYS = 7


def capacity(problem: Problem, person: Person) -> int:
    """The shifts a person offered over the horizon: ``fair_capacity`` when given, else the
    least of their 7-day cap per started week, ``max_shifts`` and the shifts-per-day limit on
    every day they are available (0: not counted)."""
    if person.fair_capacity is not None:
        return person.fair_capacity
    days = problem._available_days(person) - person.days_off
    caps = [len(days) * (problem.rules.max_shifts_per_day or 3)]
    seven = [
        c
        for c in (problem.limit(person, "max_shifts_in_7_days"), person.weekly_cap)
        if c is not None
    ]
    if seven:
        caps.append(int(min(seven)) * math.ceil(len(problem.days) / WINDOW_DAYS))
    most = problem.limit(person, "max_shifts")
    if most is not None:
        caps.append(int(most))
    return max(0, min(caps))


def step(k: int, cap: int) -> int:
    """The cost of a person's k-th shift (k >= 1) at capacity ``cap``: 50 (2k - 1) / cap,
    rounded half up; non-decreasing in k."""
    return (100 * (2 * k - 1) + cap) // (2 * cap)


def post(ctx: Context) -> list[Term]:
    """Post the per-person load costs and the peak-nights variable; return their terms."""
    rules = ctx.problem.rules
    model = ctx.model
    terms: list[Term] = []
    if rules.weight_fair_load:
        costs = []
        pinned: dict[str, set[str]] = {}
        for a in ctx.problem.pins:
            pinned.setdefault(a.person, set()).add(a.shift)
        for person_id, shifts in ctx.shifts_of.items():
            cap = capacity(ctx.problem, ctx.people[person_id])
            if not cap:
                continue
            top = len(shifts)
            if rules.max_shifts_per_day is not None:
                days = sum(1 for d in range(len(ctx.days)) if (person_id, d) in ctx.work)
                top = min(top, rules.max_shifts_per_day * days)
            if top == 0:
                continue
            load = model.new_int_var(0, top, f"load[{person_id}]")
            model.add(load == sum(ctx.on_shift[(person_id, s.id)] for s in shifts))
            steps = [step(k, cap) for k in range(1, top + 1)]
            cost = model.new_int_var(0, sum(steps), f"fair_load[{person_id}]")
            # cost >= f(j) + step(j + 1) * (load - j) for j = 0..top-1: the secant from j to
            # j + 1; their maximum is f(load) at every integer load because f is convex. The
            # load is at least the person's pins, and below that the secants never bind (a
            # sub-problem pins most of a long horizon): only those from there on are posted.
            least = min(len(pinned.get(person_id, ())), top - 1)
            before = 0
            for j, rise in enumerate(steps):
                if rise and j >= least:
                    model.add(cost >= before + rise * (load - j))
                before += rise
            costs.append(cost)
        if costs:
            terms.append(Term("fair_load", rules.weight_fair_load * sum(costs)))
    if rules.weight_fair_nights and rules.night_kinds:
        counts = []
        for person_id, shifts in ctx.shifts_of.items():
            nights = [
                ctx.on_shift[(person_id, s.id)] for s in shifts if s.kind in rules.night_kinds
            ]
            if nights:
                counts.append(nights)
        if counts:
            peak = model.new_int_var(0, max(len(n) for n in counts), "peak_nights")
            for nights in counts:
                model.add(peak >= sum(nights))
            terms.append(Term("fair_nights", rules.weight_fair_nights * peak))
    return terms
