"""The flat search's elite pool: spacing, restart targets, and the crossover neighbourhood
(solver.cpsat)."""

from __future__ import annotations

from array import array
from collections import defaultdict

from ortools.sat.python import cp_model
from solver_factories import bare_rules, make_person, make_shift

from solver import Problem, cpsat

DAYS = 14


def test_a_near_copy_replaces_a_kept_roster_only_when_better() -> None:
    elite = cpsat._Elite([0, 1, 2, 3, 4, 5], 4, spacing=3)
    elite.add(array("q", [1, 1, 0, 0, 0, 0]), 20.0)
    elite.add(array("q", [1, 0, 1, 0, 0, 0]), 20.0)  # two from the first: a tie, dropped
    elite.add(array("q", [0, 1, 1, 0, 0, 0]), 25.0)  # two from the first: worse, dropped
    assert [entry[2] for entry in elite.entries] == [bytes([1, 1, 0, 0, 0, 0])]
    elite.add(array("q", [0, 0, 0, 1, 1, 1]), 30.0)  # five away: kept
    elite.add(array("q", [1, 0, 1, 0, 0, 0]), 18.0)  # near the first and better: replaces it
    assert [(entry[0], entry[2]) for entry in elite.entries] == [
        (18.0, bytes([1, 0, 1, 0, 0, 0])),
        (30.0, bytes([0, 0, 0, 1, 1, 1])),
    ]


def test_a_better_roster_replaces_every_kept_roster_near_it() -> None:
    elite = cpsat._Elite([0, 1, 2, 3], 4, spacing=3)
    elite.add(array("q", [1, 1, 0, 0]), 20.0)
    elite.add(array("q", [0, 0, 1, 1]), 21.0)  # four from the first
    elite.add(array("q", [1, 0, 1, 0]), 10.0)  # two from each
    assert [(entry[0], entry[2]) for entry in elite.entries] == [(10.0, bytes([1, 0, 1, 0]))]


def test_without_spacing_only_the_same_roster_counts_as_a_copy() -> None:
    elite = cpsat._Elite([0, 1], 4)
    elite.add(array("q", [1, 0, 5]), 20.0)
    elite.add(array("q", [0, 1, 5]), 20.0)
    elite.add(array("q", [1, 0, 3]), 19.0)  # the same roster, its aux variables better
    assert [(entry[0], entry[1]) for entry in elite.entries] == [(19.0, 1), (20.0, 2)]
    assert list(elite.entries[0][3]) == [1, 0, 3]


def test_distance_counts_the_roster_variables_that_differ() -> None:
    assert cpsat._Elite.distance(bytes([1, 0, 1, 1]), bytes([0, 0, 1, 0])) == 2
    assert cpsat._Elite.distance(bytes(1000), bytes(1000)) == 0
    assert cpsat._Elite.distance(bytes([1] * 1000), bytes(1000)) == 1000


def test_a_restart_goes_to_the_farthest_roster_close_to_the_best() -> None:
    elite = cpsat._Elite([0, 1, 2, 3, 4, 5], 8)
    incumbent = array("q", [1, 1, 1, 0, 0, 0])
    elite.add(incumbent, 100.0)
    elite.add(array("q", [1, 1, 0, 1, 0, 0]), 100.0)  # two away, as good
    elite.add(array("q", [0, 1, 1, 1, 1, 0]), 101.0)  # three away, within 1 %
    elite.add(array("q", [0, 0, 0, 1, 1, 1]), 150.0)  # six away, far worse
    target = elite.farthest(incumbent, 0.01)
    assert target is not None
    assert target[0] == 101.0
    anywhere = elite.farthest(incumbent)
    assert anywhere is not None
    assert anywhere[0] == 150.0
    # nothing else close: the best of the others
    lone = cpsat._Elite([0, 1, 2], 8)
    lone.add(array("q", [1, 0, 0]), 10.0)
    lone.add(array("q", [0, 0, 1]), 14.0)
    lone.add(array("q", [0, 1, 1]), 12.0)
    fallback = lone.farthest(array("q", [1, 0, 0]), 0.01)
    assert fallback is not None
    assert fallback[0] == 12.0


