"""Re-planning a scarce skill over the whole horizon (solver.scarce, solve_large's replan):
a plan keeps every rule of the holders' own days, fills more posts than the roster it starts
from, and solve_large keeps it only when the placed roster fills more. Nothing here is timed:
the searches are given generous limits and stop once every post is filled."""

from __future__ import annotations

import pytest

from solver import Rules, check
from solver.decompose import _Large
from solver.feasibility import RosterState
from solver.flow import SlotIndex, coverage_bound
from solver.model import Problem
from solver.progress import Stopper
from solver.scarce import open_posts, replan_role
from tests.solver.solver_factories import make_person, make_shift

SAMPLER = "sampler"


def two_day_problem(max_shifts_in_7_days: int | None = 5) -> Problem:
    """Two days of day and evening shifts needing one sampler each. Ann can work any of them
    but one a day with 16 h rest (so not evening then next day); Bo only the first day shift.
    Three general volunteers make the sampler skill scarce."""
    shifts = [make_shift(n, kind, role=SAMPLER) for n in (0, 1) for kind in ("day", "evening")]
    ann = make_person("ann", shifts, roles=(SAMPLER,))
    bo = make_person("bo", shifts[:1], roles=(SAMPLER,))
    others = [make_person(f"g{n}", ()) for n in range(3)]
    return Problem(
        shifts=tuple(shifts),
        people=(ann, bo, *others),
        rules=Rules(
            max_shifts_per_day=1, min_rest_hours=16, max_shifts_in_7_days=max_shifts_in_7_days
        ),
    )


def poor_roster(problem: Problem) -> RosterState:
    """Ann on both day shifts: two posts, and Bo's only slot taken."""
    state = RosterState(problem)
    shifts = problem._shift_index()
    state.add("ann", shifts["A-0-day"], SAMPLER)
    state.add("ann", shifts["A-1-day"], SAMPLER)
    return state


def test_the_plan_fills_more_posts_and_keeps_each_holders_rules() -> None:
    problem = two_day_problem()
    index = SlotIndex(problem)
    state = poor_roster(problem)
    plan = replan_role(problem, index, state, SAMPLER, 30.0, goal=3)
    assert plan is not None
    assert (plan.before, plan.filled) == (2, 3)
    slots = {
        pid: {(index.slots[i].day_index, index.slots[i].kind) for i in s}
        for pid, s in plan.slots.items()
    }
    assert slots["bo"] == {(0, "day")}
    # evening then the next day's day shift would break the 16 h rest
    assert slots["ann"] == {(0, "evening"), (1, "evening")}


def test_no_plan_when_the_roster_already_fills_what_can_be_filled() -> None:
    problem = two_day_problem()
    index = SlotIndex(problem)
    state = RosterState(problem)
    shifts = problem._shift_index()
    state.add("bo", shifts["A-0-day"], SAMPLER)
    state.add("ann", shifts["A-0-evening"], SAMPLER)
    state.add("ann", shifts["A-1-evening"], SAMPLER)
    assert replan_role(problem, index, state, SAMPLER, 30.0, goal=3) is None


def test_the_plan_respects_a_weekly_cap() -> None:
    problem = two_day_problem(max_shifts_in_7_days=1)
    index = SlotIndex(problem)
    state = RosterState(problem)
    state.add("ann", problem.shift("A-0-day"), SAMPLER)
    plan = replan_role(problem, index, state, SAMPLER, 30.0, goal=2)
    assert plan is not None
    assert (plan.before, plan.filled) == (1, 2)  # Bo's day shift and one of Ann's
    assert len(plan.slots["ann"]) == 1
    assert len(plan.slots["bo"]) == 1


def test_open_posts_count_minimums_per_slot() -> None:
    problem = two_day_problem()
    index = SlotIndex(problem)
    assert sorted(open_posts(problem, index, SAMPLER).values()) == [1, 1, 1, 1]
    assert open_posts(problem, index, "marshal") == {}


@pytest.mark.parametrize("stopped", [False, True])
def test_solve_large_keeps_a_placed_plan_only_when_it_fills_more(stopped: bool) -> None:
    problem = two_day_problem()
    large = _Large(problem, 60.0, 2, 0, None, should_stop=lambda: stopped)
    large.plan = set()
    large.planned = {}
    large.cover_bound = coverage_bound(problem, large.index)
    state = poor_roster(problem)
    assert SAMPLER in large.scarce
    gained = large.replan(state)
    if stopped:
        assert gained == 0
        assert large.filled(state) == 2
    else:
        assert gained == 1
        assert large.filled(state) == 3
    report = check(problem, state.assignments())
    assert report.ok


def test_no_search_once_stopped_or_without_budget() -> None:
    problem = two_day_problem()
    index = SlotIndex(problem)
    state = poor_roster(problem)
    assert replan_role(problem, index, state, SAMPLER, 30.0, stop=Stopper(lambda: True)) is None
    assert replan_role(problem, index, state, SAMPLER, 0.0) is None
