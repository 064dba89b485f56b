"""The cover step's attempts and the guard on the cover it gained (solver.cpsat): a cover step
is a series of short local-search attempts with fresh seeds, every other one from the incumbent
and the rest from nothing, in deterministic mode whole rounds of them (no worker idles on a long
one), and the sub-solves that repair its roster may not give the gained cover back until they
stall."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from ortools.sat.python import cp_model
from solver_factories import adopt_days, bare_rules, make_person, make_shift

import solver.budget as budget_module
import solver.cpsat as cpsat
from benchmarks.curtois import to_problem
from benchmarks.curtois_format import read_instance
from solver import Problem, Request, check, solve

INSTANCES = Path(__file__).resolve().parents[2] / "benchmarks" / "instances"
DAYS = 4


def _search() -> cpsat._Search:
    # one post a day (a post short costs 100); p0 may work every day but asks, at 150, not to
    # work day 3; p1 may work only day 3 and is unwilling at 300
    shifts = tuple(make_shift(n, "day", need=1, under=100) for n in range(DAYS))
    people = (
        make_person("p0", shifts, requests=(Request(on=False, weight=150, shift=shifts[3].id),)),
        make_person(
            "p1", shifts[3:], requests=(Request(on=False, weight=300, shift=shifts[3].id),)
        ),
    )
    problem = Problem(shifts, people, bare_rules(max_shifts_per_day=1, weight_requests=1))
    return cpsat._Search(problem, 10.0, 1, 0, None, True)


def test_the_shortfall_is_weighed_per_post_short() -> None:
    search = _search()
    adopt_days(search, {"p0": {0}})
    assert search._shortfall(search.best_solution) == 300
    adopt_days(search, {"p0": {0, 1, 2, 3}})
    assert search._shortfall(search.best_solution) == 0


def test_the_cap_keeps_a_neighbourhood_from_giving_the_cover_back() -> None:
    search = _search()
    adopt_days(search, {"p0": {0, 1, 2, 3}})  # every post covered, p0's request refused (150)
    assert search.best_values is not None
    free = set(search.x_indices)
    # Without the cap the best neighbour leaves day 3 short (100 < 150)...
    model = search._restricted(search.best_values, free)
    solver, status = search._run(model, 5.0, full=False)
    assert status == cp_model.OPTIMAL
    assert solver.objective_value == 100
    assert search._shortfall(solver.response_proto.solution) == 100
    # ... with it every post stays covered, at the request's cost
    model = search._restricted(search.best_values, free)
    search._cap_shortfall(model, 0)
    solver, status = search._run(model, 5.0, full=False)
    assert status == cp_model.OPTIMAL
    assert solver.objective_value == 150
    assert search._shortfall(solver.response_proto.solution) == 0


Call = tuple[bool, float, bool, bool]


def _record(monkeypatch: pytest.MonkeyPatch) -> tuple[list[Call], list[int]]:
    """Record every sub-solve (whether a cover attempt, its budget, whether it ran beside a
    sub-solve of the other sort, whether it was hinted) and every cap a neighbourhood got (its
    shortfall)."""
    calls: list[Call] = []
    caps: list[int] = []
    lock = threading.Lock()
    in_flight = {True: 0, False: 0}
    real_run = cpsat._Search._run
    real_cap = cpsat._Search._cap_shortfall

    def run(
        self: cpsat._Search, model: cp_model.CpModel, budget: float, **options: object
    ) -> tuple[cp_model.CpSolver, cp_model.CpSolverStatus]:
        if options.get("full") or threading.current_thread() is threading.main_thread():
            # the full model, or a roster completed between sub-solves (_complete)
            return real_run(self, model, budget, **options)  # type: ignore[arg-type]
        cover = bool(options.get("local_search"))
        with lock:
            in_flight[cover] += 1
            mixed = in_flight[not cover] > 0
        try:
            return real_run(self, model, budget, **options)  # type: ignore[arg-type]
        finally:
            with lock:
                in_flight[cover] -= 1
                calls.append((cover, budget, mixed, bool(model.proto.solution_hint.vars)))

    def cap(self: cpsat._Search, model: cp_model.CpModel, most: int) -> None:
        if model.has_objective():  # (the cover model has none)
            caps.append(most)
        real_cap(self, model, most)

    monkeypatch.setattr(cpsat._Search, "_run", run)
    monkeypatch.setattr(cpsat._Search, "_cap_shortfall", cap)
    return calls, caps


def test_deterministic_cover_steps_take_whole_rounds_of_short_attempts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a stall window small enough for several cover steps, each attempt has one
    sub-solve budget, a round holds cover attempts only (one per worker: none waits on
    another), the repair of a covered roster is capped at its shortfall, and the run is
    repeatable."""
    monkeypatch.setattr(budget_module, "WALL_BACKSTOP", 1e6)
    monkeypatch.setattr(cpsat, "WALL_BACKSTOP", 1e6)
    monkeypatch.setattr(cpsat, "STALL_SHARE", 0.02)
    calls, caps = _record(monkeypatch)
    problem = to_problem(read_instance(INSTANCES / "Gen_12x28x3_s1.txt"))
    first = solve(problem, time_limit=3, workers=2, seed=6, deterministic=True)
    attempts = [(budget, hinted) for cover, budget, _, hinted in calls if cover]
    assert attempts, "no cover step ran"
    # the sub-solve budget at 3 s (SUB_SOLVE_SHARE of it, at least SUB_SOLVE_SECONDS[0])
    assert max(budget for budget, _ in attempts) <= cpsat.SUB_SOLVE_SECONDS[0]
    assert len(attempts) % 2 == 0  # whole rounds of two
    assert not any(mixed for _, _, mixed, _ in calls)
    # each round one attempt from the incumbent, one from nothing
    hinted = [hinted for _, hinted in attempts]
    assert hinted.count(True) == hinted.count(False)
    # a cover step found a roster covering more, and the sub-solves after it kept that cover
    assert caps
    assert check(problem, first.assignments).ok
    calls.clear()
    again = solve(problem, time_limit=3, workers=2, seed=6, deterministic=True)
    assert again.assignments == first.assignments
    assert again.objective == first.objective
