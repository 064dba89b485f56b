"""A roster keeping every hard rule, minimums included, comes back whatever the time limit.

solver.feasible builds one person by person before any search; solve() adopts it first and
never returns anything worse. Tiny time limits on instances too large for CP-SAT to find a
first roster in them exercise the guarantee; nothing here asserts a time.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from solver_factories import bare_rules, day, make_person, make_shift

from benchmarks.curtois import to_problem
from benchmarks.curtois_evaluate import evaluate
from benchmarks.curtois_format import read_instance
from benchmarks.curtois_gen import Shape, generate
from solver import Assignment, Problem, check, dispatch, solve
from solver.feasible import feasible_roster, improve_cover


def generated(tmp_path: Path, shape: Shape, seed: int) -> Problem:
    path = tmp_path / f"gen_{seed}.txt"
    path.write_text(generate(shape, seed), encoding="utf-8")
    return to_problem(read_instance(path))


@pytest.mark.parametrize(
    ("shape", "seed"),
    [(Shape(8, 14, 3), 0), (Shape(12, 28, 4), 3), (Shape(20, 56, 6), 5), (Shape(30, 84, 12), 9)],
    ids=str,
)
def test_the_person_by_person_roster_keeps_every_hard_rule(
    tmp_path: Path, shape: Shape, seed: int
) -> None:
    problem = generated(tmp_path, shape, seed)
    roster = feasible_roster(problem)
    assert roster is not None
    report = check(problem, roster)
    assert report.ok, report.violations[:3]
    # the independent evaluator agrees
    path = tmp_path / f"gen_{seed}.txt"
    instance = read_instance(path)
    grid = {s.id: [""] * instance.horizon for s in instance.staff}
    for a in roster:
        number, _, kind = a.shift.partition(":")
        grid[a.person][int(number)] = kind
    assert evaluate(instance, grid).feasible


def test_it_is_the_same_on_every_call(tmp_path: Path) -> None:
    problem = generated(tmp_path, Shape(12, 28, 4), 1)
    assert feasible_roster(problem) == feasible_roster(problem)


def test_a_tiny_limit_on_a_long_horizon_still_returns_a_checked_roster(tmp_path: Path) -> None:
    # big enough for the window-by-window search, far too big for a first CP-SAT roster in 0.5 s
    problem = generated(tmp_path, Shape(60, 182, 10), 4)
    assert dispatch.is_windowed(problem)
    # the window search adopts the construction before its cover is improved
    floor = feasible_roster(problem, polish=False)
    assert floor is not None
    floor_report = check(problem, floor)
    solution = solve(problem, time_limit=0.5, workers=2, seed=0)
    assert solution.status == "FEASIBLE"
    assert solution.assignments
    report = check(problem, solution)
    assert report.ok, report.violations[:3]
    assert solution.objective == report.objective
    assert solution.time_to_first is not None
    # never worse than the construction
    assert report.objective <= floor_report.objective


@pytest.mark.parametrize("deterministic", [False, True])
def test_a_tiny_limit_on_the_flat_search_still_returns_a_checked_roster(
    tmp_path: Path, deterministic: bool
) -> None:
    problem = generated(tmp_path, Shape(30, 84, 6), 3)
    assert not dispatch.is_windowed(problem)
    built = feasible_roster(problem, polish=False)
    assert built is not None
    # the construction and its moves within days; the moves between days wait for the clock
    floor = improve_cover(problem, built)
    solution = solve(problem, time_limit=0.05, workers=2, seed=0, deterministic=deterministic)
    assert solution.status in ("FEASIBLE", "OPTIMAL")
    assert solution.assignments
    report = check(problem, solution)
    assert report.ok, report.violations[:3]
    assert report.objective <= check(problem, floor).objective


def test_pins_and_hard_head_counts_are_kept() -> None:
    # five days, two posts a day, four people who must each work at least three days in a
    # row and two shifts' minutes; one pin on day 2
    shifts = tuple(make_shift(n, "day", need=2) for n in range(5))
    minutes = shifts[0].minutes
    people = tuple(
        make_person(f"p{i}", shifts, min_consecutive_days=3, min_minutes=2 * minutes)
        for i in range(4)
    )
    pin = Assignment("p3", shifts[2].id, "marshal")
    problem = Problem(shifts, people, bare_rules(max_shifts_per_day=1), pins=(pin,), cover_cap=True)
    roster = feasible_roster(problem)
    assert roster is not None
    assert pin in roster
    report = check(problem, roster)
    assert report.ok, report.violations[:3]
    solution = solve(problem, time_limit=2, workers=1)
    assert check(problem, solution).ok


def test_only_the_people_who_break_a_rule_are_rescheduled() -> None:
    shifts = tuple(make_shift(n, "day", need=1) for n in range(6))
    minutes = shifts[0].minutes
    people = (
        make_person("short", shifts, min_minutes=3 * minutes),
        make_person("fine", shifts, min_minutes=minutes),
    )
    problem = Problem(shifts, people, bare_rules(max_shifts_per_day=1), first_day=day(0))
    start = [
        Assignment("fine", shifts[0].id, "marshal"),
        Assignment("short", shifts[1].id, "marshal"),
    ]
    roster = feasible_roster(problem, start)
    assert roster is not None
    assert check(problem, roster).ok
    assert [a for a in roster if a.person == "fine"] == start[:1]
    assert sum(a.person == "short" for a in roster) >= 3


def test_none_when_a_pin_contradicts_a_minimum_run() -> None:
    # the pin on day 2 alone is a one-day run in the middle of the horizon, and day 1 and 3
    # have no shift to extend it
    shifts = (make_shift(2),)
    problem = Problem(
        shifts,
        (make_person("p", shifts, min_consecutive_days=3),),
        bare_rules(),
        pins=(Assignment("p", shifts[0].id, "marshal"),),
        first_day=day(0),
        last_day=day(4),
    )
    assert feasible_roster(problem) is None


def test_improving_the_cover_keeps_every_hard_rule_and_never_costs(tmp_path: Path) -> None:
    problem = generated(tmp_path, Shape(30, 84, 12), 9)
    raw = feasible_roster(problem, polish=False)
    assert raw is not None
    better = improve_cover(problem, raw)
    report = check(problem, better)
    assert report.ok, report.violations[:3]
    assert report.objective <= check(problem, raw).objective
    # the same days are worked by the same people
    days = {(a.person, problem.shift(a.shift).day) for a in raw}
    assert {(a.person, problem.shift(a.shift).day) for a in better} == days
