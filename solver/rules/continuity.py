"""Same site on consecutive days: working day d at one site and day d+1 at another costs a
little. Counted once per (person, day) with a change."""

from __future__ import annotations

from collections import defaultdict

from ortools.sat.python import cp_model

from solver.rules.base import Context, Term


def post(ctx: Context) -> list[Term]:
    """Post one change indicator per person and pair of consecutive days at several sites."""
    weight = ctx.problem.rules.weight_site_change
    if weight == 0:
        return []
    model = ctx.model
    one_a_day = ctx.problem.rules.max_shifts_per_day == 1
    terms: list[Term] = []
    for person_id, shifts in ctx.shifts_of.items():
        if len({s.site for s in shifts}) < 2:
            continue
        at: dict[int, dict[str, list[cp_model.IntVar]]] = defaultdict(lambda: defaultdict(list))
        for s in shifts:
            at[ctx.day_of(s)][s.site].append(ctx.on_shift[(person_id, s.id)])
        for day in range(len(ctx.days) - 1):
            today, tomorrow = at.get(day, {}), at.get(day + 1, {})
            if not today or not tomorrow or (len(today) == 1 and today.keys() == tomorrow.keys()):
                continue
            change = model.new_bool_var(f"site_change[{person_id},{day}]")
            terms.append(Term("site_change", weight * change))
            if one_a_day:
                # At most one shift a day: sums are 0/1, so "at a today, working tomorrow, not
                # at a tomorrow" is linear.
                work_tomorrow = ctx.work[(person_id, day + 1)]
                for site, here in today.items():
                    at_site_tomorrow = sum(tomorrow.get(site, []))
                    model.add(change >= sum(here) + work_tomorrow - at_site_tomorrow - 1)
            else:
                for site_a, here in today.items():
                    for site_b, there in tomorrow.items():
                        if site_a != site_b:
                            for u in here:
                                for v in there:
                                    model.add(change >= u + v - 1)
    return terms
