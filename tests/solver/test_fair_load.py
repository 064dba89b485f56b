"""The fair-load rule: the CP-SAT cost and solver.check's score agree on every roster, and the
objective narrows the spread of load shares (not only the peak) without giving up a post."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from solver_factories import bare_rules, make_person, make_shift, run, worked

from solver import Assignment, Person, Problem, check, solve
from solver.rules.fairness import capacity

KINDS = ("night", "day", "evening")


@st.composite
def rosters(draw) -> tuple[Problem, list[Assignment]]:  # type: ignore[no-untyped-def]
    """A random small problem with fair load on and a random roster that keeps the hard rules."""
    days = draw(st.integers(1, 9))
    shifts = [
        make_shift(n, kind, site=site, need=draw(st.integers(0, 2)))
        for n in range(days)
        for site in ("A", "B")
        for kind in draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=3, unique=True))
    ]
    ids = [s.id for s in shifts]
    people = [
        Person(
            id=f"p{i}",
            roles=frozenset({"marshal"}),
            available=frozenset(draw(st.sets(st.sampled_from(ids), max_size=len(ids)))),
            weekly_cap=draw(st.none() | st.integers(1, 5)),
            max_shifts=draw(st.none() | st.integers(1, 6)),
            fair_capacity=draw(st.none() | st.integers(1, 12)),
        )
        for i in range(draw(st.integers(1, 4)))
    ]
    rules = bare_rules(
        max_shifts_per_day=draw(st.sampled_from([1, 2, None])),
        max_shifts_in_7_days=draw(st.sampled_from([None, 3, 5])),
        weight_fair_load=draw(st.integers(1, 5)),
    )
    problem = Problem(tuple(shifts), tuple(people), rules)
    # a valid roster: each person in turn takes the shifts they are drawn to while check allows
    roster: list[Assignment] = []
    for person in people:
        for sid in draw(st.lists(st.sampled_from(sorted(person.available) or [""]), max_size=6)):
            if not sid:
                break
            candidate = [*roster, Assignment(person.id, sid, "marshal")]
            if check(problem, candidate).ok:
                roster = candidate
    return problem, roster


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rosters())
def test_the_model_costs_a_fixed_roster_exactly_as_check_scores_it(case) -> None:  # type: ignore[no-untyped-def]
    problem, roster = case
    # pinned, every load is fixed: the CP-SAT cost variables can only take their least value
    pinned = replace(problem, pins=tuple(roster))
    solution = solve(pinned, time_limit=5.0, workers=2, seed=0, deterministic=True)
    report = check(pinned, solution)
    assert report.ok
    assert set(solution.assignments) >= set(roster)
    assert solution.breakdown.get("fair_load", 0) == report.breakdown.get("fair_load", 0)
    assert solution.objective == report.objective


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rosters())
def test_a_solved_roster_scores_the_same_in_the_model_and_in_check(case) -> None:  # type: ignore[no-untyped-def]
    problem, _ = case
    solution = solve(problem, time_limit=5.0, workers=2, seed=0, deterministic=True)
    report = check(problem, solution)
    assert report.ok
    assert dict(solution.breakdown) == report.breakdown


def test_the_spread_below_the_peak_is_narrowed_too() -> None:
    """p alone can work the evenings, so p's load is the peak whatever happens; the day shifts
    go half to q and half to r (a model of the peak alone is indifferent to 4 + 0)."""
    evenings = tuple(make_shift(n, "evening") for n in range(4))
    days = tuple(make_shift(n, "day") for n in range(4))
    people = [
        make_person("p", evenings, weekly_cap=4),
        make_person("q", days, weekly_cap=4),
        make_person("r", days, weekly_cap=4),
    ]
    problem = Problem(evenings + days, tuple(people), bare_rules(weight_fair_load=1))
    solution = run(problem)
    assert solution.unfilled == ()
    assert [len(worked(solution, pid)) for pid in "pqr"] == [4, 2, 2]
    assert check(problem, solution).breakdown == dict(solution.breakdown)
    # the score itself tells the two apart, though their peaks are the same
    lopsided = [a for a in solution.assignments if a.person == "p"] + [
        Assignment("q", s.id, "marshal") for s in days
    ]
    assert check(problem, lopsided).ok
    assert check(problem, lopsided).breakdown["fair_load"] > solution.breakdown["fair_load"]


def test_load_follows_capacity_and_coverage_comes_first() -> None:
    """q offered one day, p four: p takes three of four posts and q one; and a person at their
    capacity still takes a post nobody else can fill."""
    shifts = tuple(make_shift(n) for n in range(4))
    p = make_person("p", shifts, weekly_cap=4)
    q = make_person("q", shifts[:1], weekly_cap=4)
    problem = Problem(shifts, (p, q), bare_rules(max_shifts_per_day=1, weight_fair_load=5))
    assert (capacity(problem, p), capacity(problem, q)) == (4, 1)
    solution = run(problem)
    assert solution.unfilled == ()
    assert (len(worked(solution, "p")), len(worked(solution, "q"))) == (3, 1)
    alone = Problem(shifts, (p,), bare_rules(max_shifts_per_day=1, weight_fair_load=5))
    assert run(alone).unfilled == ()


def test_a_given_fair_capacity_is_the_yardstick() -> None:
    shifts = tuple(make_shift(n) for n in range(2))
    person = make_person("p", shifts, weekly_cap=5, fair_capacity=10)
    problem = Problem(shifts, (person,), bare_rules(weight_fair_load=1))
    assert capacity(problem, person) == 10
    # 50 (2k - 1) / 10 rounded half up for k = 1, 2: 5 + 15
    assert check(problem, run(problem)).breakdown == {"fair_load": 20}
