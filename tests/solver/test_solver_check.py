"""check() flags a hand-made violation of every hard rule, and scores soft terms."""

from __future__ import annotations

import pytest
from solver_factories import bare_rules, day, make_person, make_shift

from solver import Assignment, Problem, Rules, check


def a(person: str, shift: str, role: str = "marshal") -> Assignment:
    return Assignment(person, shift, role)


NIGHTS = tuple(make_shift(n, "night") for n in range(8))
DAYS = tuple(make_shift(n, "day") for n in range(8))
EVENINGS = tuple(make_shift(n, "evening") for n in range(8))
ALL = NIGHTS + DAYS + EVENINGS
OTHER_SITE = make_shift(0, "day", site="B")


def problem(rules: Rules | None = None, **person) -> Problem:  # type: ignore[no-untyped-def]
    people = (make_person("p", (*ALL, OTHER_SITE), **person), make_person("q", DAYS[:1]))
    return Problem((*ALL, OTHER_SITE), people, rules or bare_rules())


CASES = [
    ("unknown_reference", problem(), [a("zed", "A-0-day")]),
    ("unknown_role", problem(), [a("p", "A-0-day", "lead")]),
    ("double_booked", problem(), [a("p", "A-0-day"), a("p", "A-0-day")]),
    ("not_available", problem(), [a("q", "A-1-day")]),
    ("not_qualified", problem(roles=("lead",)), [a("p", "A-0-day")]),
    ("day_off", problem(days_off=frozenset({day(0)})), [a("p", "A-0-day")]),
    ("nights_refused", problem(accepts_nights=False), [a("p", "A-0-night")]),
    (
        "shifts_per_day",
        problem(bare_rules(max_shifts_per_day=1)),
        [a("p", "A-0-night"), a("p", "A-0-day")],
    ),
    ("overlap", problem(), [a("p", "A-0-day"), a("p", "B-0-day")]),
    ("rest", problem(bare_rules(min_rest_hours=16)), [a("p", "A-0-evening"), a("p", "A-1-day")]),
    (
        "succession",
        problem(bare_rules(forbidden_successions={("evening", "day")})),
        [a("p", "A-0-evening"), a("p", "A-1-day")],
    ),
    (
        "kind_cap",
        problem(max_shifts_by_kind={"night": 1}),
        [a("p", "A-0-night"), a("p", "A-2-night")],
    ),
    ("max_shifts", problem(max_shifts=1), [a("p", "A-0-day"), a("p", "A-2-day")]),
    ("max_minutes", problem(max_minutes=480), [a("p", "A-0-day"), a("p", "A-2-day")]),
    ("min_minutes", problem(min_minutes=481), [a("p", "A-0-day")]),
    (
        "seven_day_cap",
        problem(bare_rules(max_shifts_in_7_days=2)),
        [a("p", "A-0-day"), a("p", "A-2-day"), a("p", "A-6-day")],
    ),
    ("seven_day_cap", problem(weekly_cap=1), [a("p", "A-0-day"), a("p", "A-6-day")]),
    (
        "nights_7_days",
        problem(bare_rules(max_nights_in_7_days=1)),
        [a("p", "A-0-night"), a("p", "A-3-night")],
    ),
    (
        "max_consecutive_days",
        problem(bare_rules(max_consecutive_days=2)),
        [a("p", "A-0-day"), a("p", "A-1-day"), a("p", "A-2-day")],
    ),
    ("min_consecutive_days", problem(bare_rules(min_consecutive_days=2)), [a("p", "A-3-day")]),
    (
        "min_consecutive_days_off",
        problem(bare_rules(min_consecutive_days_off=2)),
        [a("p", "A-2-day"), a("p", "A-4-day")],
    ),
    ("max_weekends", problem(bare_rules(max_weekends=0)), [a("p", "A-6-day")]),
]


@pytest.mark.parametrize(("rule", "prob", "roster"), CASES, ids=[c[0] for c in CASES])
def test_each_hard_rule_violation_is_flagged(rule: str, prob: Problem, roster: list) -> None:
    report = check(prob, roster)
    assert not report.ok
    assert rule in {v.rule for v in report.violations}
    assert all(v.message for v in report.violations)


def test_dropped_pin_is_flagged() -> None:
    base = problem()
    pinned = Problem(base.shifts, base.people, base.rules, pins=(a("p", "A-0-day"),))
    assert [v.rule for v in check(pinned, []).violations] == ["pin_dropped"]


@pytest.mark.parametrize(
    ("roster", "rules"),
    [
        ([a("p", "A-0-evening"), a("p", "A-1-evening")], bare_rules(min_rest_hours=16)),
        ([a("p", "A-0-day"), a("p", "A-1-day")], bare_rules(max_consecutive_days=2)),
        ([a("p", "A-0-day")], bare_rules(min_consecutive_days=3)),  # run touches the start
        ([a("p", "A-5-day"), a("p", "A-6-day")], bare_rules(max_weekends=1)),
    ],
)
def test_rosters_exactly_at_a_limit_pass(roster: list, rules: Rules) -> None:
    assert check(problem(rules), roster).ok


def test_soft_terms_are_recomputed() -> None:
    rules = bare_rules(weight_fair_load=1, weight_fair_nights=2, weight_site_change=3)
    prob = problem(rules, weekly_cap=7)
    roster = [a("p", "A-0-night"), a("p", "B-0-day"), a("p", "A-1-day")]
    report = check(prob, roster)
    demanded = len(ALL) + 1
    assert report.unfilled[("A-2-day", "marshal")] == 1
    assert report.breakdown["shortfall"] == 1000 * (demanded - 3)
    # 3 shifts over 8 days, 7 a week: capacity 7 x 2 started weeks = 14; the k-th shift costs
    # 50 (2k - 1) / 14 rounded half up: 4 + 11 + 18
    assert report.breakdown["fair_load"] == 33
    assert report.breakdown["fair_nights"] == 2
    assert report.breakdown["site_change"] == 3
    assert report.objective == sum(report.breakdown.values())
