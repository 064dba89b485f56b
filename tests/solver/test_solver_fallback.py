"""solve(): a roster always comes back, should_stop, and the dispatch to solve_large."""

from __future__ import annotations

import math
import threading

import pytest
from ortools.sat.python import cp_model
from solver_factories import bare_rules, day, make_person, make_shift

import solver
from solver import Problem, check, cpsat, decompose, dispatch, progress, solve
from solver.model import Solution


def medium_problem() -> Problem:
    shifts = tuple(
        make_shift(n, kind, need=2) for n in range(7) for kind in ("night", "day", "evening")
    )
    people = tuple(make_person(f"p{i}", shifts) for i in range(9))
    return Problem(
        shifts,
        people,
        bare_rules(
            max_shifts_per_day=1, min_rest_hours=16, max_shifts_in_7_days=5, weight_fair_load=3
        ),
    )


class _NoRoster:
    """Stands in for a CP-SAT solver that found nothing in its time."""

    deterministic_time = 0.0
    wall_time = 0.0
    best_objective_bound = -math.inf

    def status_name(self, status: int) -> str:
        return "UNKNOWN"


def _find_nothing(full_only: bool):  # type: ignore[no-untyped-def]
    real = cpsat._Search._run

    def fake(self, model, budget, *, full, **kwargs):  # type: ignore[no-untyped-def]
        if full or not full_only:
            return _NoRoster(), cp_model.UNKNOWN
        return real(self, model, budget, full=full, **kwargs)

    return fake


def assert_checked(problem: Problem, solution: Solution) -> None:
    report = check(problem, solution)
    assert report.ok, report.violations[:3]
    assert solution.objective == report.objective
    assert {(u.shift, u.role): u.missing for u in solution.unfilled} == report.unfilled


def test_a_constructive_roster_comes_back_when_cp_sat_finds_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cpsat._Search, "_run", _find_nothing(full_only=False))
    problem = medium_problem()
    seen: list[tuple] = []
    solution = solve(
        problem, time_limit=0.01, workers=1, seed=0, on_progress=lambda *a: seen.append(a)
    )
    assert solution.status == "FEASIBLE"
    assert solution.assignments
    assert_checked(problem, solution)
    assert seen
    assert seen[-1][1] == solution.objective


def test_the_hint_is_completed_when_the_full_model_finds_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cpsat._Search, "_run", _find_nothing(full_only=True))

    def no_fallback(self):  # type: ignore[no-untyped-def]
        pytest.fail("the completed hint should have given the search its first roster")

    monkeypatch.setattr(cpsat._Search, "_fallback", no_fallback)
    problem = medium_problem()
    solution = solve(problem, time_limit=2, workers=1, seed=0, deterministic=True)
    assert solution.status == "FEASIBLE"
    assert solution.assignments
    assert_checked(problem, solution)


def test_a_roster_keeping_a_minimum_run_comes_back_even_if_it_leaves_the_post_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cpsat._Search, "_run", _find_nothing(full_only=False))
    # one post in the middle of a 5-day horizon: working it alone is a 1-day run, so the only
    # roster keeping the hard rules leaves it open
    shifts = (make_shift(2),)
    problem = Problem(
        shifts,
        (make_person("p", shifts, min_consecutive_days=3),),
        bare_rules(),
        first_day=day(0),
        last_day=day(4),
    )
    solution = solve(problem, time_limit=0.01, workers=1)
    assert solution.status == "FEASIBLE"
    assert solution.assignments == ()
    assert_checked(problem, solution)


def test_no_roster_when_no_roster_meets_the_minimum_minutes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cpsat._Search, "_run", _find_nothing(full_only=False))
    shifts = (make_shift(2),)
    minutes = shifts[0].minutes
    problem = Problem(
        shifts,
        (make_person("p", shifts, min_minutes=2 * minutes),),
        bare_rules(),
        first_day=day(0),
        last_day=day(4),
    )
    solution = solve(problem, time_limit=0.01, workers=1)
    assert solution.status == "UNKNOWN"
    assert solution.assignments == ()


