"""Fairness: nobody far busier than the rest relative to their capacity; nights spread out.

* ``fair_load``: the highest load in the roster, in percent of a person's capacity (their
  weekly cap, else the 7-day limit, scaled to the horizon length), rounded up. Minimising the
  maximum with ``capacity * peak >= 100 * 7 * shifts / horizon`` is linear because capacity is
  a constant.
* ``fair_nights``: the most night shifts any one person works.
"""

from __future__ import annotations

import math

from solver.rules.base import Context, Term
from solver.rules.windows import seven_day_cap


def capacity_units(ctx: Context, person_id: str) -> int | None:
    """A person's capacity over the horizon, as (shifts per 7 days) x (horizon days)."""
    cap = seven_day_cap(ctx, person_id)
    return None if not cap else cap * len(ctx.days)


def post(ctx: Context) -> list[Term]:
    """Post the peak-load and peak-nights variables and return their weighted terms."""
    rules = ctx.problem.rules
    model = ctx.model
    terms: list[Term] = []
    if rules.weight_fair_load:
        loads = []
        for person_id, shifts in ctx.shifts_of.items():
            units = capacity_units(ctx, person_id)
            if units is None:
                continue
            worked = sum(ctx.on_shift[(person_id, s.id)] for s in shifts)
            loads.append((units, worked, len(shifts)))
        if loads:
            top = max(math.ceil(700 * n / u) for u, _, n in loads)
            peak = model.new_int_var(0, top, "peak_load_percent")
            for units, worked, _ in loads:
                model.add(units * peak >= 700 * worked)
            terms.append(Term("fair_load", rules.weight_fair_load * peak))
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
