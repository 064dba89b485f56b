"""The neighbourhoods that move cover in the flat search: 'pair' and 'union' (solver.cpsat)."""

from __future__ import annotations

from collections import defaultdict

import pytest
from solver_factories import bare_rules, make_person, make_shift

from solver import Problem, cpsat

DAYS = 28


def _search() -> cpsat._Search:
    shifts = tuple(make_shift(n, kind, need=2) for n in range(DAYS) for kind in ("day", "evening"))
    people = tuple(make_person(f"p{i}", shifts, max_minutes=8 * 60 * 16) for i in range(6))
    problem = Problem(shifts, people, bare_rules(max_shifts_per_day=1))
    return cpsat._Search(problem, 10.0, 2, 0, None, True)


def _indices(search: cpsat._Search) -> tuple[dict[str, list[int]], dict[int, list[int]]]:
    by_person: dict[str, list[int]] = defaultdict(list)
    by_day: dict[int, list[int]] = defaultdict(list)
    for index, (person_id, shift_id, _) in search.built.triples.items():
        by_person[person_id].append(index)
        by_day[search.ctx.day_of(search.ctx.shifts[shift_id])].append(index)
    return by_person, by_day


def _days(search: cpsat._Search, free: set[int]) -> set[int]:
    return {search.ctx.day_of(search.ctx.shifts[search.built.triples[i][1]]) for i in free}


def test_pair_frees_everybody_around_a_short_post_and_around_a_surplus_post() -> None:
    search = _search()
    _, by_day = _indices(search)
    search.short = ["A-3-day"]
    search.surplus = ["A-20-evening"]
    for _ in range(20):
        free = search._pair(4, DAYS, by_day)
        days = _days(search, free)
        assert 3 in days
        assert 20 in days
        assert len(days) <= 8
        # everybody on those days
        assert free == {i for d in days for i in by_day[d]}


def test_pair_without_cover_slack_still_frees_two_windows() -> None:
    search = _search()
    _, by_day = _indices(search)
    free = search._pair(3, DAYS, by_day)
    assert 3 <= len(_days(search, free)) <= 6


def test_union_adds_whole_rosters_of_people_with_room_for_one_more_shift() -> None:
    search = _search()
    by_person, by_day = _indices(search)
    fillers: dict[str, list[str]] = defaultdict(list)
    for person_id, shift_id, _ in search.built.triples.values():
        fillers[shift_id].append(person_id)
    search.short = ["A-10-day"]
    search.spare = ["p4"]
    people = sorted(search.ctx.shifts_of)
    for _ in range(10):
        free = search._union(5, people, DAYS, by_person, by_day, fillers)
        assert set(by_person["p4"]) <= free
        assert 10 in _days(search, free)
        others = free - set(by_person["p4"])
        assert len(_days(search, others)) == 5


def test_union_frees_only_part_of_a_long_roster(monkeypatch: pytest.MonkeyPatch) -> None:
    search = _search()
    by_person, by_day = _indices(search)
    fillers: dict[str, list[str]] = defaultdict(list)
    search.short = ["A-14-day"]
    search.spare = ["p2"]
    # each person has 56 candidate shifts: over this, only the days around the window
    monkeypatch.setattr(cpsat, "NEIGHBOURHOOD_VARIABLES", 20)
    people = sorted(search.ctx.shifts_of)
    free = search._union(3, people, DAYS, by_person, by_day, fillers)
    mine = free & set(by_person["p2"])
    assert 14 in _days(search, mine)
    assert len(_days(search, mine)) <= 10