def _search() -> cpsat._Search:
    shifts = tuple(make_shift(n, kind, need=1) for n in range(DAYS) for kind in ("day", "evening"))
    people = tuple(make_person(f"p{i}", shifts, max_minutes=8 * 60 * 7) for i in range(4))
    problem = Problem(shifts, people, bare_rules(max_shifts_per_day=1))
    return cpsat._Search(problem, 10.0, 1, 0, None, True)


def _by_day(search: cpsat._Search) -> dict[int, list[int]]:
    by_day: dict[int, list[int]] = defaultdict(list)
    for index, (_, shift_id, _) in search.built.triples.items():
        by_day[search.ctx.day_of(search.ctx.shifts[shift_id])].append(index)
    return by_day


def _roster(search: cpsat._Search, chosen: set[tuple[str, str]]) -> array[int]:
    """Every model variable 0 but the x of (person, shift) in ``chosen``."""
    solution = array("q", [0] * len(search.ctx.model.proto.variables))
    for index, (person_id, shift_id, _) in search.built.triples.items():
        solution[index] = int((person_id, shift_id) in chosen)
    return solution


def _index(search: cpsat._Search, person_id: str, shift_id: str) -> int:
    return next(i for i, t in search.built.triples.items() if t[:2] == (person_id, shift_id))


def test_crossover_frees_the_cells_where_two_kept_rosters_differ() -> None:
    search = _search()
    by_day = _by_day(search)
    mine = {("p0", "A-1-day"), ("p1", "A-1-evening"), ("p2", "A-5-day"), ("p3", "A-9-day")}
    theirs = {("p0", "A-1-evening"), ("p1", "A-1-day"), ("p2", "A-5-day"), ("p3", "A-10-day")}
    search.best_solution = _roster(search, mine)
    elite = cpsat._Elite(search.x_indices, 4)
    elite.add(search.best_solution, 10.0)
    assert search._crossover(elite, 1.0, by_day) is None  # no other roster yet
    elite.add(_roster(search, theirs), 12.0)
    free = search._crossover(elite, 1.0, by_day)
    assert free is not None
    triples = search.built.triples
    cells = {(triples[i][0], search.ctx.day_of(search.ctx.shifts[triples[i][1]])) for i in free}
    # p0 and p1 swapped on day 1, p3 moved from day 9 to day 10; p2 agrees
    assert cells == {("p0", 1), ("p1", 1), ("p3", 9), ("p3", 10)}
    assert _index(search, "p0", "A-1-day") in free
    assert _index(search, "p2", "A-5-day") not in free
    # a small fraction: a run of the differing days, not all of them
    for _ in range(10):
        part = search._crossover(elite, 0.01, by_day)
        assert part is not None
        assert 0 < len(part) < len(free)
        assert part <= free


def test_a_crossover_sub_solve_is_at_least_as_good_as_both_rosters() -> None:
    """Each of two rosters covers a different half of the posts; freed where they differ, the
    sub-model contains the guide roster, and its optimum takes the best of both."""
    search = _search()
    by_day = _by_day(search)
    first_half = {(f"p{n % 4}", f"A-{n}-day") for n in range(DAYS // 2)}
    second_half = {(f"p{n % 4}", f"A-{n}-day") for n in range(DAYS // 2, DAYS)}
    rosters = []
    for chosen in (first_half, second_half):
        hint = {i: int(search.built.triples[i][:2] in chosen) for i in search.x_indices}
        completed = search._complete(search.ctx.model, hint)
        assert completed is not None
        rosters.append((array("q", completed[0].response_proto.solution), completed[0]))
    elite = cpsat._Elite(search.x_indices, 4)
    for solution, solver in rosters:
        elite.add(solution, solver.objective_value)
    search._take(rosters[0][0], rosters[0][1].objective_value)
    free = search._crossover(elite, 1.0, by_day)
    assert free is not None
    assert search.best_values is not None
    model = search._restricted(search.best_values, free)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 10
    assert solver.solve(model) == cp_model.OPTIMAL
    # both halves covered where the two rosters differ: better than either
    assert solver.objective_value < min(r[1].objective_value for r in rosters)