def test_should_stop_before_anything_returns_the_constructive_roster(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[bool] = []
    real = cpsat._Search._run

    def counting(self, model, budget, *, full, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(full)
        return real(self, model, budget, full=full, **kwargs)

    monkeypatch.setattr(cpsat._Search, "_run", counting)
    problem = medium_problem()
    solution = solve(problem, time_limit=3, workers=1, should_stop=lambda: True)
    assert calls == []
    assert solution.status == "FEASIBLE"
    assert_checked(problem, solution)


def test_should_stop_after_the_first_roster_skips_the_neighbourhood_search(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[bool] = []
    real = cpsat._Search._run

    def counting(self, model, budget, *, full, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(full)
        return real(self, model, budget, full=full, **kwargs)

    monkeypatch.setattr(cpsat._Search, "_run", counting)
    # the whole budget for the full model, so only the stop can end it early
    monkeypatch.setattr(cpsat, "FULL_MODEL_SHARE", 1.0)
    problem = medium_problem()
    seen: list[tuple] = []
    solution = solve(
        problem,
        time_limit=3,
        workers=1,
        seed=0,
        on_progress=lambda *a: seen.append(a),
        should_stop=lambda: bool(seen),
    )
    assert seen
    assert calls == [True], "one full-model solve, stopped; no sub-solves"
    assert solution.status in ("FEASIBLE", "OPTIMAL")
    assert solution.assignments
    assert_checked(problem, solution)


def test_should_stop_stops_solve_large_after_its_first_roster(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from benchmarks.scenario_gen import generate

    sub_solves: list[int] = []
    real = decompose._improve_neighbourhood

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        sub_solves.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(decompose, "_improve_neighbourhood", counting)
    problem = generate("XS", 2).problem
    seen: list[tuple] = []
    solution = solver.solve_large(
        problem,
        time_limit=3,
        workers=1,
        on_progress=lambda *a: seen.append(a),
        should_stop=lambda: bool(seen),
    )
    assert seen
    assert sub_solves == []
    assert solution.status == "FEASIBLE"
    assert_checked(problem, solution)


def test_large_problems_are_dispatched_to_solve_large(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = medium_problem()
    assert dispatch.candidate_choices(problem) == 9 * 21
    taken: list[dict] = []

    def fake_large(problem, **kwargs):  # type: ignore[no-untyped-def]
        taken.append(kwargs)
        return "large"

    monkeypatch.setattr(decompose, "solve_large", fake_large)
    monkeypatch.setattr(dispatch, "LARGE_PROBLEM_CHOICES", 9 * 21 - 1)
    stop = lambda: False  # noqa: E731
    assert solve(problem, time_limit=1, workers=1, seed=3, should_stop=stop) == "large"
    assert taken == [
        {"time_limit": 1, "workers": 1, "seed": 3, "on_progress": None, "should_stop": stop}
    ]
    # deterministic solves stay flat
    assert isinstance(solve(problem, time_limit=1, workers=1, deterministic=True), Solution)
    # at the threshold: flat
    monkeypatch.setattr(dispatch, "LARGE_PROBLEM_CHOICES", 9 * 21)
    assert isinstance(solve(problem, time_limit=1, workers=1), Solution)
    assert len(taken) == 1


def test_dispatch_to_the_real_solve_large_and_no_recursion(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "LARGE_PROBLEM_CHOICES", 0)
    problem = medium_problem()
    assert dispatch.is_large(problem)
    assert_checked(problem, solve(problem, time_limit=1, workers=1))
    # minimum rules keep a problem flat, and solve_large hands them to the flat search
    shifts = tuple(make_shift(n) for n in range(3))
    minimum = Problem(shifts, (make_person("p", shifts, min_minutes=480 * 3),), bare_rules())
    assert not dispatch.is_large(minimum)
    for solution in (
        solve(minimum, time_limit=1, workers=1),
        solver.solve_large(minimum, time_limit=1, workers=1),
    ):
        assert_checked(minimum, solution)
        assert len(solution.assignments) == 3


def test_heartbeat_repeats_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "HEARTBEAT_SECONDS", 0.05)
    beats: list[tuple] = []
    heartbeat = progress.Heartbeat(lambda *a: beats.append(a), lambda: 1.5)
    with heartbeat:
        heartbeat(0.5, 10.0, 2.0, 5)
        waited = threading.Event()
        for _ in range(1000):
            if len(beats) >= 3:
                break
            waited.wait(0.01)
    count = len(beats)
    assert count >= 3
    assert beats[0] == (0.5, 10.0, 2.0, 5)
    assert all(b == (1.5, 10.0, 2.0, 5) for b in beats[1:])
    threading.Event().wait(0.1)
    assert len(beats) == count, "no beats after the context ends"


def test_no_heartbeat_before_the_first_report(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "HEARTBEAT_SECONDS", 0.01)
    beats: list[tuple] = []
    with progress.Heartbeat(lambda *a: beats.append(a), lambda: 0.0):
        threading.Event().wait(0.05)
    assert beats == []


def test_the_package_exports_solve_large_and_explain() -> None:
    assert solver.solve_large is decompose.solve_large
    assert callable(solver.explain)
    assert solver.Reason.__name__ == "Reason"
