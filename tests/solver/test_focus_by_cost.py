"""The flat search centres neighbourhoods on posts in proportion to what their cover slack costs,
and credits a neighbourhood kind with the size of its improvement (solver.cpsat)."""

from __future__ import annotations

from collections import defaultdict

import pytest
from solver_factories import bare_rules, make_person, make_shift

from solver import Problem, cpsat

DAYS = 14


def _search() -> cpsat._Search:
    # one missing person costs 100, one person too many costs 1 (as in the Curtois instances)
    shifts = tuple(make_shift(n, "day", need=2, under=100, over=1) for n in range(DAYS))
    people = tuple(make_person(f"p{i}", shifts) for i in range(4))
    problem = Problem(shifts, people, bare_rules(max_shifts_per_day=1))
    return cpsat._Search(problem, 10.0, 2, 0, None, True)


def _roster(search: cpsat._Search, short_day: int, surplus_day: int) -> list[int]:
    """Every variable's value in a roster with two people each day, one on ``short_day`` and
    four on ``surplus_day``, with the model's cover slack to match."""
    values = [0] * len(search.ctx.model.proto.variables)
    for index, (person_id, shift_id, _) in search.built.triples.items():
        day = search.ctx.day_of(search.ctx.shifts[shift_id])
        rank = int(person_id[1:])
        count = 1 if day == short_day else 4 if day == surplus_day else 2
        values[index] = int(rank < count)
    under = {var.index: shift_id for (shift_id, _), (var, _) in search.ctx.shortfall.items()}
    for shift_id, var in search.ctx.cover_slack:
        day = search.ctx.day_of(search.ctx.shifts[shift_id])
        if var.index in under:
            values[var.index] = int(day == short_day)
        else:
            values[var.index] = 2 if day == surplus_day else 0
    return values


def test_the_slack_of_a_post_is_weighed_by_the_objective() -> None:
    search = _search()
    search._take(_roster(search, short_day=3, surplus_day=9), 102.0)
    cost = dict(zip(search.deficient, search.deficient_cost, strict=True))
    assert cost == {"A-3-day": 100, "A-9-day": 2}


def test_focus_goes_to_the_post_whose_slack_costs_most(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpsat, "FOCUS_PROBABILITY", 1.0)
    search = _search()
    search._take(_roster(search, short_day=3, surplus_day=9), 102.0)
    by_person: dict[str, list[int]] = defaultdict(list)
    by_day: dict[int, list[int]] = defaultdict(list)
    for index, (person_id, shift_id, _) in search.built.triples.items():
        by_person[person_id].append(index)
        by_day[search.ctx.day_of(search.ctx.shifts[shift_id])].append(index)
    people = sorted(by_person)
    hits = 0
    for _ in range(200):
        free = search._pick("days", 2 / DAYS, people, DAYS, by_person, by_day, {})
        days = {search.ctx.day_of(search.ctx.shifts[search.built.triples[i][1]]) for i in free}
        hits += 3 in days
    # uniformly over the two posts it would be about half; by cost, 100 of 102
    assert hits >= 180
