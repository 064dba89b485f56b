"""Totals over the whole period: shifts per kind, shifts overall, minutes worked.

Minimum minutes is the one hard rule the empty roster breaks. In an *elastic* model (used only
when the exact model yields no roster in its first slice of time) the missing minutes become
a heavily weighted deficit instead, so a roster always exists and the neighbourhood search
can drive the deficit to zero; a roster with any deficit left is never returned.
"""

from __future__ import annotations

from solver.rules.base import Context, Term

DEFICIT_TERM = "minutes_deficit"
# Per missing minute: above any plausible sum of the other terms' per-minute effect.
ELASTIC_WEIGHT = 10_000


def post(ctx: Context) -> list[Term]:
    """Post each person's per-kind caps, period cap and minimum/maximum minutes."""
    model = ctx.model
    terms: list[Term] = []
    for person_id, shifts in ctx.shifts_of.items():
        person = ctx.people[person_id]
        worked = {s.id: ctx.on_shift[(person_id, s.id)] for s in shifts}
        for kind, cap in person.max_shifts_by_kind.items():
            of_kind = [worked[s.id] for s in shifts if s.kind == kind]
            if len(of_kind) > cap:
                model.add(sum(of_kind) <= cap)
        max_shifts = ctx.limit(person, "max_shifts")
        if max_shifts is not None and len(shifts) > max_shifts:
            model.add(sum(worked.values()) <= int(max_shifts))
        min_minutes = ctx.limit(person, "min_minutes")
        max_minutes = ctx.limit(person, "max_minutes")
        minutes = sum(s.minutes * worked[s.id] for s in shifts)
        available_minutes = sum(s.minutes for s in shifts)
        if max_minutes is not None and available_minutes > max_minutes:
            model.add(minutes <= int(max_minutes))
        if min_minutes is not None and min_minutes > 0 and ctx.minimums:
            if ctx.elastic:
                deficit = model.new_int_var(0, int(min_minutes), f"minutes_deficit[{person_id}]")
                model.add(minutes + deficit >= int(min_minutes))
                terms.append(Term(DEFICIT_TERM, ELASTIC_WEIGHT * deficit))
                ctx.deficits.append(deficit)
            else:
                model.add(minutes >= int(min_minutes))
    # A person with no candidate shift at all still has to meet a minimum.
    for person in ctx.problem.people:
        min_minutes = ctx.limit(person, "min_minutes")
        if person.id not in ctx.shifts_of and min_minutes and ctx.minimums:
            model.add_bool_or([])
    return terms
