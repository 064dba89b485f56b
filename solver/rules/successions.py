"""Forbidden successions: a shift of kind B may not be worked the day after a kind A shift.

Posted per person and per next-day shift as one at-most-one over that shift and every
previous-day shift whose kind forbids it (those are already mutually exclusive when a person
works at most one shift a day, so the clique is valid).
"""

from __future__ import annotations

from solver.rules.base import Context, Term


def post(ctx: Context) -> list[Term]:
    """Post the (kind, next-day kind) prohibitions from the rules."""
    forbidden = ctx.problem.rules.forbidden_successions
    if not forbidden:
        return []
    one_a_day = ctx.problem.rules.max_shifts_per_day == 1
    model = ctx.model
    for (person_id, day), shifts in ctx.shifts_on_day.items():
        for later in ctx.shifts_on_day.get((person_id, day + 1), []):
            earlier = [s for s in shifts if (s.kind, later.kind) in forbidden]
            if not earlier:
                continue
            later_var = ctx.on_shift[(person_id, later.id)]
            if one_a_day:
                model.add_at_most_one(
                    [later_var, *(ctx.on_shift[(person_id, s.id)] for s in earlier)]
                )
            else:
                for s in earlier:
                    model.add_at_most_one([later_var, ctx.on_shift[(person_id, s.id)]])
    return []
