"""solver.flow: slots and the max-flow coverage bound."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from solver_factories import MONDAY
from solver_factories import post_shift as shift
from solver_factories import posts_filled as filled

from benchmarks.scenario import greedy_signup
from benchmarks.scenario_gen import generate
from solver import solve
from solver.check import check
from solver.flow import SlotIndex, coverage_bound, fairness_bound
from solver.model import Person, Problem, Rules, Shift


def test_slots_pool_the_sites_of_one_time() -> None:
    shifts = (shift(0, site="a"), shift(0, site="b"), shift(0, "evening", site="a"))
    problem = Problem(shifts=shifts, people=(Person("p", frozenset({"temp"}), frozenset({"a0d"})),))
    index = SlotIndex(problem)
    assert len(index.slots) == 2
    assert index.slots[0].shift_ids == frozenset({"a0d", "b0d"})
    assert index.slots[0].need == {"temp": 2}
    assert index.person_slots["p"] == [0]


def test_bound_on_a_hand_checkable_case_equals_the_optimum() -> None:
    # Three day shifts needing two each (6 posts) and a lead nobody holds. "p" may work two
    # shifts in the week (weekly cap), "q" only Monday, "r" refuses nights and is only
    # available for a night: at most 2 + 1 = 3 posts can be filled.
    days = [shift(d, roles={"temp": 2, "lead": 1}) for d in range(3)]
    night = shift(1, "night", site="b")
    everything = frozenset(s.id for s in (*days, night))
    problem = Problem(
        shifts=(*days, night),
        people=(
            Person("p", frozenset({"temp"}), everything - {night.id}, weekly_cap=2),
            Person("q", frozenset({"temp"}), frozenset({days[0].id})),
            Person("r", frozenset({"temp"}), frozenset({night.id}), accepts_nights=False),
        ),
        # fair load off: over a 3-day horizon a weekly cap of 2 is less than one shift of
        # "capacity", and the fairness term would outweigh the shortfall
        rules=Rules(weight_fair_load=0),
    )
    assert coverage_bound(problem) == 3
    solution = solve(problem, time_limit=5, workers=1)
    assert solution.status == "OPTIMAL"
    assert filled(problem, solution.assignments) == 3


def test_bound_counts_one_shift_a_day_and_the_week_blocks() -> None:
    # One person, available for every shift of 10 days: one a day, at most 5 in each 7 days.
    shifts = [shift(d, kind) for d in range(10) for kind in ("day", "evening")]
    problem = Problem(
        shifts=tuple(shifts),
        people=(Person("p", frozenset({"temp"}), frozenset(s.id for s in shifts)),),
        rules=Rules(max_shifts_in_7_days=5),
    )
    # block 1 (days 0-6): 5, block 2 (days 7-9): 3 days
    assert coverage_bound(problem) == 8


@settings(max_examples=25, deadline=None)
@given(
    days=st.integers(2, 9),
    people=st.lists(
        st.tuples(
            st.sets(st.integers(0, 26), max_size=20),  # available (day*3+kind) cells
            st.booleans(),  # accepts nights
            st.integers(1, 5),  # weekly cap
            st.booleans(),  # is a lead
        ),
        min_size=1,
        max_size=8,
    ),
    seed=st.integers(0, 3),
)
def test_bound_is_never_below_a_valid_roster(days: int, people: list, seed: int) -> None:
    kinds = ("night", "day", "evening")
    shifts = [
        shift(d, k, site=site, roles={"lead": 1, "temp": 2})
        for d in range(days)
        for k in kinds
        for site in ("a", "b")
    ]
    persons = []
    for n, (cells, nights, cap, lead) in enumerate(people):
        available = frozenset(
            s.id for s in shifts if (shift_day(s) * 3 + kinds.index(s.kind)) in cells
        )
        roles = frozenset({"temp", "lead"} if lead else {"temp"})
        persons.append(Person(f"p{n}", roles, available, accepts_nights=nights, weekly_cap=cap))
    problem = Problem(shifts=tuple(shifts), people=tuple(persons))
    roster = greedy_signup(problem, SlotIndex(problem), seed)
    assert check(problem, roster).ok
    assert filled(problem, roster) <= coverage_bound(problem)


def shift_day(s: Shift) -> int:
    assert s.day is not None
    return (s.day - MONDAY).days


def test_bound_holds_for_the_large_solver_on_a_scenario() -> None:
    from solver.decompose import solve_large

    problem = generate("XS", 5).problem
    solution = solve_large(problem, time_limit=2, workers=1)
    assert filled(problem, solution.assignments) <= coverage_bound(problem)


def test_the_fairness_bound_is_zero_when_all_can_share_and_exact_when_one_must_carry() -> None:
    from solver.decompose import person_capacity

    # two people, one post a day for four days: an even split is possible
    shifts = tuple(shift(d, roles={"general": 1}) for d in range(4))
    every = frozenset(s.id for s in shifts)
    people = tuple(Person(p, frozenset({"general"}), every) for p in ("a", "b"))
    rules = Rules(max_shifts_in_7_days=None)
    problem = Problem(shifts, people, rules)
    index = SlotIndex(problem)
    capacity = {p.id: person_capacity(problem, index, p) for p in people}
    assert capacity == {"a": 4, "b": 4}
    assert fairness_bound(problem, capacity, index) < 1e-3
    # "b" may work no shift at all: a works 4 of 4, b 0 of 4, a spread of 0.5 whatever the
    # roster (b's capacity is still counted as what they offered)
    blocked = Person("b", frozenset({"general"}), every, max_shifts=0)
    lopsided = Problem(shifts, (people[0], blocked), rules)
    index = SlotIndex(lopsided)
    assert abs(fairness_bound(lopsided, capacity, index) - 0.5) < 1e-3
