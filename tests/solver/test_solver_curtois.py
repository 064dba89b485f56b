"""The Curtois benchmark adapter, evaluator and Instance1 at its optimum."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.curtois import run_instance, to_problem, to_roster
from benchmarks.curtois_evaluate import evaluate
from benchmarks.curtois_format import best_known_values, read_instance, read_roster
from solver import check, solve

FOLDER = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "curtois"
INSTANCE1 = FOLDER / "Instance1.txt"
needs_instances = pytest.mark.skipif(
    not INSTANCE1.exists(), reason=f"shared benchmark folder not found at {FOLDER}"
)

TINY = """\
SECTION_HORIZON
7

SECTION_SHIFTS
D,480,
N,480,D

SECTION_STAFF
A,D=7|N=1,2400,960,3,2,1,1
B,D=7|N=0,2400,960,3,1,1,1

SECTION_DAYS_OFF
B,0

SECTION_SHIFT_ON_REQUESTS
A,0,N,5

SECTION_SHIFT_OFF_REQUESTS
A,3,D,2

SECTION_COVER
0,D,1,100,1
0,N,1,100,1
1,D,1,100,1
1,N,0,100,1
2,D,1,100,1
2,N,0,100,1
3,D,1,100,1
3,N,0,100,1
4,D,1,100,1
4,N,0,100,1
5,D,0,100,1
5,N,0,100,1
6,D,0,100,1
6,N,0,100,1
"""


@pytest.fixture
def tiny(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "Tiny.txt"
    path.write_text(TINY.replace("\n", "\r\n"), encoding="utf-8")
    return read_instance(path)


def test_parser_reads_every_section(tiny) -> None:  # type: ignore[no-untyped-def]
    assert tiny.horizon == 7
    assert [(t.id, t.minutes, t.cannot_follow) for t in tiny.shift_types] == [
        ("D", 480, ()),
        ("N", 480, ("D",)),
    ]
    assert tiny.staff[0].max_shifts == {"D": 7, "N": 1}
    assert tiny.days_off == {"B": {0}}
    assert len(tiny.cover) == 14


def test_evaluator_scores_and_flags_by_the_readme_rules(tiny) -> None:  # type: ignore[no-untyped-def]
    empty = {"A": [""] * 7, "B": [""] * 7}
    result = evaluate(tiny, empty)
    assert not result.feasible  # minimum minutes
    assert result.penalty == 5 + 6 * 100
    bad = {"A": ["N", "D", "", "", "", "", ""], "B": ["D", "D", "D", "D", "", "", ""]}
    problems = " ".join(evaluate(tiny, bad).problems)
    assert "D cannot follow N" in problems
    assert "day off 0" in problems
    assert "4 shifts in a row" in problems


def test_tiny_instance_solves_and_both_checkers_agree(tiny) -> None:  # type: ignore[no-untyped-def]
    problem = to_problem(tiny)
    solution = solve(problem, time_limit=5, seed=0, deterministic=True)
    assert check(problem, solution).ok
    evaluation = evaluate(tiny, to_roster(tiny, solution))
    assert evaluation.feasible, evaluation.problems
    assert evaluation.penalty == solution.objective


@needs_instances
def test_instance1_reaches_its_optimum(tmp_path: Path) -> None:
    record = run_instance(INSTANCE1, time_limit=30, workers=2, seed=0, solutions=tmp_path)
    assert record["feasible"]
    assert record["penalty"] == record["best_known"] == 607
    assert record["solver_objective"] == 607
    instance = read_instance(INSTANCE1)
    roster = read_roster(tmp_path / "Instance1_s0.csv")
    assert list(roster) == [s.id for s in instance.staff]
    assert evaluate(instance, roster).penalty == 607


@needs_instances
def test_best_known_values_come_from_the_readme() -> None:
    assert best_known_values(FOLDER)["Instance8"] == 1300
