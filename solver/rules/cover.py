"""Cover: every post should be filled to its minimum, and not beyond its maximum.

The shortfall is soft on purpose, so that a roster always exists: the shortfall of each
(shift, role) is an integer variable in the objective. Over-cover is soft too (an objective
term) unless the problem caps the post (:meth:`solver.model.Problem.cap`: the app's head
counts are exact), then it is a hard upper bound. When min equals max both go into one
equality, which keeps the LP relaxation tight.
"""

from __future__ import annotations

from collections import defaultdict

from ortools.sat.python import cp_model

from solver.rules.base import Context, Term


def post(ctx: Context) -> list[Term]:
    """Post shortfall/over-cover variables for every demand and return their weighted terms."""
    rules = ctx.problem.rules
    model = ctx.model
    fillers: dict[tuple[str, str], list[cp_model.IntVar]] = defaultdict(list)
    for (_, shift_id, role), var in ctx.x.items():
        fillers[(shift_id, role)].append(var)
    terms: list[Term] = []
    for shift in ctx.problem.shifts:
        for demand in shift.demands:
            filled = fillers.get((shift.id, demand.role), [])
            under_weight = (
                rules.weight_shortfall * shift.site_priority
                if demand.under_weight is None
                else demand.under_weight
            )
            over_weight = (
                rules.weight_over_cover if demand.over_weight is None else demand.over_weight
            )
            name = f"{shift.id}/{demand.role}"
            cap = ctx.problem.cap(shift.id, demand.role)
            if cap is not None and len(filled) > cap:
                model.add(sum(filled) <= cap)
            # the most people the post can end up with
            most = len(filled) if cap is None else min(len(filled), cap)
            under = None
            if demand.min > 0:
                under = model.new_int_var(0, demand.min, f"under[{name}]")
                ctx.shortfall[(shift.id, demand.role)] = (under, demand.min)
                terms.append(Term("shortfall", under_weight * under))
                if under_weight > 0:
                    ctx.cover_slack.append((shift.id, under))
            over = None
            if most > demand.upper and over_weight > 0:
                over = model.new_int_var(0, most - demand.upper, f"over[{name}]")
                terms.append(Term("over_cover", over_weight * over))
                ctx.cover_slack.append((shift.id, over))
            total = sum(filled)
            if under is not None and over is not None and demand.min == demand.upper:
                model.add(total + under - over == demand.min)
            elif under is not None and over is None and most <= demand.min:
                # capped at (or below) the minimum: the shortfall is exactly what is missing
                model.add(total + under == demand.min)
            else:
                if under is not None:
                    model.add(total + under >= demand.min)
                if over is not None:
                    model.add(total - over <= demand.upper)
    return terms
