"""At most ``max_weekends`` weekends worked; a weekend (Saturday and Sunday) counts as worked
when either day is. Each weekend gets one literal equal to the OR of its two work literals."""

from __future__ import annotations

from solver.rules.base import Context, Term


def weekends(ctx: Context) -> list[list[int]]:
    """Day indices of each weekend in the horizon (a weekend cut by an end keeps its one day)."""
    groups: dict[tuple[int, int], list[int]] = {}
    for index, day in enumerate(ctx.days):
        if day.weekday() >= 5:
            year, week, _ = day.isocalendar()
            groups.setdefault((year, week), []).append(index)
    return list(groups.values())


def post(ctx: Context) -> list[Term]:
    """Post one OR literal per weekend and cap their sum per person."""
    model = ctx.model
    all_weekends = weekends(ctx)
    for person_id in ctx.shifts_of:
        cap = ctx.limit(ctx.people[person_id], "max_weekends")
        if cap is None:
            continue
        worked = []
        for number, days in enumerate(all_weekends):
            literals = [ctx.work[(person_id, d)] for d in days if (person_id, d) in ctx.work]
            if len(literals) == 1:
                worked.append(literals[0])
            elif literals:
                weekend = model.new_bool_var(f"weekend[{person_id},{number}]")
                for lit in literals:
                    model.add_implication(lit, weekend)
                model.add_bool_or([weekend.negated(), *literals])
                worked.append(weekend)
        if len(worked) > cap:
            model.add(sum(worked) <= int(cap))
    return []
