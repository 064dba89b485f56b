"""Repeat no-shows are rostered last: the off-requests scheduler.planning gives them outweigh
what the fair-load rule gains by spreading shifts onto them, yet they still fill the posts
nobody else can. Checked on a week small enough for CP-SAT to prove its roster optimal, so the
counts below are the objective's unique optimum, not a tie broken one way."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import solver
from scheduler.planning import NO_SHOW_THRESHOLD, _no_show_requests

TZ = ZoneInfo("Asia/Shanghai")
DAYS = [date(2026, 12, 7) + timedelta(days=n) for n in range(7)]


def week(flaky_requests: tuple[solver.Request, ...]) -> solver.Problem:
    """One post a day for a week; two volunteers free every day (the default rules allow each
    at most 5 shifts in 7 days), one of them with ``flaky_requests``."""
    shifts = tuple(
        solver.Shift(
            id=f"s{n}",
            site="A",
            start=datetime(d.year, d.month, d.day, 8, tzinfo=TZ),
            end=datetime(d.year, d.month, d.day, 16, tzinfo=TZ),
            kind="day",
            demands=(solver.Demand("marshal", 1),),
        )
        for n, d in enumerate(DAYS)
    )
    everything = frozenset(s.id for s in shifts)
    people = (
        solver.Person(id="keen", roles=frozenset({"marshal"}), available=everything),
        solver.Person(
            id="flaky",
            roles=frozenset({"marshal"}),
            available=everything,
            requests=flaky_requests,
        ),
    )
    return solver.Problem(shifts, people, solver.Rules(lead_role=None))


def shifts_worked(problem: solver.Problem) -> dict[str, int]:
    solution = solver.solve(problem, time_limit=20, workers=1, seed=0, deterministic=True)
    assert solution.status == "OPTIMAL"
    assert not solution.unfilled
    counts = {p.id: 0 for p in problem.people}
    for a in solution.assignments:
        counts[a.person] += 1
    return counts


def test_a_repeat_no_show_only_takes_the_posts_nobody_else_can() -> None:
    requests = _no_show_requests({1: NO_SHOW_THRESHOLD}, DAYS)[1]
    # keen works the most the rules allow (5 of 7); flaky only the 2 left, though fair load
    # alone would split the week 4 / 3
    assert shifts_worked(week(requests)) == {"keen": 5, "flaky": 2}


def test_a_weight_below_one_shifts_fair_load_cost_would_not_deprioritise() -> None:
    """Why the weight is scaled: at the old 4 a day, fair load still splits the week."""
    requests = tuple(solver.Request(on=False, day=d, weight=4) for d in DAYS)
    assert shifts_worked(week(requests)) == {"keen": 4, "flaky": 3}
    assert sorted(shifts_worked(week(())).values()) == [3, 4]  # no requests: either way


def test_the_large_solver_builds_and_balances_the_same_way() -> None:
    """solve_large (the app's path from 100,000 choices up) builds its first roster without
    CP-SAT: its construction puts the repeat no-show after everybody else and its balance
    does not hand them shifts for fair load."""
    from solver.decompose import construct, solve_large

    problem = week(_no_show_requests({1: NO_SHOW_THRESHOLD}, DAYS)[1])
    first = construct(problem)
    assert sum(a.person == "flaky" for a in first) == 2
    solution = solve_large(problem, time_limit=3, workers=1, seed=0)
    assert not solution.unfilled
    assert sum(a.person == "flaky" for a in solution.assignments) == 2
