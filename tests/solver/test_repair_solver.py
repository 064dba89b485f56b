"""solver.repair: a repair fills the holes and changes only what they force — no move that
does not fill a hole, no old unfilled post filled on the way, nobody else's shifts touched."""

from __future__ import annotations

from dataclasses import replace

from solver_factories import bare_rules, make_person, make_shift

from solver import Assignment, Person, Problem, check, solve, solve_repair
from solver.repair import restrict

RULES = bare_rules(max_shifts_per_day=1, weight_baseline_change=600, weight_fair_load=5)


def changes(problem: Problem, roster) -> tuple[set, set]:  # type: ignore[no-untyped-def]
    before, after = set(problem.baseline), set(roster.assignments)
    return before - after, after - before


def chain_problem() -> Problem:
    """Monday: a lead post at site B (its lead cancelled: the hole) and a marshal post at A
    held by L, who can lead; M, a free marshal, could take A's post — or Tuesday's marshal
    post, unfilled from the start."""
    shifts = (
        make_shift(0, site="A"),
        make_shift(0, site="B", role="lead"),
        make_shift(1, site="A"),
    )
    people = (
        make_person("L", shifts, roles=("lead", "marshal")),
        make_person("M", (shifts[0], shifts[2])),
        make_person("K", shifts[2:], roles=("lead",)),  # no marshal: Tuesday stays open
    )
    baseline = (Assignment("L", "A-0-day", "marshal"),)
    return Problem(shifts, people, RULES, baseline=baseline, cover_cap=True)


def test_a_chain_move_fills_the_hole_and_nothing_else() -> None:
    problem = chain_problem()
    solution = solve_repair(problem, {("B-0-day", "lead"): 1}, time_limit=5, deterministic=True)
    assert check(problem, solution).ok
    removed, added = changes(problem, solution)
    assert removed == {Assignment("L", "A-0-day", "marshal")}
    assert added == {Assignment("L", "B-0-day", "lead"), Assignment("M", "A-0-day", "marshal")}
    # the old hole stays: the repair was not asked to fill it
    assert [(u.shift, u.role) for u in solution.unfilled] == [("A-1-day", "marshal")]
    # an unrestricted minimal-change solve would also fill it (with nobody cancelling)
    free = solve(problem, time_limit=5, deterministic=True)
    assert ("A-1-day", "marshal") not in {(u.shift, u.role) for u in free.unfilled}


def test_a_free_person_is_preferred_to_a_move() -> None:
    problem = chain_problem()
    # N can lead and is free on Monday: no need to move L
    people = (*problem.people, Person("N", frozenset({"lead"}), frozenset({"B-0-day"})))
    problem = replace(problem, people=people)
    solution = solve_repair(problem, {("B-0-day", "lead"): 1}, time_limit=5, deterministic=True)
    removed, added = changes(problem, solution)
    assert removed == set()
    assert added == {Assignment("N", "B-0-day", "lead")}


def test_nobody_is_moved_for_comfort() -> None:
    """Five people each hold one of five day shifts; P also holds a second (a peak load the
    fairness term would like to spread). The hole is a sixth post only Q can fill: the repair
    adds Q there and moves nobody, though moving P's extra shift to Q would be fairer."""
    shifts = tuple(make_shift(n) for n in range(7))
    people = (
        *(make_person(pid, shifts[:6], weekly_cap=5) for pid in "PRSTU"),
        make_person("Q", shifts, weekly_cap=5),
    )
    baseline = tuple(Assignment(pid, f"A-{n}-day", "marshal") for n, pid in enumerate("PRSTUP"))
    problem = Problem(shifts, people, RULES, baseline=baseline, cover_cap=True)
    solution = solve_repair(problem, {("A-6-day", "marshal"): 1}, time_limit=5, deterministic=True)
    removed, added = changes(problem, solution)
    assert removed == set()
    assert added == {Assignment("Q", "A-6-day", "marshal")}


def test_restrict_pins_everyone_but_the_holes_candidates() -> None:
    problem = chain_problem()
    shifts = problem.shifts
    people = (*problem.people, make_person("W", shifts[2:]))
    baseline = (*problem.baseline, Assignment("W", "A-1-day", "marshal"))
    problem = replace(problem, people=people, baseline=baseline)
    restricted = restrict(problem, {("B-0-day", "lead"): 1})
    # L could lead the hole: their post stays movable; W's is pinned
    assert set(restricted.pins) == {Assignment("W", "A-1-day", "marshal")}
    # nobody may be added beyond what is held, but for the hole
    assert restricted.cap("A-1-day", "marshal") == 1
    assert restricted.cap("A-0-day", "marshal") == 1
    assert restricted.cap("B-0-day", "lead") == 1
    # a person's options: their own shifts, the hole and the places a move may vacate
    m = restricted.person("M")
    assert m.available == frozenset({"A-0-day"})


def test_a_baseline_that_breaks_a_rule_now_is_dropped_and_refilled() -> None:
    # W is no longer available for the shift they were told (and is not a candidate)
    problem = chain_problem()
    people = (*problem.people, make_person("W", ()))
    baseline = (*problem.baseline, Assignment("W", "A-1-day", "marshal"))
    problem = replace(problem, people=people, baseline=baseline)
    restricted = restrict(problem, {})
    assert restricted.pins == (Assignment("L", "A-0-day", "marshal"),)
    solution = solve_repair(problem, {}, time_limit=5, deterministic=True)
    assert check(problem, solution).ok
    removed, added = changes(problem, solution)
    assert removed == {Assignment("W", "A-1-day", "marshal")}
    # the place a rule took W off may be refilled (by M, free that day)
    assert added == {Assignment("M", "A-1-day", "marshal")}


def test_a_surplus_above_a_lowered_head_count_goes_and_nobody_comes() -> None:
    shifts = (make_shift(0), make_shift(1, need=2))
    people = tuple(make_person(pid, shifts) for pid in "abcd")
    baseline = (
        Assignment("a", "A-0-day", "marshal"),
        Assignment("b", "A-0-day", "marshal"),
        Assignment("c", "A-0-day", "marshal"),
    )
    problem = Problem(shifts, people, RULES, baseline=baseline, cover_cap=True)
    solution = solve_repair(problem, {}, time_limit=5, deterministic=True)
    assert check(problem, solution).ok
    removed, added = changes(problem, solution)
    assert len(removed) == 2
    assert added == set()
    assert [(u.shift, u.missing) for u in solution.unfilled] == [("A-1-day", 2)]
