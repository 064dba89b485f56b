"""A deterministic budget is calibrated in measured seconds (solver.budget) and a deterministic
solve repeats itself. Nothing here is timed: the wall-clock backstop, the one thing that could
make a deterministic run depend on this machine's load, is lifted."""

from __future__ import annotations

from pathlib import Path

import pytest

import solver.budget as budget_module
import solver.cpsat as cpsat
from benchmarks.curtois import to_problem
from benchmarks.curtois_format import read_instance
from solver import check, solve
from solver.budget import (
    CP_SAT_CALL_SECONDS,
    CP_SAT_UNITS_PER_SECOND,
    WALL_SHARE,
    cp_sat_seconds,
    work,
)

INSTANCES = Path(__file__).resolve().parents[2] / "benchmarks" / "instances"


def test_a_call_that_uses_its_whole_limit_is_charged_that_limit() -> None:
    """A CP-SAT call given ``seconds`` gets ``seconds * CP_SAT_UNITS_PER_SECOND`` units; using
    them all costs those seconds plus the call's fixed overhead, nothing more."""
    for seconds in (0.05, 1.0, 12.0):
        charged = cp_sat_seconds(seconds * CP_SAT_UNITS_PER_SECOND)
        assert charged == pytest.approx(seconds + CP_SAT_CALL_SECONDS / WALL_SHARE)


def test_loading_a_model_is_charged_by_its_size_and_free_models_dearer() -> None:
    empty = cp_sat_seconds(0.0)
    fixed = cp_sat_seconds(0.0, items=100_000)
    free = cp_sat_seconds(0.0, free_items=100_000)
    assert empty < fixed < free
    # the Python charges are in the same budget seconds: a measured second costs 1/WALL_SHARE
    assert work(items=10**6) == pytest.approx(10**6 * budget_module.PER_ITEM / WALL_SHARE)


def test_a_deterministic_flat_run_repeats_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two deterministic solves of a small instance with two workers (the full model with
    interleaved search, then lock-step neighbourhood rounds) return the same roster."""
    monkeypatch.setattr(budget_module, "WALL_BACKSTOP", 1e6)
    monkeypatch.setattr(cpsat, "WALL_BACKSTOP", 1e6)
    problem = to_problem(read_instance(INSTANCES / "Gen_12x28x3_s1.txt"))
    first, second = (
        solve(problem, time_limit=1, workers=2, seed=5, deterministic=True) for _ in range(2)
    )
    assert check(problem, first).ok
    assert first.assignments == second.assignments
    assert first.objective == second.objective
    assert first.status == second.status
