"""Preferred sites: each shift worked outside a person's preferred sites costs a little."""

from __future__ import annotations

from solver.rules.base import Context, Term


def post(ctx: Context) -> list[Term]:
    """Return one term per candidate shift outside the person's preferred sites."""
    weight = ctx.problem.rules.weight_preferred_site
    if weight == 0:
        return []
    terms: list[Term] = []
    for person_id, shifts in ctx.shifts_of.items():
        preferred = ctx.people[person_id].preferred_sites
        if preferred:
            elsewhere = [ctx.on_shift[(person_id, s.id)] for s in shifts if s.site not in preferred]
            if elsewhere:
                terms.append(Term("preferred_site", weight * sum(elsewhere)))
    return terms
