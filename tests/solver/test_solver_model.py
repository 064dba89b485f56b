"""The problem types reject inconsistent input with clear messages."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from solver_factories import TZ, bare_rules, day, make_person, make_shift

from solver import Assignment, Demand, Person, Problem, Request, Rules, Shift


def test_shift_day_is_the_local_start_date_even_across_midnight() -> None:
    start = datetime(2024, 4, 8, 23, tzinfo=TZ)
    shift = Shift("n", "A", start, start + timedelta(hours=8), "night", (Demand("m", 1),))
    assert shift.day == start.date()
    assert shift.minutes == 480


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Demand("m", -1), "min must be >= 0"),
        (lambda: Demand("m", 3, 2), "max 2 < min 3"),
        (lambda: Demand("m", 1, under_weight=-5), "under_weight"),
        (
            lambda: Shift("s", "A", datetime(2024, 4, 8, 8), datetime(2024, 4, 8, 16), "day", ()),
            "timezone-aware",
        ),
        (
            lambda: Shift(
                "s",
                "A",
                datetime(2024, 4, 8, 8, tzinfo=TZ),
                datetime(2024, 4, 8, 8, tzinfo=TZ),
                "day",
                (),
            ),
            "start must be before end",
        ),
        (
            lambda: make_shift(0, extra=(Demand("marshal", 1),)),
            "duplicate",
        ),
        (lambda: Request(on=True, weight=1), "exactly one of shift or day"),
        (lambda: Person("p", frozenset(), frozenset(), partner="p"), "own partner"),
        (lambda: Person("p", frozenset(), frozenset(), max_consecutive_days=0), ">= 1"),
        (
            lambda: Person("p", frozenset(), frozenset(), min_minutes=10, max_minutes=5),
            "max_minutes",
        ),
        (lambda: Rules(min_rest_hours=-1), "min_rest_hours"),
        (lambda: Rules(max_shifts_per_day=0), "max_shifts_per_day"),
    ],
)
def test_invalid_parts_are_rejected(build, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        build()


def problem_with(**changes):  # type: ignore[no-untyped-def]
    shifts = (make_shift(0), make_shift(1))
    people = (make_person("p", shifts), make_person("q", shifts[:1]))
    fields = {"shifts": shifts, "people": people, "rules": bare_rules()}
    fields.update(changes)
    return Problem(**fields)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"shifts": (make_shift(0), make_shift(0))}, "duplicate shift id"),
        ({"people": (make_person("p", ()), make_person("p", ()))}, "duplicate person id"),
        ({"people": (Person("p", frozenset(), frozenset({"nope"})),)}, "unknown shifts"),
        ({"people": (Person("p", frozenset(), frozenset(), partner="zed"),)}, "partner 'zed'"),
        (
            {
                "people": (
                    Person("p", frozenset(), frozenset(), requests=(Request(True, 1, shift="x"),)),
                )
            },
            "unknown shift 'x'",
        ),
        ({"pins": (Assignment("zed", "A-0-day", "marshal"),)}, "unknown person"),
        ({"pins": (Assignment("p", "nope", "marshal"),)}, "unknown shift"),
        ({"pins": (Assignment("p", "A-0-day", "lead"),)}, "shift has no role"),
        ({"pins": (Assignment("q", "A-1-day", "marshal"),)}, "not available"),
        ({"baseline": (Assignment("zed", "A-0-day", "marshal"),)}, "unknown person"),
        ({"first_day": day(1)}, "within first_day..last_day"),
    ],
)
def test_problem_references_must_resolve(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        problem_with(**changes)


def test_problem_horizon_defaults_to_the_shift_days() -> None:
    problem = problem_with()
    assert problem.days == (day(0), day(1))
    assert problem.shift("A-1-day").day == day(1)
    assert problem.limit(problem.person("p"), "max_shifts_in_7_days") is None


def test_pin_of_an_unqualified_person_is_rejected() -> None:
    shifts = (make_shift(0),)
    with pytest.raises(ValueError, match="not qualified"):
        Problem(
            shifts,
            (make_person("p", shifts, roles=("lead",)),),
            pins=(Assignment("p", "A-0-day", "marshal"),),
        )


def test_types_are_frozen() -> None:
    shift = make_shift(0)
    with pytest.raises(AttributeError):
        shift.kind = "night"  # type: ignore[misc]
