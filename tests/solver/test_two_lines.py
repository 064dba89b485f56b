"""The flat neighbourhood search's two lines and their relinking (solver.cpsat)."""

from __future__ import annotations

from array import array
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

import solver.budget as budget_module
import solver.cpsat as cpsat
from benchmarks.curtois import to_problem
from benchmarks.curtois_format import read_instance
from solver import check, solve

INSTANCES = Path(__file__).resolve().parents[2] / "benchmarks" / "instances"


def test_line_b_starts_from_the_first_roster_and_the_relink_frees_the_differing_cells(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(budget_module, "WALL_BACKSTOP", 1e6)
    monkeypatch.setattr(cpsat, "WALL_BACKSTOP", 1e6)
    # stall windows small enough that the search stalls, starts a second line and relinks
    monkeypatch.setattr(cpsat, "STALL_SHARE", 0.02)
    origins: list[bytes] = []
    taken: list[tuple[bytes, bytes]] = []  # (roster taken, incumbent before)
    relinks: list[tuple[array[int], array[int], set[int], cpsat._Search]] = []
    frees: list[set[int]] = []
    real_search = cpsat._Search._neighbourhood_search
    real_take = cpsat._Search._take
    real_cells = cpsat._Search._differing_variables
    real_restricted = cpsat._Search._restricted

    def key(search: cpsat._Search, solution: Any) -> bytes:
        if len(solution) == 0:  # no roster yet
            return b""
        return bytes(int(solution[i]) for i in search.x_indices)

    def search(self: cpsat._Search) -> None:
        origins.append(key(self, self.best_solution))
        real_search(self)

    def take(self: cpsat._Search, solution: Any, objective: float) -> None:
        taken.append((key(self, solution), key(self, self.best_solution)))
        real_take(self, solution, objective)

    def cells(self: cpsat._Search, first: Any, second: Any, by_day: Any) -> set[int]:
        free = real_cells(self, first, second, by_day)
        relinks.append((array("q", first), array("q", second), free, self))
        return free

    def restricted(self: cpsat._Search, incumbent: Any, free: set[int]) -> Any:
        frees.append(set(free))
        return real_restricted(self, incumbent, free)

    monkeypatch.setattr(cpsat._Search, "_neighbourhood_search", search)
    monkeypatch.setattr(cpsat._Search, "_take", take)
    monkeypatch.setattr(cpsat._Search, "_differing_variables", cells)
    monkeypatch.setattr(cpsat._Search, "_restricted", restricted)
    problem = to_problem(read_instance(INSTANCES / "Gen_12x28x3_s1.txt"))
    first = solve(problem, time_limit=3, workers=2, seed=4, deterministic=True)
    assert check(problem, first).ok
    assert len(origins) == 1
    origin = origins[0]
    # line B: the first roster taken again while line A held another roster
    assert any(roster == origin and before != origin for roster, before in taken)
    assert relinks, "no relink happened: the test proves nothing"
    one, other, free, owner = relinks[0]
    assert key(owner, one) != key(owner, other)
    # exactly the cells (person, day) where the two rosters differ, every shift of each
    ctx = owner.ctx
    triples = owner.built.triples
    differ: dict[tuple[str, int], bool] = defaultdict(bool)
    for i in owner.x_indices:
        person_id, shift_id, _ = triples[i]
        differ[person_id, ctx.day_of(ctx.shifts[shift_id])] |= one[i] != other[i]
    expected = {
        i for i in owner.x_indices if differ[triples[i][0], ctx.day_of(ctx.shifts[triples[i][1]])]
    }
    assert free == expected
    assert free in frees  # the relink sub-solve is the sub-model with just those free
    second = solve(problem, time_limit=3, workers=2, seed=4, deterministic=True)
    assert first.assignments == second.assignments
