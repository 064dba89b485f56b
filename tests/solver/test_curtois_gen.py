"""The Curtois-format generator and its committed instances: a feasible roster always exists,
and the solver finds one the independent evaluator accepts (deterministic budgets, so the
outcome does not depend on the machine's load; no timing is asserted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.curtois import run_instance, to_problem, to_roster
from benchmarks.curtois_evaluate import evaluate
from benchmarks.curtois_format import read_instance
from benchmarks.curtois_gen import Shape, generate, planted
from solver import check, dispatch, solve
from solver.construct import rolling_roster

INSTANCES = Path(__file__).resolve().parents[2] / "benchmarks" / "instances"
FIXTURES = sorted(INSTANCES.glob("Gen_*.txt"))


@pytest.mark.parametrize("shape", [Shape(5, 14, 2), Shape(12, 28, 4), Shape(30, 70, 12)], ids=str)
@pytest.mark.parametrize("seed", [0, 7])
def test_the_planted_roster_keeps_every_hard_rule(tmp_path: Path, shape: Shape, seed: int) -> None:
    text, roster = planted(shape, seed)
    path = tmp_path / "gen.txt"
    path.write_text(text, encoding="utf-8")
    instance = read_instance(path)
    assert instance.horizon == shape.days
    assert len(instance.staff) == shape.staff
    assert len(instance.shift_types) == shape.shift_types
    assert len(instance.cover) == shape.days * shape.shift_types
    evaluation = evaluate(instance, roster)
    assert evaluation.feasible, evaluation.problems[:3]


def test_the_generator_is_seeded() -> None:
    shape = Shape(8, 21, 3)
    assert generate(shape, 1) == generate(shape, 1)
    assert generate(shape, 1) != generate(shape, 2)


def test_shapes_outside_the_format_are_refused() -> None:
    with pytest.raises(ValueError, match="multiple of 7"):
        Shape(10, 30, 2)
    with pytest.raises(ValueError, match="positive"):
        Shape(0, 28, 2)


def test_the_regression_fixtures_are_committed() -> None:
    assert len(FIXTURES) >= 3


@pytest.mark.parametrize("path", FIXTURES[:2], ids=lambda p: p.stem)
def test_each_fixture_is_solved_feasibly(tmp_path: Path, path: Path) -> None:
    record = run_instance(
        path, time_limit=5, workers=2, seed=0, solutions=tmp_path, deterministic=True
    )
    assert record["feasible"], record.get("violations")
    assert record["time_to_first_s"] is not None
    assert record["peak_rss_mb"] > 0


def test_the_window_by_window_roster_meets_the_minimums() -> None:
    instance = read_instance(FIXTURES[1])
    problem = to_problem(instance)
    roster, spent = rolling_roster(problem, time_limit=10, deterministic=True)
    assert roster is not None
    assert spent > 0
    report = check(problem, roster)
    assert report.ok, report.violations[:3]


def test_the_windowed_search_returns_a_checked_roster(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "WINDOWED_CHOICES", 0)
    instance = read_instance(FIXTURES[0])
    problem = to_problem(instance)
    assert dispatch.is_windowed(problem)
    solution = solve(problem, time_limit=3, workers=1, deterministic=True)
    assert solution.feasible
    assert solution.time_to_first is not None
    report = check(problem, solution)
    assert report.ok
    assert report.objective == solution.objective
    assert evaluate(instance, to_roster(instance, solution)).feasible
