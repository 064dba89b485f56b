"""solver.decompose.solve_large: valid rosters, pins kept, minimal change on re-solve."""

from __future__ import annotations

from dataclasses import replace

import pytest
from solver_factories import post_shift as shift
from solver_factories import posts_filled

from benchmarks.scenario_gen import generate
from solver import solve
from solver.check import check
from solver.decompose import solve_large
from solver.model import Assignment, Person, Problem


@pytest.fixture(scope="module")
def scenario() -> Problem:
    return generate("XS", 2).problem


def test_roster_is_valid_and_reports_progress(scenario: Problem) -> None:
    seen: list[tuple[float, float, float, int]] = []
    solution = solve_large(scenario, time_limit=3, workers=1, on_progress=lambda *a: seen.append(a))
    report = check(scenario, solution)
    assert report.ok, report.violations[:3]
    assert solution.feasible
    assert solution.objective == report.objective
    assert {(u.shift, u.role): u.missing for u in solution.unfilled} == report.unfilled
    assert seen, "the first roster is reported"
    assert [s[1] for s in seen] == sorted((s[1] for s in seen), reverse=True)


def test_pins_stay(scenario: Problem) -> None:
    first = solve_large(scenario, time_limit=1, workers=1)
    # pin three people somewhere they were not placed
    placed = {(a.person, a.shift) for a in first.assignments}
    pins = []
    for person in scenario.people:
        for shift_id in sorted(person.available):
            role = next(
                (d.role for d in scenario.shift(shift_id).demands if d.role in person.roles),
                None,
            )
            fresh = all(p.person != person.id for p in pins)
            if role and fresh and (person.id, shift_id) not in placed and len(pins) < 3:
                pins.append(Assignment(person.id, shift_id, role))
    problem = replace(scenario, pins=tuple(pins))
    solution = solve_large(problem, time_limit=2, workers=1)
    assert check(problem, solution).ok
    assert set(pins) <= set(solution.assignments)


def test_fills_what_a_flat_solve_fills_on_a_tiny_case() -> None:
    shifts = [
        shift(d, kind, site, roles={"lead": 1, "temp": 1})
        for d in range(3)
        for kind in ("day", "evening")
        for site in ("a", "b")
    ]
    ids = [s.id for s in shifts]
    people = (
        Person("lead1", frozenset({"lead", "temp"}), frozenset(ids), weekly_cap=3),
        Person("lead2", frozenset({"lead", "temp"}), frozenset(i for i in ids if "e" in i[2:])),
        Person("t1", frozenset({"temp"}), frozenset(ids), weekly_cap=2),
        Person("t2", frozenset({"temp"}), frozenset(ids[:6])),
        Person("t3", frozenset({"temp"}), frozenset(ids[6:]), accepts_nights=False),
    )
    problem = Problem(shifts=tuple(shifts), people=people)
    flat = solve(problem, time_limit=5, workers=1)
    large = solve_large(problem, time_limit=3, workers=1)
    assert check(problem, large).ok
    assert posts_filled(problem, large.assignments) == posts_filled(problem, flat.assignments)


def test_dropout_refills_the_holes_and_moves_nobody_else() -> None:
    scenario = generate("S", 1).problem
    roster = solve_large(scenario, time_limit=2, workers=1).assignments
    load: dict[str, int] = {}
    for a in roster:
        load[a.person] = load.get(a.person, 0) + 1
    # a volunteer without a rare skill, so that others can take over their posts
    common = sorted(p.id for p in scenario.people if p.roles.isdisjoint({"lead", "sampler"}))
    gone = max((p for p in common if p in load), key=load.__getitem__)
    people = tuple(
        replace(p, available=frozenset()) if p.id == gone else p for p in scenario.people
    )
    problem = replace(scenario, people=people, baseline=roster)
    holes_before = len(check(scenario, roster).unfilled)
    solution = solve_large(problem, time_limit=2, workers=1)
    assert check(problem, solution).ok
    assert len(solution.unfilled) <= holes_before
    removed = set(roster) - set(solution.assignments)
    assert {a.person for a in removed} == {gone}


def test_minimum_rules_go_to_the_flat_solver() -> None:
    shifts = [shift(d) for d in range(3)]
    person = Person("p", frozenset({"temp"}), frozenset(s.id for s in shifts), min_minutes=480)
    problem = Problem(shifts=tuple(shifts), people=(person,))
    solution = solve_large(problem, time_limit=2, workers=1)
    assert check(problem, solution).ok
    assert len(solution.assignments) == 3
