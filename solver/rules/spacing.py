"""Never two overlapping shifts, enough rest between shifts, at most N shifts a day.

Conflicts (overlap or a gap shorter than the person's minimum rest) are posted as at-most-one
over cliques rather than pairwise: shifts are scanned in start order and every later shift that
conflicts with the anchor and with all shifts already in its group joins the group. Conflicts
that do not fit a clique are posted as pairs.
"""

from __future__ import annotations

from datetime import timedelta

from solver.model import Shift
from solver.rules.base import Context, Term


def conflicts(first: Shift, second: Shift, rest: timedelta) -> bool:
    """Whether ``second`` (starting no earlier than ``first``) overlaps it or starts too soon."""
    return second.start < first.end + rest


def post(ctx: Context) -> list[Term]:
    """Post per-day caps and overlap/rest conflicts for every person."""
    rules = ctx.problem.rules
    model = ctx.model
    per_day = rules.max_shifts_per_day
    if per_day is not None and per_day > 1:
        for (person_id, _), shifts in ctx.shifts_on_day.items():
            if len(shifts) > per_day:
                model.add(sum(ctx.on_shift[(person_id, s.id)] for s in shifts) <= per_day)
    # With one shift a day the work literal already equals the sum of that day's shifts, which
    # encodes the at-most-one; same-day cliques are then skipped.
    one_a_day = per_day == 1
    for person_id, shifts in ctx.shifts_of.items():
        person = ctx.people[person_id]
        rest = timedelta(hours=float(ctx.limit(person, "min_rest_hours") or 0))
        for i, anchor in enumerate(shifts):
            group = [anchor]
            for later in shifts[i + 1 :]:
                if later.start >= anchor.end + rest:
                    break
                if all(conflicts(member, later, rest) for member in group[1:]):
                    group.append(later)
                elif not (one_a_day and later.day == anchor.day):
                    model.add_at_most_one(
                        [ctx.on_shift[(person_id, anchor.id)], ctx.on_shift[(person_id, later.id)]]
                    )
            if len(group) < 2 or (one_a_day and all(m.day == anchor.day for m in group)):
                continue
            model.add_at_most_one([ctx.on_shift[(person_id, m.id)] for m in group])
    return []
