"""solve_large's balance hands a shift on through a middle person when rest or a per-day
limit leaves no single move (solver.decompose._Large._chains)."""

from __future__ import annotations

from solver import Rules, check
from solver.decompose import _Large
from solver.feasibility import RosterState
from solver.model import Problem
from tests.solver.solver_factories import make_person, make_shift


def test_the_balance_hands_a_shift_on_through_a_middle_person() -> None:
    """Pat works four days; Quinn could take Pat's first shift but works that day's evening,
    which only Robin can take: no single move lowers the fair-load cost, the chain does."""
    first = make_shift(0, "day")
    evening = make_shift(0, "evening")
    later = [make_shift(n, "day") for n in (1, 2, 3)]
    pat = make_person("pat", [first, *later])
    quinn = make_person("quinn", [first, evening])
    robin = make_person("robin", [evening])
    problem = Problem(
        shifts=(first, evening, *later),
        people=(pat, quinn, robin),
        rules=Rules(max_shifts_per_day=1, min_rest_hours=0),
    )
    large = _Large(problem, 60.0, 1, 0, None)
    state = RosterState(problem)
    for shift in (first, *later):
        state.add("pat", shift, "marshal")
    state.add("quinn", evening, "marshal")
    before = check(problem, state.assignments())
    assert large.balance(state) == 1
    assert state.held["quinn"] == {first.id: "marshal"}
    assert state.held["robin"] == {evening.id: "marshal"}
    after = check(problem, state.assignments())
    assert after.ok
    assert sum(after.unfilled.values()) == sum(before.unfilled.values())
    assert after.objective < before.objective
