"""The flat search's 'long' neighbourhood: everybody over a long window (solver.cpsat)."""

from __future__ import annotations

from collections import defaultdict

import pytest
from solver_factories import bare_rules, make_person, make_shift

from solver import Problem, cpsat

DAYS = 28


def _search(*, deterministic: bool = True) -> cpsat._Search:
    shifts = tuple(make_shift(n, kind, need=2) for n in range(DAYS) for kind in ("day", "evening"))
    people = tuple(make_person(f"p{i}", shifts, max_minutes=8 * 60 * 16) for i in range(6))
    problem = Problem(shifts, people, bare_rules(max_shifts_per_day=1))
    return cpsat._Search(problem, 10.0, 2, 0, None, deterministic)


def _by_day(search: cpsat._Search) -> dict[int, list[int]]:
    by_day: dict[int, list[int]] = defaultdict(list)
    for index, (_, shift_id, _) in search.built.triples.items():
        by_day[search.ctx.day_of(search.ctx.shifts[shift_id])].append(index)
    return by_day


def _days(search: cpsat._Search, free: set[int]) -> set[int]:
    return {search.ctx.day_of(search.ctx.shifts[search.built.triples[i][1]]) for i in free}


def test_long_frees_everybody_over_one_window_around_a_short_post() -> None:
    search = _search()
    by_day = _by_day(search)
    search.short = ["A-12-evening"]
    firsts = set()
    for _ in range(40):
        free = search._long(18, DAYS, by_day)
        days = _days(search, free)
        assert 12 in days
        assert days == set(range(min(days), min(days) + 18))
        # everybody, every shift, on those days
        assert free == {i for d in days for i in by_day[d]}
        firsts.add(min(days))
    # both ends of the horizon, and windows in between
    assert {0, DAYS - 18} <= firsts
    assert len(firsts) > 2


def test_long_prefers_a_window_touching_an_end_of_the_horizon() -> None:
    """Runs at the ends of the horizon have no minimum length, so a window touching an end
    can reshape more: about half the draws (plus the random ones that land there) touch it."""
    search = _search()
    by_day = _by_day(search)
    search.short = ["A-25-day"]
    touching = 0
    for _ in range(100):
        days = _days(search, search._long(14, DAYS, by_day))
        assert 25 in days
        touching += max(days) == DAYS - 1
    assert touching >= 45


def test_long_without_short_posts_still_frees_a_window_of_its_length() -> None:
    search = _search()
    by_day = _by_day(search)
    search.short = []
    for length in (2, 14, DAYS, DAYS + 5):
        days = _days(search, search._long(length, DAYS, by_day))
        assert len(days) == min(length, DAYS)
        assert days == set(range(min(days), max(days) + 1))


@pytest.mark.parametrize("deterministic", [False, True])
def test_long_sub_solves_get_several_budgets(
    monkeypatch: pytest.MonkeyPatch, deterministic: bool
) -> None:
    """On the wall clock a long neighbourhood is given LONG_BUDGET_FACTOR sub-solve budgets,
    the others one; in deterministic mode's lock-step rounds every kind gets one (a longer
    sub-solve would keep the other workers waiting)."""
    search = _search(deterministic=deterministic)
    budgets: dict[str, list[float]] = defaultdict(list)
    # launch() picks a kind, builds its model and submits it; the sub-solves run on threads,
    # so each model is tagged with its kind when it is built.
    picked: list[str] = []
    kind_of: dict[int, str] = {}
    real_pick, real_restricted, real_run = search._pick, search._restricted, search._run

    def pick(kind: str, *args: object) -> set[int]:
        picked.append(kind)
        return real_pick(kind, *args)  # type: ignore[arg-type]  # passed through unchanged

    def restricted(incumbent: dict[int, int], free: set[int]) -> object:
        model = real_restricted(incumbent, free)
        kind_of[id(model)] = picked[-1]
        return model

    def run(model: object, budget: float, **kwargs: object) -> object:
        budgets[kind_of[id(model)]].append(budget)
        return real_run(model, budget, **kwargs)  # type: ignore[arg-type]  # passed through

    monkeypatch.setattr(search, "_pick", pick)
    monkeypatch.setattr(search, "_restricted", restricted)
    monkeypatch.setattr(search, "_run", run)
    monkeypatch.setattr(search, "stop", lambda: len(picked) >= 24)
    # the whole limit left throughout, so that no budget is cut short however slow the machine
    monkeypatch.setattr(search, "remaining", lambda: 10.0)
    monkeypatch.setattr(cpsat, "NEIGHBOURHOODS", ("days", "long"))
    # a first roster to improve: nobody works
    search._take([0] * len(search.ctx.model.proto.variables), 10_000.0)
    search._neighbourhood_search()
    # 10 s limit: one budget is SUB_SOLVE_SECONDS' floor
    assert set(budgets["days"]) == {cpsat.SUB_SOLVE_SECONDS[0]}
    factor = 1 if deterministic else cpsat.LONG_BUDGET_FACTOR
    assert set(budgets["long"]) == {factor * cpsat.SUB_SOLVE_SECONDS[0]}
