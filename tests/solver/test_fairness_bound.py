"""solver.flow.fairness_bound against brute force: on problems small enough to list every
roster the flow allows, it is the least spread of load / capacity among those filling the most
posts, or a given number of posts (the bound relaxes the same rules, so here it must be
exact)."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from solver_factories import post_shift as shift

from solver.decompose import person_capacity
from solver.flow import SlotIndex, coverage_bound, fairness_bound
from solver.model import Person, Problem, Rules


def smallest_spreads(problem: Problem, capacity: dict[str, int]) -> dict[int, float]:
    """Per number of posts filled, the least spread among the rosters filling that many, over
    every roster giving each shift at most its head count of available people, each person
    at most their capacity (one shift a day: every shift here is on its own day)."""
    people = [p.id for p in problem.people]
    choices = []
    for s in problem.shifts:
        need = s.demands[0].min
        able = [p.id for p in problem.people if s.id in p.available]
        choices.append(
            [c for n in range(min(need, len(able)) + 1) for c in itertools.combinations(able, n)]
        )
    best: dict[int, float] = {}
    counted = [p for p in people if capacity[p]]
    for roster in itertools.product(*choices):
        load = dict.fromkeys(people, 0)
        for chosen in roster:
            for p in chosen:
                load[p] += 1
        if any(load[p] > capacity[p] for p in people):
            continue
        filled = sum(load.values())
        shares = [load[p] / capacity[p] for p in counted]
        mean = sum(shares) / len(shares)
        spread = math.sqrt(sum((x - mean) ** 2 for x in shares) / len(shares))
        best[filled] = min(spread, best.get(filled, math.inf))
    return best


@pytest.mark.parametrize("seed", range(25))
def test_the_bound_is_the_least_spread_of_a_roster_filling_as_many_posts(seed: int) -> None:
    rng = random.Random(seed)
    shifts = tuple(shift(d, roles={"temp": rng.randint(1, 2)}) for d in range(rng.randint(2, 4)))
    ids = [s.id for s in shifts]
    people = tuple(
        Person(
            f"p{i}",
            frozenset({"temp"}),
            frozenset(rng.sample(ids, rng.randint(1, len(ids)))),
            max_shifts=rng.choice([None, 1, 2]),
        )
        for i in range(rng.randint(2, 4))
    )
    problem = Problem(shifts, people, Rules(max_shifts_in_7_days=None))
    index = SlotIndex(problem)
    capacity = {p.id: person_capacity(problem, index, p) for p in people}
    spreads = smallest_spreads(problem, capacity)
    most = max(spreads)
    assert most == coverage_bound(problem, index)
    assert fairness_bound(problem, capacity, index) == pytest.approx(spreads[most], abs=1e-6)
    # a roster filling fewer posts is held to the least spread of that many
    for posts in range(1, most):
        assert fairness_bound(problem, capacity, index, posts=posts) == pytest.approx(
            spreads[posts], abs=1e-6
        )
