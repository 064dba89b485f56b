"""Every phase of the window-by-window search checks the deadline, and a deterministic budget
charges the work done outside CP-SAT. Fake clocks and stop hooks only: nothing here is timed."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

import solver.budget as budget_module
import solver.cpsat as cpsat
import solver.windowed as windowed
from benchmarks.curtois import to_problem
from benchmarks.curtois_format import read_instance
from solver import check
from solver.budget import WALL_BACKSTOP, Budget
from solver.feasible import feasible_roster, improve_cover
from solver.model import Problem

INSTANCES = Path(__file__).resolve().parents[2] / "benchmarks" / "instances"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def fixture_problem() -> Problem:
    return to_problem(read_instance(sorted(INSTANCES.glob("Gen_*.txt"))[0]))


def test_a_wall_clock_budget_follows_the_clock() -> None:
    clock = FakeClock()
    budget = Budget(10.0, clock=clock)
    budget.charge(50.0)  # deterministic time is not what a wall-clock budget counts
    assert budget.remaining() == 10.0
    clock.now += 4
    assert budget.remaining() == 6.0


def test_a_deterministic_budget_ignores_the_clock_until_the_backstop() -> None:
    clock = FakeClock()
    budget = Budget(10.0, deterministic=True, clock=clock)
    budget.charge(3.0)
    clock.now += 10 * WALL_BACKSTOP - 0.01
    assert budget.remaining() == 7.0  # the same on a slow machine: the run stays reproducible
    clock.now += 0.02
    assert budget.remaining() <= 0  # but never runs away


def test_improving_the_cover_stops_when_asked() -> None:
    problem = fixture_problem()
    roster = feasible_roster(problem, polish=False)
    assert roster is not None
    asked = []

    def stop() -> bool:
        asked.append(1)
        return True

    assert set(improve_cover(problem, roster, stop=stop)) == set(roster)
    assert len(asked) == 1  # asked before the first step, and latched


def _phases_after_the_first_roster_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("a phase started after the deadline")

    monkeypatch.setattr(windowed, "improve_cover", fail)
    monkeypatch.setattr(windowed, "rolling_roster", fail)
    monkeypatch.setattr(windowed, "build", fail)


@pytest.mark.parametrize("deterministic", [False, True])
def test_no_phase_starts_once_the_deadline_has_passed(
    monkeypatch: pytest.MonkeyPatch, deterministic: bool
) -> None:
    problem = fixture_problem()
    clock = FakeClock()
    monkeypatch.setattr(windowed, "Budget", partial(Budget, clock=clock))
    real = windowed.feasible_roster

    def slow_first_roster(*args: object, **kwargs: object) -> object:
        # the person-by-person roster is the floor and always built; it took "too long"
        clock.now += 1000
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(windowed, "feasible_roster", slow_first_roster)
    _phases_after_the_first_roster_fail(monkeypatch)
    solution = windowed.solve_windowed(
        problem, time_limit=5, workers=1, deterministic=deterministic
    )
    assert solution.status == "FEASIBLE"
    assert check(problem, solution).ok


def test_no_phase_starts_once_should_stop_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = fixture_problem()
    _phases_after_the_first_roster_fail(monkeypatch)
    solution = windowed.solve_windowed(problem, time_limit=60, workers=1, should_stop=lambda: True)
    assert solution.status == "FEASIBLE"


def test_a_deterministic_run_charges_the_work_outside_cp_sat(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The person-by-person roster and the checks use up deterministic time although no
    CP-SAT call ran: with them alone over the limit, no later phase starts."""
    problem = fixture_problem()
    _phases_after_the_first_roster_fail(monkeypatch)
    monkeypatch.setattr(windowed, "FEASIBLE_ITEMS_PER_CHOICE", 10**9)
    solution = windowed.solve_windowed(problem, time_limit=5, workers=1, deterministic=True)
    assert solution.status == "FEASIBLE"


def test_the_search_stops_at_a_deterministic_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each neighbourhood's bookkeeping is charged: with it made dear, the search ends after a
    few neighbourhoods however cheap their CP-SAT calls are."""
    problem = fixture_problem()
    monkeypatch.setattr(windowed, "ROSTER_ITEMS_PER_ASSIGNMENT", 10**6)
    built = []
    real = windowed.build

    def counting_build(*args: object, **kwargs: object) -> object:
        built.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(windowed, "build", counting_build)
    solution = windowed.solve_windowed(problem, time_limit=30, workers=1, deterministic=True)
    assert solution.status == "FEASIBLE"
    charge = windowed.work(items=10**6 * len(solution.assignments))
    assert len(built) <= 30 / charge + 1


def test_the_flat_search_stops_at_the_wall_backstop_when_deterministic(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A deterministic flat search on a machine far slower than the calibration still ends:
    past WALL_BACKSTOP times the limit no time is left, whatever CP-SAT's clock says."""
    problem = fixture_problem()
    search = cpsat._Search(problem, 60.0, 1, 0, None, True)
    assert search.remaining() > 0
    monkeypatch.setattr(search, "elapsed", lambda: 60.0 * WALL_BACKSTOP + 1)
    assert search.remaining() <= 0
    assert search.spent_deterministic > 0  # building the model and the first roster count


def test_a_deterministic_windowed_run_repeats_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """The charges count work, never time: two runs return the same roster (the wall-clock
    backstop, which would make the result depend on this machine's load, is lifted)."""
    monkeypatch.setattr(budget_module, "WALL_BACKSTOP", 1e6)
    problem = fixture_problem()
    first, second = (
        windowed.solve_windowed(problem, time_limit=3, workers=1, seed=3, deterministic=True)
        for _ in range(2)
    )
    assert first.assignments == second.assignments
    assert first.objective == second.objective
