"""Partners together: each shift one partner works without the other costs a little.

A pair is counted once even when both name each other.
"""

from __future__ import annotations

from collections.abc import Iterable

from solver.model import Person
from solver.rules.base import Context, Term


def partner_pairs(people: Iterable[Person]) -> list[tuple[str, str]]:
    """Distinct unordered (person, partner) pairs, in a stable order."""
    pairs: dict[frozenset[str], tuple[str, str]] = {}
    for person in people:
        if person.partner is not None:
            pairs.setdefault(frozenset((person.id, person.partner)), (person.id, person.partner))
    return list(pairs.values())


def post(ctx: Context) -> list[Term]:
    """Return one term per shift either partner could work, penalising working it alone."""
    weight = ctx.problem.rules.weight_partner_apart
    if weight == 0:
        return []
    terms: list[Term] = []
    for first, second in partner_pairs(ctx.problem.people):
        shift_ids = [s.id for s in ctx.shifts_of.get(first, [])]
        shift_ids += [
            s.id for s in ctx.shifts_of.get(second, []) if (first, s.id) not in ctx.on_shift
        ]
        for shift_id in shift_ids:
            a = ctx.on_shift.get((first, shift_id))
            b = ctx.on_shift.get((second, shift_id))
            if a is None or b is None:
                alone = a if b is None else b
                # every shift id is one that at least one of the two can work
                assert alone is not None
                terms.append(Term("partner_apart", weight * alone))
                continue
            apart = ctx.model.new_bool_var(f"apart[{first},{second},{shift_id}]")
            ctx.model.add(apart >= a - b)
            ctx.model.add(apart >= b - a)
            terms.append(Term("partner_apart", weight * apart))
    return terms
