"""Hard head counts (Problem.cover_cap and Problem.caps): nobody is sent to a post that does not
need them, in every solve path, and check reports any over-cover as a broken hard rule."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest
from solver_factories import bare_rules, make_person, make_shift, run

from solver import Assignment, Problem, Request, Solution, check, solve
from solver.decompose import construct, solve_large


def eager(shifts: tuple, count: int, **kw) -> Problem:  # type: ignore[no-untyped-def]
    """Posts needing one person each and ``count`` people who each badly want every one of
    them: in the soft model over-cover pays (a granted request is worth 5000, an extra person
    costs 100)."""
    people = tuple(
        make_person(f"p{i}", shifts, requests=tuple(Request(True, 5, shift=s.id) for s in shifts))
        for i in range(count)
    )
    return Problem(shifts, people, bare_rules(weight_requests=1000), **kw)


def per_post(solution: Solution | tuple[Assignment, ...]) -> Counter[tuple[str, str]]:
    assignments = solution.assignments if isinstance(solution, Solution) else solution
    return Counter((a.shift, a.role) for a in assignments)


def test_soft_over_cover_still_pays_without_the_cap() -> None:
    problem = eager((make_shift(0),), 2)
    solution = run(problem)
    assert per_post(solution) == {("A-0-day", "marshal"): 2}
    assert solution.breakdown["over_cover"] == 100
    assert check(problem, solution).ok


def test_the_cap_is_hard_feasible() -> None:
    problem = eager((make_shift(0),), 2, cover_cap=True)
    solution = run(problem)
    assert solution.status == "OPTIMAL"
    assert per_post(solution) == {("A-0-day", "marshal"): 1}
    assert "over_cover" not in solution.breakdown
    assert check(problem, solution).ok


def test_the_cap_is_hard_infeasible() -> None:
    # both must work (hard minimum minutes) but the post takes one: no roster exists
    shifts = (make_shift(0),)
    people = tuple(make_person(pid, shifts, min_minutes=480) for pid in "pq")
    assert run(Problem(shifts, people, bare_rules())).feasible
    solution = run(Problem(shifts, people, bare_rules(), cover_cap=True))
    assert solution.status == "INFEASIBLE"
    assert solution.assignments == ()


def test_check_reports_over_cover_as_a_violation_only_under_the_cap() -> None:
    shifts = (make_shift(0, need=2),)
    roster = [Assignment(pid, "A-0-day", "marshal") for pid in "pqr"]
    people = tuple(make_person(pid, shifts) for pid in "pqr")
    soft = check(Problem(shifts, people, bare_rules()), roster)
    assert soft.ok
    assert soft.breakdown == {"over_cover": 100}
    hard = check(Problem(shifts, people, bare_rules(), cover_cap=True), roster)
    assert [(v.rule, v.person, v.shifts) for v in hard.violations] == [
        ("over_cover", None, ("A-0-day",))
    ]
    assert "3 people" in hard.violations[0].message
    assert check(Problem(shifts, people, bare_rules(), cover_cap=True), roster[:2]).ok


def test_pins_above_a_lowered_head_count_widen_the_cap() -> None:
    # Two pinned people on a post that now needs one: still feasible, both stay, and the
    # eager third person is not added.
    shifts = (make_shift(0),)
    base = eager(shifts, 3, cover_cap=True)
    pins = (Assignment("p0", "A-0-day", "marshal"), Assignment("p1", "A-0-day", "marshal"))
    problem = replace(base, pins=pins)
    assert problem.cap("A-0-day", "marshal") == 2
    solution = run(problem)
    assert solution.status == "OPTIMAL"
    assert sorted(a.person for a in solution.assignments) == ["p0", "p1"]
    assert check(problem, solution).ok


def test_caps_may_lie_below_the_minimum() -> None:
    shifts = (make_shift(0, need=2), make_shift(1, need=2))
    problem = eager(shifts, 3, cover_cap=True, caps={("A-0-day", "marshal"): 1})
    assert problem.cap("A-0-day", "marshal") == 1
    assert problem.cap("A-1-day", "marshal") == 2
    solution = run(problem)
    assert per_post(solution) == {("A-0-day", "marshal"): 1, ("A-1-day", "marshal"): 2}
    assert [(u.shift, u.missing) for u in solution.unfilled] == [("A-0-day", 1)]
    closed = run(replace(problem, caps={("A-0-day", "marshal"): 0}))
    assert per_post(closed)[("A-0-day", "marshal")] == 0
    # a cap alone (without cover_cap) is hard too
    only = eager(shifts, 3, caps={("A-1-day", "marshal"): 1})
    assert only.cap("A-0-day", "marshal") is None
    assert per_post(run(only))[("A-1-day", "marshal")] == 1


@pytest.mark.parametrize(
    ("caps", "message"),
    [
        ({("nowhere", "marshal"): 1}, "unknown shift"),
        ({("A-0-day", "lead"): 1}, "shift has no role"),
        ({("A-0-day", "marshal"): -1}, "must be >= 0"),
    ],
)
def test_caps_are_validated(caps: dict, message: str) -> None:
    shifts = (make_shift(0),)
    with pytest.raises(ValueError, match=message):
        Problem(shifts, (make_person("p", shifts),), caps=caps)


def test_constructions_keep_within_the_cap() -> None:
    # A baseline from before the head count was lowered: three on a post that needs one.
    shifts = tuple(make_shift(n) for n in range(3))
    base = eager(shifts, 3, cover_cap=True)
    baseline = tuple(Assignment(f"p{i}", "A-0-day", "marshal") for i in range(3))
    problem = replace(base, baseline=baseline)
    built = construct(problem)
    assert max(per_post(tuple(built)).values()) == 1
    assert check(problem, built).ok
    # the fallback (the search stopped at once) offers only rosters check accepts
    stopped = solve(problem, time_limit=5, workers=1, should_stop=lambda: True)
    assert stopped.feasible
    assert check(problem, stopped).ok
    assert max(per_post(stopped).values()) == 1


def test_solve_large_and_its_neighbourhoods_keep_within_the_cap() -> None:
    shifts = tuple(
        make_shift(n, kind, site=site)
        for n in range(5)
        for kind in ("day", "evening")
        for site in "ABC"
    )
    problem = eager(shifts, 8, cover_cap=True)
    solution = solve_large(problem, time_limit=3, workers=1)
    assert check(problem, solution).ok
    assert set(per_post(solution).values()) == {1}


def test_the_flat_neighbourhood_search_keeps_within_the_cap() -> None:
    shifts = tuple(make_shift(n, kind, need=2) for n in range(7) for kind in ("day", "evening"))
    problem = eager(shifts, 9, cover_cap=True)
    solution = solve(problem, time_limit=2, workers=2, seed=0, deterministic=True)
    assert check(problem, solution).ok
    assert set(per_post(solution).values()) == {2}
