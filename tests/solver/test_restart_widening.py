"""A restart on a stall may go farther from the best roster at each stall until the best
improves (solver.cpsat.RESTART_WIDENING)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import pytest

import solver.budget as budget_module
import solver.cpsat as cpsat
from benchmarks.curtois import to_problem
from benchmarks.curtois_format import read_instance
from solver import check, solve

INSTANCES = Path(__file__).resolve().parents[2] / "benchmarks" / "instances"


def test_each_stall_without_a_new_best_widens_the_restart_and_a_new_best_resets_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(budget_module, "WALL_BACKSTOP", 1e6)
    monkeypatch.setattr(cpsat, "WALL_BACKSTOP", 1e6)
    monkeypatch.setattr(cpsat, "STALL_SHARE", 0.01)
    # (the share a restart was allowed, the best objective held then)
    calls: list[tuple[float, float]] = []
    real_farthest = cpsat._Elite.farthest

    def farthest(self: cpsat._Elite, solution: Sequence[int], within: float = 0.0) -> object:
        calls.append((within, self.entries[0][0]))
        return real_farthest(self, solution, within)

    monkeypatch.setattr(cpsat._Elite, "farthest", farthest)
    problem = to_problem(read_instance(INSTANCES / "Gen_12x28x3_s1.txt"))
    result = solve(problem, time_limit=3, workers=2, seed=3, deterministic=True)
    assert check(problem, result).ok
    assert len(calls) >= 3, "too few stalls: the test proves nothing"
    assert calls[0][0] == cpsat.RESTART_WITHIN
    widened = 0
    for (before, best_before), (after, best_after) in itertools.pairwise(calls):
        if best_after < best_before:
            assert after == cpsat.RESTART_WITHIN
        else:
            assert after == pytest.approx(before * cpsat.RESTART_WIDENING)
            widened += 1
    assert widened, "no two stalls in a row without a new best: the test proves nothing"
