"""The scarce-skill model (solver.scarce.role_model) keeps the same per-person hard rules as
the full model (solver.build) and the independent checker (solver.check).

On small random problems a random candidate roster of the role's holders (their pins plus some
of the model's (person, slot) choices, one shift each) is fixed in both models through
assumptions: the full model must accept it exactly when check does, and the scarce model
exactly when check finds no broken per-person rule apart from the minimums (the scarce model
holds only part of each person's roster, so it posts upper limits only, on purpose).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model
from solver_factories import day, make_shift

from solver import Assignment, Demand, Person, Problem, Rules, check
from solver.build import build
from solver.feasibility import RosterState
from solver.flow import SlotIndex
from solver.scarce import role_model

SAMPLER = "sampler"
GENERAL = "marshal"
KINDS = ("night", "day", "evening")
# check's codes of the minimum rules, which a part of a valid roster may break
MINIMUMS = {"min_minutes", "min_consecutive_days", "min_consecutive_days_off"}
SMALL = st.none() | st.integers(0, 4)
RUN = st.none() | st.integers(1, 4)
# the first person always holds the skill
ROLE_SETS = ({SAMPLER}, {SAMPLER, GENERAL}, {GENERAL})


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    first = draw(st.integers(0, 6))
    days = draw(st.integers(1, 10))
    shifts = []
    for n in range(first, first + days):
        for site in draw(st.sampled_from([("A",), ("A", "B")])):
            for kind in draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=3, unique=True)):
                general = (Demand(GENERAL, 1),) if draw(st.booleans()) else ()
                shifts.append(
                    make_shift(
                        n,
                        kind,
                        site=site,
                        role=SAMPLER,
                        need=draw(st.integers(1, 2)),
                        hours=draw(st.sampled_from([8, 12])),
                        extra=general,
                    )
                )
    ids = [s.id for s in shifts]
    kinds_cap = st.dictionaries(st.sampled_from(KINDS), st.integers(0, 3), max_size=2)
    people = []
    for i in range(draw(st.integers(1, 4))):
        minimums = draw(st.booleans())
        people.append(
            Person(
                id=f"p{i}",
                roles=frozenset(draw(st.sampled_from(ROLE_SETS[: 2 if i == 0 else 3]))),
                available=frozenset(draw(st.sets(st.sampled_from(ids)))),
                days_off=frozenset(
                    draw(st.sets(st.integers(first, first + days).map(day), max_size=1))
                ),
                accepts_nights=draw(st.booleans()),
                weekly_cap=draw(SMALL),
                max_shifts_by_kind=draw(kinds_cap),
                max_shifts=draw(st.none() | st.integers(0, 6)),
                max_minutes=draw(st.none() | st.sampled_from([480, 1200, 2400])),
                max_consecutive_days=draw(RUN),
                max_weekends=draw(st.none() | st.integers(0, 1)),
                max_nights_in_7_days=draw(SMALL),
                min_rest_hours=draw(st.none() | st.sampled_from([0, 12, 24])),
                min_minutes=draw(st.none() | st.just(480)) if minimums else None,
                min_consecutive_days=draw(RUN) if minimums else None,
                min_consecutive_days_off=draw(RUN) if minimums else None,
            )
        )
    rules = Rules(
        max_shifts_per_day=draw(st.sampled_from([1, 2, None])),
        min_rest_hours=draw(st.sampled_from([0, 8, 16])),
        max_shifts_in_7_days=draw(st.none() | st.integers(1, 5)),
        max_consecutive_days=draw(RUN),
        max_nights_in_7_days=draw(SMALL),
        forbidden_successions=frozenset(
            draw(st.sets(st.tuples(st.sampled_from(KINDS), st.sampled_from(KINDS)), max_size=2))
        ),
    )
    problem = Problem(tuple(shifts), tuple(people), rules, cover_cap=draw(st.booleans()))
    # pins that break no upper limit together (as an app's pins do), drawn from eligible posts
    eligible = [
        Assignment(p.id, s.id, d.role)
        for p in people
        for s in shifts
        for d in s.demands
        if s.id in p.available and d.role in p.roles
    ]
    pins: list[Assignment] = []
    for pin in draw(st.lists(st.sampled_from(eligible), max_size=3)) if eligible else []:
        if any(a.person == pin.person and a.shift == pin.shift for a in pins):
            continue
        report = check(Problem(problem.shifts, problem.people, rules), [*pins, pin])
        if all(v.rule in MINIMUMS for v in report.violations):
            pins.append(pin)
    return Problem(
        tuple(shifts), tuple(people), rules, pins=tuple(pins), cover_cap=problem.cover_cap
    )


def feasible(model: cp_model.CpModel, fixed: list[cp_model.BoolVarT]) -> bool:
    """Whether ``model`` has a solution with every literal of ``fixed`` true."""
    model.clear_assumptions()
    model.add_assumptions(fixed)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 10.0
    status = solver.solve(model)
    assert status != cp_model.UNKNOWN
    return status in (cp_model.OPTIMAL, cp_model.FEASIBLE)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.data())
def test_scarce_model_keeps_the_per_person_rules_of_build_and_check(
    problem: Problem, data: st.DataObject
) -> None:
    index = SlotIndex(problem)
    state = RosterState(problem)
    scarce = role_model(problem, index, state, SAMPLER)
    if scarce is None:
        return
    full = build(problem)
    choices = sorted(scarce.chosen)
    for _ in range(4):
        picked = data.draw(st.lists(st.sampled_from(choices), unique=True))
        # the model's only other constraint: no more holders on a slot than its open posts
        taken: dict[int, int] = {}
        roster = list(problem.pins)
        for pid, i in picked:
            if taken.get(i, 0) >= scarce.need[i]:
                continue
            taken[i] = taken.get(i, 0) + 1
            person = problem.person(pid)
            shifts = [
                s
                for s in index.slots[i].shifts
                if s.demand(SAMPLER) is not None and state.static_block(person, s, SAMPLER) is None
            ]
            shift = shifts[data.draw(st.integers(0, len(shifts) - 1))]
            roster.append(Assignment(pid, shift.id, SAMPLER))
        report = check(problem, roster)
        kept = {(a.person, index.slot_of[a.shift]) for a in roster}
        scarce_ok = feasible(
            scarce.model,
            [var if key in kept else var.negated() for key, var in scarce.chosen.items()],
        )
        upper = [v for v in report.violations if v.person is not None and v.rule not in MINIMUMS]
        assert scarce_ok == (not upper), (roster, upper)
        held = {(a.person, a.shift, a.role) for a in roster}
        full_ok = feasible(
            full.ctx.model,
            [var if key in held else var.negated() for key, var in full.ctx.x.items()],
        )
        assert full_ok == report.ok, (roster, report.violations)


def test_the_candidates_reach_both_verdicts() -> None:
    """A sanity check of the harness on a hand-made case: Ann may work one shift in 7 days."""
    shifts = [make_shift(n, "day", role=SAMPLER) for n in range(2)]
    ann = Person("ann", frozenset({SAMPLER}), frozenset(s.id for s in shifts), weekly_cap=1)
    problem = Problem(tuple(shifts), (ann,), Rules())
    index = SlotIndex(problem)
    scarce = role_model(problem, index, RosterState(problem), SAMPLER)
    assert scarce is not None
    first, second = (scarce.chosen[("ann", index.slot_of[s.id])] for s in shifts)
    assert feasible(scarce.model, [first, second.negated()])
    assert not feasible(scarce.model, [first, second])
