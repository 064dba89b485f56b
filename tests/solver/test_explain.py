"""solver.explain: the right reason code and facts for hand-made unfilled posts."""

from __future__ import annotations

import pytest
from solver_factories import MONDAY
from solver_factories import post_shift as shift

from solver.check import check
from solver.explain import Reason, explain, explain_post
from solver.model import Assignment, Demand, Person, Problem, Rules, Shift


def person(pid: str, shifts: list[Shift], roles: tuple[str, ...] = ("temp",), **kw) -> Person:
    return Person(id=pid, roles=frozenset(roles), available=frozenset(s.id for s in shifts), **kw)


def reasons_for(problem: Problem, roster: list[Assignment], shift_id: str, role: str = "temp"):
    report = check(problem, roster)
    assert report.ok, report.violations
    explained = explain(problem, roster)
    matching = [
        rs for post, rs in explained.items() if post.shift == shift_id and post.role == role
    ]
    assert len(matching) == 1
    assert matching[0] == explain_post(problem, roster, shift_id, role)
    return matching[0]


def test_no_one_qualified() -> None:
    s = shift(0, roles={"sampler": 1})
    problem = Problem(shifts=(s,), people=(person("p", [s]),))
    (reason,) = reasons_for(problem, [], s.id, "sampler")
    assert reason == Reason(
        code="no_one_qualified", shift=s.id, role="sampler", day=MONDAY, kind="day"
    )


def test_none_available() -> None:
    s, other = shift(0), shift(1)
    problem = Problem(shifts=(s, other), people=(person("p", [other]), person("q", [other])))
    (reason,) = reasons_for(problem, [], s.id)
    assert reason.code == "none_available"
    assert reason.count == 2  # two people hold the role, none is available
    assert reason.day == MONDAY
    assert reason.kind == "day"


def test_nights_refused_and_day_off() -> None:
    night = shift(0, "night")
    problem = Problem(
        shifts=(night,),
        people=(
            person("p", [night], accepts_nights=False),
            person("q", [night], accepts_nights=False),
            person("r", [night], days_off=frozenset({MONDAY})),
        ),
    )
    first, second = reasons_for(problem, [], night.id)
    assert (first.code, first.people) == ("nights_refused", ("p", "q"))
    assert (second.code, second.people) == ("day_off", ("r",))


def test_weekly_cap_and_seven_day_limit() -> None:
    shifts = [shift(d) for d in range(7)]
    target = shift(6, site="b")
    problem = Problem(
        shifts=(*shifts, target),
        people=(
            person("capped", [*shifts, target], weekly_cap=3),
            person("limited", [*shifts, target]),
        ),
        rules=Rules(max_shifts_in_7_days=2),
    )
    # the rule's limit (2) is tighter than "capped"'s own cap (3), so it is the one that binds
    roster = [Assignment("capped", shifts[d].id, "temp") for d in (0, 2)]
    roster += [Assignment("limited", shifts[d].id, "temp") for d in (1, 3)]
    (reason,) = reasons_for(problem, roster, target.id)
    assert reason.code == "seven_day_limit"
    assert reason.people == ("capped", "limited")
    assert (reason.count, reason.limit) == (2, 2)

    problem = Problem(
        shifts=(*shifts, target),
        people=(person("capped", [*shifts, target], weekly_cap=2),),
    )
    roster = [Assignment("capped", shifts[d].id, "temp") for d in (0, 3)]
    (reason,) = reasons_for(problem, roster, target.id)
    assert (reason.code, reason.count, reason.limit, reason.since) == ("weekly_cap", 2, 2, MONDAY)


def test_rest_names_the_previous_shift_and_hours() -> None:
    evening = shift(0, "evening")
    next_day = shift(1, "day")
    evening2 = Shift(
        id="x",
        site="b",
        start=evening.start,
        end=evening.end,
        kind="evening",
        demands=(Demand("temp", 1),),
    )
    problem = Problem(
        shifts=(evening, evening2, next_day),
        people=(
            person("p", [evening, evening2, next_day]),
            person("q", [evening, evening2, next_day]),
        ),
    )
    roster = [Assignment("p", evening.id, "temp"), Assignment("q", "x", "temp")]
    (reason,) = reasons_for(problem, roster, next_day.id)
    assert reason.code == "rest"
    assert reason.people == ("p", "q")
    assert reason.shifts == tuple(sorted((evening.id, "x")))
    assert reason.hours == 16.0


def test_busy_elsewhere_reports_the_other_posts_roles() -> None:
    a = shift(0, site="a", roles={"lead": 1, "temp": 1})
    b = shift(0, site="b", roles={"lead": 1})
    problem = Problem(
        shifts=(a, b),
        people=(person("p", [a, b], roles=("lead", "temp")), person("q", [a, b], roles=("temp",))),
    )
    roster = [Assignment("p", b.id, "lead"), Assignment("q", a.id, "temp")]
    (reason,) = reasons_for(problem, roster, a.id, "lead")
    assert (reason.code, reason.people, reason.shifts, reason.roles) == (
        "busy_elsewhere",
        ("p",),
        (b.id,),
        ("lead",),
    )


def test_consecutive_days_and_nights_limit() -> None:
    days = [shift(d) for d in range(7)]
    problem = Problem(
        shifts=tuple(days),
        people=(person("p", days),),
        rules=Rules(max_consecutive_days=3, max_shifts_in_7_days=None),
    )
    roster = [Assignment("p", days[d].id, "temp") for d in (0, 1, 2, 4, 5, 6)]
    (reason,) = reasons_for(problem, roster, days[3].id)
    assert (reason.code, reason.count, reason.limit) == ("consecutive_days", 6, 3)

    nights = [shift(d, "night") for d in range(4)]
    problem = Problem(
        shifts=tuple(nights), people=(person("p", nights),), rules=Rules(max_nights_in_7_days=2)
    )
    roster = [Assignment("p", nights[d].id, "temp") for d in (0, 2)]
    (reason,) = reasons_for(problem, roster, nights[1].id)
    assert (reason.code, reason.count, reason.limit) == ("nights_limit", 2, 2)


def test_reasons_are_ordered_by_how_many_they_explain() -> None:
    s = shift(2, roles={"temp": 3})
    before = shift(1, "evening", site="b")
    problem = Problem(
        shifts=(s, before),
        people=(
            person("n1", [s], days_off=frozenset({s.day})),
            person("r1", [s, before]),
            person("d1", [s], days_off=frozenset({s.day})),
            person("d2", [s], days_off=frozenset({s.day})),
        ),
    )
    roster = [Assignment("r1", before.id, "temp")]
    reasons = reasons_for(problem, roster, s.id)
    assert [r.code for r in reasons] == ["day_off", "rest"]
    assert reasons[0].size == 3


def test_could_fill_when_nothing_blocks() -> None:
    s = shift(0)
    problem = Problem(shifts=(s,), people=(person("p", [s]),))
    (reason,) = reasons_for(problem, [], s.id)
    assert (reason.code, reason.people) == ("could_fill", ("p",))


@pytest.mark.parametrize("size", ["XS"])
def test_explain_covers_every_unfilled_post_of_a_scenario(size: str) -> None:
    from benchmarks.scenario_gen import generate
    from solver.decompose import solve_large

    problem = generate(size, 3).problem
    solution = solve_large(problem, time_limit=2, workers=1)
    explained = explain(problem, solution)
    assert set(explained) == set(solution.unfilled)
    assert all(reasons for reasons in explained.values())
