"""benchmarks.curtois_escape: the nearest roster to a stuck one, of objective at most a target,
changes only cells on which the stuck roster and the better one differ."""

from __future__ import annotations

from pathlib import Path

from benchmarks.curtois import to_problem, to_roster
from benchmarks.curtois_escape import describe, escape, weekends_worked
from benchmarks.curtois_evaluate import evaluate
from benchmarks.curtois_format import Instance, read_instance
from benchmarks.curtois_gen import Shape, planted
from solver import solve


def _instance(tmp_path: Path) -> tuple[Instance, dict[str, list[str]]]:
    text, roster = planted(Shape(5, 14, 2), 0)
    path = tmp_path / "gen.txt"
    path.write_text(text, encoding="utf-8")
    return read_instance(path), roster


def test_weekends_worked_counts_either_day() -> None:
    instance = Instance(name="x", horizon=14)
    row = [""] * 14
    row[6] = "D"  # the first Sunday
    row[12] = "E"  # the second Saturday
    assert weekends_worked(instance, row) == [0, 1]
    assert weekends_worked(instance, [""] * 14) == []


def test_with_nothing_to_relink_the_stuck_roster_is_the_only_answer(tmp_path: Path) -> None:
    instance, roster = _instance(tmp_path)
    penalty = evaluate(instance, roster).penalty
    status, found, distance = escape(instance, roster, roster, penalty, 10.0)
    assert status == "OPTIMAL"
    assert found == roster
    assert distance == 0
    assert describe(instance, roster, roster)[-1].startswith("people changed 0  cells changed 0")
    # nothing better keeps every cell
    status, found, distance = escape(instance, roster, roster, penalty - 1, 10.0)
    assert status == "INFEASIBLE"
    assert found is None
    assert distance is None


def test_the_move_changes_only_cells_the_two_rosters_differ_on(tmp_path: Path) -> None:
    instance, stuck = _instance(tmp_path)
    solution = solve(to_problem(instance), time_limit=2.0, workers=1, seed=0, deterministic=True)
    better = to_roster(instance, solution)
    target = evaluate(instance, better).penalty
    assert target < evaluate(instance, stuck).penalty
    status, found, distance = escape(instance, stuck, better, target, 20.0)
    assert status == "OPTIMAL"
    assert found is not None
    assert distance is not None
    assert evaluate(instance, found).feasible
    assert evaluate(instance, found).penalty <= target
    differ = {(p, d) for p in stuck for d in range(instance.horizon) if stuck[p][d] != better[p][d]}
    moved = {(p, d) for p in stuck for d in range(instance.horizon) if stuck[p][d] != found[p][d]}
    assert moved <= differ
    # a changed cell flips one roster variable (a shift taken or dropped) or two (swapped)
    assert len(moved) <= distance <= 2 * len(moved)
