"""improve_cover(reshape=True) changes the days people work to fill short posts.

On tight instances (demand near everybody's maximum) the person-by-person construction leaves
posts short on some days and over on others; moving a shift between two days of one person, or
planning their fortnight around a short post again, fills them. Counted, not timed: the result
depends only on the input.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

import solver.feasible as feasible
from benchmarks.curtois import to_problem
from benchmarks.curtois_format import read_instance
from benchmarks.curtois_gen import Shape, generate
from solver import Problem, check
from solver.feasible import feasible_roster, improve_cover


def generated(tmp_path: Path, shape: Shape, seed: int) -> Problem:
    path = tmp_path / f"gen_{seed}.txt"
    path.write_text(generate(shape, seed), encoding="utf-8")
    return to_problem(read_instance(path))


@pytest.mark.parametrize(("shape", "seed"), [(Shape(12, 28, 3), 1), (Shape(20, 56, 4), 2)], ids=str)
def test_reshaping_keeps_every_hard_rule_and_beats_same_day_moves(
    tmp_path: Path, shape: Shape, seed: int
) -> None:
    problem = generated(tmp_path, shape, seed)
    raw = feasible_roster(problem, polish=False)
    assert raw is not None
    plain = check(problem, improve_cover(problem, raw))
    reshaped = improve_cover(problem, raw, reshape=True)
    report = check(problem, reshaped)
    assert report.ok, report.violations[:3]
    # fewer posts short than the same-day moves leave
    assert sum(report.unfilled.values()) < sum(plain.unfilled.values())
    assert report.objective < plain.objective
    # no clock: the same roster on every call, and feasible_roster's own
    assert improve_cover(problem, raw, reshape=True) == reshaped
    assert feasible_roster(problem) == reshaped


def test_re_plans_are_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    problem = generated(tmp_path, Shape(20, 56, 4), 2)
    raw = feasible_roster(problem, polish=False)
    assert raw is not None
    searches = []
    search = feasible._PersonBuilder._search

    def counting(self: feasible._PersonBuilder, *args: object, **kwargs: object) -> bool:
        searches.append(1)
        return search(self, *args, **kwargs)  # type: ignore[arg-type]  # passed through as given

    monkeypatch.setattr(feasible._PersonBuilder, "_search", counting)
    improve_cover(problem, raw, reshape=True)
    assert 0 < len(searches) <= feasible.RESHAPES_PER_PERSON * len(problem.people)
    searches.clear()
    monkeypatch.setattr(feasible, "RESHAPES_PER_PERSON", 0)
    improve_cover(problem, raw, reshape=True)
    assert not searches


def test_reshaping_stops_when_asked(tmp_path: Path) -> None:
    problem = generated(tmp_path, Shape(12, 28, 3), 1)
    raw = feasible_roster(problem, polish=False)
    assert raw is not None
    asked = []

    def stop() -> bool:
        asked.append(1)
        return True

    assert improve_cover(problem, raw, stop=stop, reshape=True) == raw
    assert len(asked) == 1


def test_the_moves_between_days_stop_when_asked_and_the_moves_within_days_stay(
    tmp_path: Path,
) -> None:
    problem = generated(tmp_path, Shape(20, 56, 4), 2)
    raw = feasible_roster(problem, polish=False)
    assert raw is not None
    within_days = improve_cover(problem, raw)
    stopped = feasible_roster(problem, stop=lambda: True)
    assert stopped is not None
    assert set(stopped) == set(within_days)
    asked: list[int] = []

    def after_a_few() -> bool:
        asked.append(1)
        return len(asked) > 5

    partly = feasible_roster(problem, stop=after_a_few)
    whole = feasible_roster(problem)
    assert partly is not None
    assert whole is not None
    assert check(problem, partly).ok
    assert check(problem, whole).objective < check(problem, partly).objective
    assert check(problem, partly).objective <= check(problem, within_days).objective


def test_a_hard_cap_below_a_post_s_minimum_is_kept(tmp_path: Path) -> None:
    """Every post the construction leaves short is capped where it is: the moves between days
    fill none of them (check would refuse the roster) and still improve the others' cover."""
    problem = generated(tmp_path, Shape(20, 56, 4), 2)
    raw = feasible_roster(problem, polish=False)
    assert raw is not None
    filled = Counter((a.shift, a.role) for a in raw)
    short = {
        (shift.id, d.role): filled[(shift.id, d.role)]
        for shift in problem.shifts
        for d in shift.demands
        if filled[(shift.id, d.role)] < d.min
    }
    assert short
    capped = replace(problem, caps=short)
    assert check(capped, raw).ok
    reshaped = improve_cover(capped, raw, reshape=True)
    report = check(capped, reshaped)
    assert report.ok, report.violations[:3]
    assert report.objective < check(capped, improve_cover(capped, raw)).objective
