"""Requests to work or not to work a shift or a day; each ungranted one costs its weight."""

from __future__ import annotations

from solver.rules.base import Context, Term


def post(ctx: Context) -> list[Term]:
    """Return one weighted term per request (a constant when it can never be granted)."""
    multiplier = ctx.problem.rules.weight_requests
    terms: list[Term] = []
    for person in ctx.problem.people:
        for request in person.requests:
            weight = multiplier * request.weight
            if weight == 0:
                continue
            if request.shift is not None:
                literal = ctx.on_shift.get((person.id, request.shift))
            else:
                # a request names exactly one of shift and day (Request.__post_init__)
                assert request.day is not None
                day = ctx.day_index.get(request.day)
                literal = None if day is None else ctx.work.get((person.id, day))
            if request.on:
                terms.append(
                    Term("requests", weight if literal is None else weight - weight * literal)
                )
            elif literal is not None:
                terms.append(Term("requests", weight * literal))
    return terms
