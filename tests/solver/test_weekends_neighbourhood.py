"""The "weekends" neighbourhood re-deals who works which weekend (solver.cpsat._weekends): it
frees everybody on the weekends nearest a short post and the days beside them, plus the post's
own days, and is drawn only when somebody is at their maximum weekends."""

from __future__ import annotations

from collections import defaultdict

from solver_factories import adopt_days, bare_rules, make_person, make_shift

from solver import Problem, cpsat
from solver.rules.weekends import weekends

# two weeks from a Monday: weekends on days 5-6 and 12-13
DAYS = 14


def _search(max_weekends: int | None = 1) -> cpsat._Search:
    shifts = tuple(make_shift(n, "day", need=1) for n in range(DAYS))
    people = tuple(make_person(f"p{i}", shifts, max_weekends=max_weekends) for i in range(2))
    problem = Problem(shifts, people, bare_rules(max_shifts_per_day=1))
    return cpsat._Search(problem, 10.0, 1, 0, None, True)


def _adopt(search: cpsat._Search, days: dict[str, set[int]]) -> dict[int, list[int]]:
    """Make the incumbent: each person works the given days. Returns the indices by day."""
    adopt_days(search, days)
    by_day: dict[int, list[int]] = defaultdict(list)
    for index, (_, shift_id, _) in search.built.triples.items():
        by_day[search.ctx.day_of(search.ctx.shifts[shift_id])].append(index)
    return by_day


def _days(search: cpsat._Search, free: set[int]) -> set[int]:
    triples = search.built.triples
    return {search.ctx.day_of(search.ctx.shifts[triples[i][1]]) for i in free}


def test_drawn_only_when_somebody_is_at_their_maximum_weekends() -> None:
    search = _search()
    by_day = _adopt(search, {"p0": {2}, "p1": {5}})
    caps = {"p0": 1, "p1": 1}
    assert search._at_weekend_cap(caps, weekends(search.ctx), by_day)
    assert not search._at_weekend_cap({}, weekends(search.ctx), by_day)
    search = _search()
    by_day = _adopt(search, {"p0": {2}, "p1": {3}})
    assert not search._at_weekend_cap(caps, weekends(search.ctx), by_day)


def test_frees_the_weekends_the_days_beside_them_and_the_short_post() -> None:
    search = _search()
    # p0 works the first week, p1 the second but for day 10: only its post is short
    by_day = _adopt(search, {"p0": {0, 1, 2, 3, 4, 5, 6}, "p1": {7, 8, 9, 11, 12, 13}})
    assert search.short == ["A-10-day"]
    free = search._weekends(1.0, DAYS, weekends(search.ctx), by_day)
    assert _days(search, free) == {4, 5, 6, 7, 9, 10, 11, 12, 13}
    # everybody on those days
    assert free == {i for d in (4, 5, 6, 7, 9, 10, 11, 12, 13) for i in by_day[d]}
    # half the weekends: the one nearest the short post
    free = search._weekends(0.5, DAYS, weekends(search.ctx), by_day)
    assert _days(search, free) == {9, 10, 11, 12, 13}


def test_a_sub_solve_re_deals_a_weekend() -> None:
    # p0 works the first weekend (their maximum), p1 the second's Saturday; the Sunday post
    # is short and only p1 may take it, which the neighbourhood's sub-solve finds
    search = _search()
    by_day = _adopt(search, {"p0": {5, 6}, "p1": {12}})
    assert "A-13-day" in search.short
    before = search.best_objective
    free = search._weekends(1.0, DAYS, weekends(search.ctx), by_day)
    solver, _ = search._run(search._restricted(search.best_values, free), 1.0, full=False)
    assert search._adopt(solver)
    assert search.best_objective < before
    worked = {search.built.triples[i][1] for i, value in search.best_values.items() if value}
    assert "A-13-day" in worked
