"""A site lead on every shift that asks for one (soft, just below cover in importance)."""

from __future__ import annotations

from collections import defaultdict

from ortools.sat.python import cp_model

from solver.rules.base import Context, Term


def post(ctx: Context) -> list[Term]:
    """Penalise each shift with a lead demand that ends up with no lead at all."""
    rules = ctx.problem.rules
    if rules.lead_role is None or rules.weight_missing_lead == 0:
        return []
    leads: dict[str, list[cp_model.IntVar]] = defaultdict(list)
    for (_, shift_id, role), var in ctx.x.items():
        if role == rules.lead_role:
            leads[shift_id].append(var)
    terms: list[Term] = []
    for shift in ctx.problem.shifts:
        demand = shift.demand(rules.lead_role)
        if demand is None or demand.min == 0:
            continue
        candidates = leads.get(shift.id, [])
        if not candidates:
            terms.append(Term("missing_lead", rules.weight_missing_lead))
            continue
        missing = ctx.model.new_bool_var(f"no_lead[{shift.id}]")
        ctx.model.add_bool_or([*candidates, missing])
        terms.append(Term("missing_lead", rules.weight_missing_lead * missing))
    return terms
