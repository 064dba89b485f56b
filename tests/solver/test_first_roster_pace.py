"""The person-by-person first roster (solver.feasible) keeps pace with what runs allow.

Its first, lazy pass works a day only when cover asks for it or the person falls behind the
pace their minimum minutes need. That pace once counted every free day as workable, ignoring
the longest run of days on and the shortest run of days off: a person with at most 4 days in
a row and 3 off between runs can work only 4 days in 7, so by the time they were "behind" they
could no longer catch up, and the pass spent its whole budget of steps backtracking before the
eager pass took over (15 % of the staff of the large generated shapes, three quarters of the
construction's rule checks). Counted, not timed: the outcome depends only on the instance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import solver.construct as construct
import solver.feasible as feasible
from benchmarks.curtois import to_problem
from benchmarks.curtois_format import read_instance
from benchmarks.curtois_gen import Shape, generate
from solver import Person, Shift, check
from solver.feasibility import Block, RosterState
from solver.feasible import _run_bound


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Failed search passes and RosterState.blocker calls of the constructions run."""
    counts = {"failed": 0, "blocker": 0}
    search = feasible._PersonBuilder._search
    blocker = RosterState.blocker

    def counting_search(
        self: feasible._PersonBuilder, person: Person, choices: Any, *, eager: bool
    ) -> bool:
        done = search(self, person, choices, eager=eager)
        counts["failed"] += not done
        return done

    def counting_blocker(self: RosterState, person: Person, shift: Shift) -> Block | None:
        counts["blocker"] += 1
        return blocker(self, person, shift)

    monkeypatch.setattr(feasible._PersonBuilder, "_search", counting_search)
    monkeypatch.setattr(RosterState, "blocker", counting_blocker)
    return counts


def test_the_lazy_pass_keeps_pace_with_runs(tmp_path: Path, counted: dict[str, int]) -> None:
    path = tmp_path / "gen.txt"
    # 40 staff, 16 weeks, 8 shift types: before the fix 8 of 40 people failed the lazy pass
    # and the construction asked 18,087 rule checks; now none fails and it asks 5,572
    path.write_text(generate(Shape(40, 112, 8), 4), encoding="utf-8")
    problem = to_problem(read_instance(path))
    roster = feasible.feasible_roster(problem, polish=False)
    assert roster is not None
    assert check(problem, roster).ok
    assert counted["failed"] == 0
    assert counted["blocker"] < 8_000


def test_the_run_bound_is_exact_on_small_cases() -> None:
    # brute force over every on/off pattern of 9 days: the most free days worked with runs of
    # at most `longest` days on and at least `min_off` days off between runs
    horizon = 9
    workable = [True, True, True, False, True, True, True, True, True]
    free = [True, False, True, True, True, True, True, False, True]
    for longest in (1, 2, 3, 4):
        for min_off in (1, 2, 3):
            bound = _run_bound(horizon, longest, min_off, workable, free)
            for start in range(horizon + 1):
                best = 0
                for mask in range(1 << (horizon - start)):
                    days = [bool(mask >> i & 1) for i in range(horizon - start)]
                    if not _fits(days, workable[start:], longest, min_off):
                        continue
                    best = max(best, sum(d and f for d, f in zip(days, free[start:], strict=True)))
                assert bound[start] == best, (longest, min_off, start)


def _fits(days: list[bool], workable: list[bool], longest: int, min_off: int) -> bool:
    """Whether a pattern works only workable days, in runs of at most ``longest`` days, with at
    least ``min_off`` days off between two runs (a gap at either end may be shorter)."""
    if any(d and not w for d, w in zip(days, workable, strict=True)):
        return False
    run = gap = 0
    seen_work = False
    for d in days:
        if d:
            if seen_work and 0 < gap < min_off:
                return False
            run += 1
            gap = 0
            seen_work = True
            if run > longest:
                return False
        else:
            run = 0
            gap += 1
    return True


def test_no_window_is_built_when_building_them_cannot_fit_the_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the windows' models hold every candidate choice at least once: charged per model item,
    # 40 x 112 x 8 choices take longer to build than 0.01 s, so no window is even started
    path = tmp_path / "gen.txt"
    path.write_text(generate(Shape(40, 112, 8), 4), encoding="utf-8")
    problem = to_problem(read_instance(path))

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("a window was built")

    monkeypatch.setattr(construct, "window_problem", fail)
    monkeypatch.setattr(construct, "build", fail)
    assert construct.rolling_roster(problem, time_limit=0.01) == (None, 0.0)
