"""The "union" neighbourhood frees, beside a person with room, someone whose run would extend
onto the short post (solver.cpsat._extenders)."""

from __future__ import annotations

from collections import defaultdict

from solver_factories import bare_rules, make_person, make_shift

from solver import Problem, cpsat

DAYS = 14


def _search() -> cpsat._Search:
    shifts = tuple(make_shift(n, "day", need=2) for n in range(DAYS))
    people = tuple(make_person(f"p{i}", shifts) for i in range(4))
    problem = Problem(shifts, people, bare_rules(max_shifts_per_day=1))
    return cpsat._Search(problem, 10.0, 2, 0, None, True)


def _work(search: cpsat._Search, days: dict[str, set[int]]) -> dict[int, list[int]]:
    """Make the incumbent: each person works the given days. Returns the indices by day."""
    by_day: dict[int, list[int]] = defaultdict(list)
    values = {}
    for index, (person_id, shift_id, _) in search.built.triples.items():
        day = search.ctx.day_of(search.ctx.shifts[shift_id])
        by_day[day].append(index)
        values[index] = int(day in days.get(person_id, set()))
    search.best_values = values
    return by_day


def test_extenders_work_beside_the_post_but_not_on_its_day() -> None:
    search = _search()
    by_day = _work(search, {"p0": {1, 2}, "p1": {3}, "p2": {4, 5}, "p3": {6}})
    fillers = {"A-3-day": ["p0", "p1", "p2", "p3"]}
    focus = search.ctx.shifts["A-3-day"]
    # p0 works the day before, p2 the day after; p1 is on the post already; p3 is not near
    assert search._extenders(focus, fillers, by_day) == ["p0", "p2"]


def test_extenders_are_only_people_who_may_work_the_post() -> None:
    search = _search()
    by_day = _work(search, {"p0": {2}, "p2": {4}})
    focus = search.ctx.shifts["A-3-day"]
    assert search._extenders(focus, {"A-3-day": ["p2"]}, by_day) == ["p2"]


def test_no_incumbent_means_no_extenders() -> None:
    search = _search()
    focus = search.ctx.shifts["A-3-day"]
    assert search._extenders(focus, {"A-3-day": ["p0"]}, {}) == []
