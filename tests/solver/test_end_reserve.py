"""The end of a solve keeps time for its check of the whole roster, however slow a check is on
this machine: the phases before it stop early enough, and a roster already checked is not
checked again. Fake clocks and slowed checks only: nothing here is timed."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest

import solver.decompose as decompose
import solver.repair as repair
import solver.windowed as windowed
from benchmarks.curtois import to_problem
from benchmarks.curtois_format import read_instance
from benchmarks.scenario_gen import generate
from solver import check
from solver.budget import Budget
from solver.feasibility import RosterState
from solver.model import Problem

INSTANCES = Path(__file__).resolve().parents[2] / "benchmarks" / "instances"


class FakeClock:
    """A clock that moves a millisecond each time it is read (so loops that ask it end) and
    by whatever a test adds (a slow check, a long phase)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        self.now += 1e-3
        return self.now


def slowed_check(monkeypatch: pytest.MonkeyPatch, module: Any, clock: FakeClock, seconds: float):  # type: ignore[no-untyped-def]
    """Make every check of the whole roster in ``module`` take ``seconds`` on ``clock``;
    return the list of the clock's readings when each started."""
    started: list[float] = []
    real = module.check

    def slow(problem: Problem, assignments: Any) -> Any:
        started.append(clock.now)
        clock.now += seconds
        return real(problem, assignments)

    monkeypatch.setattr(module, "check", slow)
    return started


# -- solve_large (solver.decompose._Large) ----------------------------------------------------


def xs_problem() -> Problem:
    return generate("XS", 2).problem


