"""The flat neighbourhood search's elite pool and its restarts on a stall (solver.cpsat)."""

from __future__ import annotations

from array import array
from pathlib import Path

import pytest

import solver.budget as budget_module
import solver.cpsat as cpsat
from benchmarks.curtois import to_problem
from benchmarks.curtois_format import read_instance
from solver import check, solve

INSTANCES = Path(__file__).resolve().parents[2] / "benchmarks" / "instances"


def test_the_pool_keeps_the_best_distinct_rosters_best_first() -> None:
    elite = cpsat._Elite([0, 1, 2], 3)
    elite.add(array("q", [1, 0, 0, 7]), 50.0)
    elite.add(array("q", [1, 0, 0, 9]), 40.0)  # the same roster, its aux variables better
    elite.add(array("q", [0, 1, 0, 0]), 30.0)
    elite.add(array("q", [0, 0, 1, 0]), 30.0)
    elite.add(array("q", [1, 1, 1, 0]), 60.0)  # not among the three best
    assert [(entry[0], entry[2]) for entry in elite.entries] == [
        (30.0, bytes([0, 1, 0])),  # of equals, the older first
        (30.0, bytes([0, 0, 1])),
        (40.0, bytes([1, 0, 0])),
    ]
    assert list(elite.entries[2][3]) == [1, 0, 0, 9]
    elite.add(array("q", [1, 0, 0, 7]), 50.0)  # worse again: kept as it was
    assert elite.entries[2][0] == 40.0
    elite.add(array("q", [0, 0, 0, 0]), 10.0)
    assert elite.best[0] == 10.0
    assert len(elite.entries) == 3


def test_a_restart_goes_to_the_kept_roster_farthest_from_the_incumbent() -> None:
    elite = cpsat._Elite([0, 1, 2, 3], 4)
    elite.add(array("q", [1, 1, 0, 0]), 10.0)
    elite.add(array("q", [1, 0, 1, 0]), 12.0)  # two variables from the first
    elite.add(array("q", [0, 0, 1, 1]), 15.0)  # four
    elite.add(array("q", [0, 1, 1, 0]), 11.0)  # two
    target = elite.farthest(array("q", [1, 1, 0, 0]))
    assert target is not None
    assert target[0] == 15.0
    assert cpsat._Elite([0], 2).farthest(array("q", [1])) is None
    alone = cpsat._Elite([0], 2)
    alone.add(array("q", [1]), 3.0)
    assert alone.farthest(array("q", [1])) is None


def test_restarts_keep_a_deterministic_run_repeatable_and_return_the_best_roster(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a stall window small enough that the search restarts several times, two
    deterministic solves return the same roster, and that roster is the best any sub-solve
    reported (a restart from a worse roster never loses the best)."""
    monkeypatch.setattr(budget_module, "WALL_BACKSTOP", 1e6)
    monkeypatch.setattr(cpsat, "WALL_BACKSTOP", 1e6)
    monkeypatch.setattr(cpsat, "STALL_SHARE", 0.02)
    restarts: list[float] = []
    real_take = cpsat._Search._take

    def counting_take(self: cpsat._Search, solution: object, objective: float) -> None:
        if objective > self.best_objective:
            restarts.append(objective)
        real_take(self, solution, objective)  # type: ignore[arg-type]  # an array or a proto field

    monkeypatch.setattr(cpsat._Search, "_take", counting_take)
    problem = to_problem(read_instance(INSTANCES / "Gen_12x28x3_s1.txt"))
    seen: list[float] = []
    first = solve(
        problem,
        time_limit=3,
        workers=2,
        seed=3,
        deterministic=True,
        on_progress=lambda _t, objective, _b, _f: seen.append(objective),
    )
    assert restarts, "no restart to a worse roster happened: the test proves nothing"
    second = solve(problem, time_limit=3, workers=2, seed=3, deterministic=True)
    assert check(problem, first).ok
    assert first.assignments == second.assignments
    assert first.objective == min(seen)
