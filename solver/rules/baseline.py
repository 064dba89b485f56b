"""Minimal change when re-solving: every baseline assignment not kept costs a little.

The baseline also seeds the search as a solution hint (see ``solver.cpsat``).
"""

from __future__ import annotations

from solver.rules.base import Context, Term


def post(ctx: Context) -> list[Term]:
    """Return one term per baseline assignment (a constant when it can no longer be kept)."""
    weight = ctx.problem.rules.weight_baseline_change
    if weight == 0:
        return []
    terms: list[Term] = []
    for a in ctx.problem.baseline:
        var = ctx.x.get((a.person, a.shift, a.role))
        terms.append(Term("baseline_change", weight if var is None else weight - weight * var))
    return terms