def no_sub_solves(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> None:
    """Neighbourhoods and scarce re-plans take their whole budget and find nothing."""

    def neighbourhood(sub: Problem, chosen: Any, budget: float, *args: Any) -> None:
        clock.now += budget
        return None

    def replan(problem: Problem, index: Any, state: Any, role: str, budget: float, **kw: Any):  # type: ignore[no-untyped-def]
        clock.now += budget
        return None

    monkeypatch.setattr(decompose, "_improve_neighbourhood", neighbourhood)
    monkeypatch.setattr(decompose, "replan_role", replan)


@pytest.mark.parametrize("check_seconds", [2.0, 6.0, 12.0])
def test_a_large_solve_ends_by_its_limit_however_slow_a_check_is(
    monkeypatch: pytest.MonkeyPatch, check_seconds: float
) -> None:
    """A check of the whole roster taking up to 40 % of the limit: the first one (of the
    constructed roster) is the floor; every later phase leaves time for its own check and the
    end's, so the solve returns within the limit."""
    problem = xs_problem()
    clock = FakeClock()
    no_sub_solves(monkeypatch, clock)
    started = slowed_check(monkeypatch, decompose, clock, check_seconds)
    large = decompose._Large(problem, 30.0, 1, 0, None, clock=clock)
    solution = large.run()
    assert check(problem, solution).ok
    assert large.elapsed() <= 30.0
    # no check starts once it could not end by the limit (the first one is the floor)
    assert all(t - large.started + check_seconds <= 30.0 for t in started[1:])


def test_the_end_of_a_large_solve_reuses_the_check_of_an_unchanged_roster(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A roster nothing changed after its check is not checked again at the end (a check of
    a year of 1,000 people takes seconds on a busy machine)."""
    problem = xs_problem()
    clock = FakeClock()
    no_sub_solves(monkeypatch, clock)
    started = slowed_check(monkeypatch, decompose, clock, 12.0)
    large = decompose._Large(problem, 30.0, 1, 0, None, clock=clock)
    solution = large.run()
    # the constructed roster's check is the only one: no phase had time to change it
    assert len(started) == 1
    assert solution.objective == check(problem, solution).objective


def test_the_final_check_is_done_when_the_roster_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    """With time to spare the end checks the roster it returns whenever a phase changed it
    after the last check (the second check of every hard rule is never skipped)."""
    problem = xs_problem()
    large = decompose._Large(problem, 30.0, 1, 0, None)
    state = large.construct()
    first = large.timed_check(state)
    assert large.final_check(state) is first
    some = state.assignments()[0]
    state.remove(some.person, large.shifts[some.shift])
    again = large.final_check(state)
    assert again is not first
    assert again.objective == check(problem, state.assignments()).objective


def test_the_balance_and_its_fill_stop_at_their_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hole fill after the balance asks the clock between slots: past its deadline it
    leaves the rest as they are."""
    problem = xs_problem()
    clock = FakeClock()
    large = decompose._Large(problem, 30.0, 1, 0, None, clock=clock)
    large.construct()  # the scarce skills' plan the fill keeps to
    state = RosterState(problem)
    assert large.fill(state, range(len(large.index.slots)), deadline=large.elapsed() - 1) == 0
    assert large.fill(state, range(len(large.index.slots)), deadline=None) > 0


def test_phases_before_a_check_leave_room_for_it_and_the_end() -> None:
    """until(): a phase followed by a check gets its share of the time, but never more than
    what leaves the check and the end's (1.5 times the slowest check each)."""
    clock = FakeClock()
    large = decompose._Large(xs_problem(), 30.0, 1, 0, None, clock=clock)
    now = large.elapsed()
    assert large.until(0.3) - now == pytest.approx(0.3 * 30.0, abs=0.01)  # plentiful: unchanged
    large.check_seconds = 6.0  # a check measured at 6 s: 2 x (9 + 0.3) kept
    now = large.elapsed()
    assert large.until(0.9) - now == pytest.approx(30.0 - 18.6, abs=0.01)
    large.check_seconds = 20.0
    assert large.until(0.3, floor=0.5) <= large.elapsed()  # nothing left: no time at all


# -- solve_windowed -----------------------------------------------------------------------


def fixture_problem() -> Problem:
    return to_problem(read_instance(sorted(INSTANCES.glob("Gen_*.txt"))[0]))


def test_a_late_first_roster_is_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The person-by-person roster arriving past the deadline is checked once, and that
    check is the end's: the solve returns one check after it (not two)."""
    problem = fixture_problem()
    clock = FakeClock()
    monkeypatch.setattr(windowed, "Budget", partial(Budget, clock=clock))
    real = windowed.feasible_roster

    def late(*args: object, **kwargs: object) -> object:
        clock.now += 19.0
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(windowed, "feasible_roster", late)
    started = slowed_check(monkeypatch, windowed, clock, 3.0)
    solution = windowed.solve_windowed(problem, time_limit=20, workers=1)
    assert solution.status == "FEASIBLE"
    assert len(started) == 1
    assert solution.wall_time <= 19.0 + 3.0 + 0.5
    assert check(problem, solution).ok


def test_the_rolling_roster_leaves_time_for_its_check_and_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The window-by-window roster is checked after it and the end checks the result: its
    limits leave room for both (1.5 times the slowest check each, plus the end's second)."""
    problem = fixture_problem()
    clock = FakeClock()
    monkeypatch.setattr(windowed, "Budget", partial(Budget, clock=clock))
    real = windowed.feasible_roster
    first: list[Any] = []

    def slow_first(*args: object, **kwargs: object) -> object:
        clock.now += 20.0
        first.append(real(*args, **kwargs))  # type: ignore[arg-type]
        return first[0]

    asked: list[dict[str, float]] = []

    def rolling(problem: Problem, **kwargs: Any) -> tuple[object, float]:
        asked.append({"left": 40.0 - (clock.now - started_at), **kwargs})
        clock.now += kwargs["hard_limit"]
        return first[0], 0.0  # a roster; its check is the phase's

    def improve(
        search: Any, window: Problem, freed: Any, pins: Any, budget: float, overhead: float
    ) -> None:
        # a neighbourhood takes what the real one may (and finds nothing)
        clock.now += max(0.0, min(budget, search.remaining() - search.reserve - overhead))

    monkeypatch.setattr(windowed, "feasible_roster", slow_first)
    monkeypatch.setattr(windowed, "improve_cover", lambda problem, roster, stop: roster)
    monkeypatch.setattr(windowed, "rolling_roster", rolling)
    monkeypatch.setattr(windowed._Windowed, "_improve", improve)
    started = slowed_check(monkeypatch, windowed, clock, 4.0)
    started_at = clock.now
    solution = windowed.solve_windowed(problem, time_limit=40, workers=1)
    assert solution.status == "FEASIBLE"
    assert len(asked) == 1
    # 16 s left after the first roster and its check: the end's reserve (1 + 6 s) and the
    # rolling roster's check (6 s) leave it 3 s
    assert asked[0]["hard_limit"] <= asked[0]["left"] - 13.0 + 0.1
    assert solution.wall_time <= 40.0
    assert len(started) == 2  # the first roster's and the rolling roster's; the end re-uses it


# -- solve_repair -------------------------------------------------------------------------


def test_a_repair_keeps_time_for_its_check_of_the_whole_problem(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """restrict() checks the told roster once; the end checks the result against the whole
    problem after the search: the search's limit leaves room for that check (1.5 times the
    restriction's time) instead of running to the limit first."""
    import solver
    from tests.solver.test_repair_proof import told_roster

    problem, hole = told_roster()
    clock = FakeClock()
    monkeypatch.setattr(repair, "clock", clock)
    limits: list[float] = []
    real_solve = solver.solve

    def recording_solve(restricted: Problem, *, time_limit: float, **kwargs: Any) -> Any:
        limits.append(time_limit)
        clock.now += time_limit  # the search runs to its limit
        return real_solve(restricted, time_limit=0.5, **{**kwargs, "deterministic": True})

    monkeypatch.setattr(repair, "_prove", lambda *args, **kwargs: (None, 0.0))
    monkeypatch.setattr(solver, "solve", recording_solve)
    started = slowed_check(monkeypatch, repair, clock, 4.0)
    began = clock.now
    solution = repair.solve_repair(problem, {hole: 1}, time_limit=20.0)
    assert solution.feasible
    assert limits
    # restrict()'s check of the told roster took 4 s: 6 s kept for the end's
    assert limits[0] <= 20.0 - 4.0 - 6.0 + 0.1
    assert len(started) == 2  # restrict()'s and the end's
    assert clock.now - began <= 20.0 + 0.1


# -- the days a person is available on (the fair-load yardstick, in check and the model) ----


def test_available_days_read_slot_by_slot_are_the_shifts_days() -> None:
    """Read per slot of the shared table (a check of a year at 50 sites walked every shift
    id of every person for it): the same days as walking the shifts, also with extra and
    excluded shifts."""
    from dataclasses import replace

    from solver.model import Availability

    problem = xs_problem()
    shifts = problem._shift_index()
    people = list(problem.people)
    assert any(isinstance(p.available, Availability) for p in people)
    some = next(p for p in people if isinstance(p.available, Availability))
    available = some.available
    assert isinstance(available, Availability)
    other = sorted(set(shifts) - set(available))[:3]
    mine = sorted(available)[:2]
    variants = [
        some,
        replace(some, available=Availability(available.table, available.slots, extra=other)),
        replace(some, available=Availability(available.table, available.slots, excluded=mine)),
        replace(some, available=frozenset(mine)),
    ]
    for person in [*people, *variants]:
        assert problem._available_days(person) == {shifts[s].day for s in person.available}
