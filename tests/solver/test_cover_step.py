"""The "cover" step of the neighbourhood search (solver.cpsat._Search._cover_model): on a
stall, the whole model without its objective and with the weighted shortfall below the
incumbent's, searched by local search from the incumbent and from nothing."""

from __future__ import annotations

from ortools.sat.python import cp_model
from solver_factories import adopt_days, bare_rules, make_person, make_shift

from solver import Problem, cpsat

DAYS = 4


def _search() -> cpsat._Search:
    # one post a day; p0 may work every day, p1 only day 3
    shifts = tuple(make_shift(n, "day", need=1) for n in range(DAYS))
    people = (make_person("p0", shifts), make_person("p1", shifts[3:]))
    problem = Problem(shifts, people, bare_rules(max_shifts_per_day=1))
    return cpsat._Search(problem, 10.0, 1, 0, None, True)


def _short(search: cpsat._Search, solver: cp_model.CpSolver) -> int:
    """Posts the roster of ``solver`` leaves short."""
    solution = solver.response_proto.solution
    return sum(solution[var.index] for var, _ in search.ctx.shortfall.values())


def test_nothing_to_cover() -> None:
    search = _search()
    adopt_days(search, {"p0": {0, 1, 2, 3}})
    assert search.short == []
    assert search._cover_model() is None


def test_the_model_asks_for_more_cover_without_an_objective() -> None:
    search = _search()
    adopt_days(search, {"p0": {0, 1}})
    assert len(search.short) == 2
    models = search._cover_model()
    assert models is not None
    hinted, blank = models
    count = len(search.ctx.model.proto.constraints)
    for model in models:
        assert not model.has_objective()
        assert len(model.proto.constraints) == count + 1
    # the same cap (the repeated field takes no negative index)
    assert str(hinted.proto.constraints[count]) == str(blank.proto.constraints[count])
    # one hinted with the incumbent, every variable; the other with no hint
    assert list(hinted.proto.solution_hint.vars) == list(range(len(hinted.proto.variables)))
    assert list(hinted.proto.solution_hint.values) == list(search.best_solution)
    assert not blank.proto.solution_hint.vars
    # the search's own model is left as it was
    assert search.ctx.model.has_objective()


def test_local_search_finds_a_roster_that_covers_more_from_either_start() -> None:
    search = _search()
    adopt_days(search, {"p0": {0, 1}})
    models = search._cover_model()
    assert models is not None
    for model in models:
        solver, status = search._run(model, 2.0, full=False, first_only=True, local_search=True)
        assert status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        assert _short(search, solver) < 2
        # it reported nothing (its objective is not the problem's)
        assert search.best_seen >= search.best_objective


def test_the_last_short_post_is_covered() -> None:
    # one post short, which p1 or p0 may take: the model asks for every post
    search = _search()
    adopt_days(search, {"p0": {0, 1, 2}})
    assert search.short == ["A-3-day"]
    models = search._cover_model()
    assert models is not None
    solver, status = search._run(models[0], 2.0, full=False, first_only=True, local_search=True)
    assert status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    assert _short(search, solver) == 0
