"""Property tests: on random small problems every returned roster passes check, pins stay,
and the reported objective is the checker's."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from solver_factories import day, make_shift

from solver import Demand, Person, Problem, Request, Rules, check, solve

KINDS = ("night", "day", "evening")
ROLES = ("lead", "marshal", "sampler")
LIMIT = st.none() | st.integers(1, 4)


@st.composite
def problems(draw) -> Problem:  # type: ignore[no-untyped-def]
    days = draw(st.integers(1, 6))
    sites = draw(st.sampled_from([("A",), ("A", "B")]))
    shifts = []
    for n in range(days):
        for site in sites:
            for kind in draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=3, unique=True)):
                demands = tuple(
                    Demand(role, draw(st.integers(0, 2)))
                    for role in draw(
                        st.lists(st.sampled_from(ROLES), min_size=1, max_size=2, unique=True)
                    )
                )
                shift = make_shift(n, kind, site=site)
                shifts.append(type(shift)(shift.id, site, shift.start, shift.end, kind, demands))
    ids = [s.id for s in shifts]
    people = []
    count = draw(st.integers(1, 5))
    for i in range(count):
        available = draw(st.sets(st.sampled_from(ids), max_size=len(ids)))
        requests = tuple(
            Request(draw(st.booleans()), draw(st.integers(1, 5)), shift=sid)
            for sid in draw(st.lists(st.sampled_from(ids), max_size=2, unique=True))
        )
        people.append(
            Person(
                id=f"p{i}",
                roles=frozenset(draw(st.sets(st.sampled_from(ROLES), min_size=1))),
                available=frozenset(available),
                days_off=frozenset(draw(st.sets(st.integers(0, days - 1).map(day), max_size=1))),
                requests=requests,
                preferred_sites=frozenset(draw(st.sets(st.sampled_from(sites), max_size=1))),
                partner=draw(
                    st.none() | st.sampled_from([f"p{j}" for j in range(count) if j != i] or [None])
                ),
                accepts_nights=draw(st.booleans()),
                weekly_cap=draw(LIMIT),
                max_consecutive_days=draw(LIMIT),
                min_consecutive_days=draw(LIMIT),
                min_consecutive_days_off=draw(LIMIT),
                max_weekends=draw(LIMIT),
            )
        )
    rules = Rules(
        max_shifts_per_day=draw(st.sampled_from([1, 2, None])),
        min_rest_hours=draw(st.sampled_from([0, 8, 16])),
        forbidden_successions=frozenset(
            draw(st.sets(st.tuples(st.sampled_from(KINDS), st.sampled_from(KINDS)), max_size=2))
        ),
    )
    # half the problems with the app's hard head counts
    return Problem(tuple(shifts), tuple(people), rules, cover_cap=draw(st.booleans()))


def assert_valid(problem: Problem, solution) -> None:  # type: ignore[no-untyped-def]
    assert solution.status in ("OPTIMAL", "FEASIBLE")
    report = check(problem, solution)
    assert report.ok, report.violations
    assert set(problem.pins) <= set(solution.assignments)
    assert solution.objective == report.objective
    assert solution.bound is None or solution.bound <= solution.objective
    assert dict(solution.breakdown) == report.breakdown
    held: dict[tuple[str, str], int] = {}
    for a in solution.assignments:
        held[(a.shift, a.role)] = held.get((a.shift, a.role), 0) + 1
    for post in solution.unfilled:
        demand = problem.shift(post.shift).demand(post.role)
        assert demand is not None
        assert post.missing == demand.min - held.get((post.shift, post.role), 0) > 0


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.data())
def test_every_returned_roster_passes_check_and_keeps_pins(problem: Problem, data) -> None:  # type: ignore[no-untyped-def]
    # Without pins a roster always exists (working nobody breaks no hard rule).
    first = solve(problem, time_limit=2.0, workers=2, seed=0, deterministic=True)
    assert_valid(problem, first)
    # Pins taken from a valid roster are satisfiable together; the old roster is the baseline.
    pins = (
        data.draw(st.lists(st.sampled_from(first.assignments), max_size=2, unique=True))
        if first.assignments
        else []
    )
    pinned = replace(problem, pins=tuple(pins), baseline=first.assignments)
    again = solve(pinned, time_limit=2.0, workers=2, seed=1, deterministic=True)
    assert_valid(pinned, again)


def test_a_one_week_volunteer_problem_solves_fully() -> None:
    shifts = tuple(
        make_shift(n, kind, site=site, need=2) for n in range(7) for kind in KINDS for site in "AB"
    )
    people = tuple(
        Person(
            f"v{i}",
            frozenset({"marshal"}),
            frozenset(s.id for s in shifts),
            accepts_nights=i % 3 != 0,
        )
        for i in range(24)
    )
    problem = Problem(shifts, people)
    solution = solve(problem, time_limit=2.0, seed=0, deterministic=True)
    assert check(problem, solution).ok
    assert solution.unfilled == ()
    # the product's 16 h rest: nobody works an evening and then the next day's day shift
    by_person: dict[str, list] = {}
    for a in solution.assignments:
        by_person.setdefault(a.person, []).append(problem.shift(a.shift))
    for worked in by_person.values():
        worked.sort(key=lambda s: s.start)
        assert all(b.start - a.end >= timedelta(hours=16) for a, b in itertools.pairwise(worked))
