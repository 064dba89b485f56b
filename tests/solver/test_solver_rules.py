"""Each rule: a trivially feasible case, a case it forbids or penalises, and its boundary."""

from __future__ import annotations

import pytest
from solver_factories import bare_rules, day, make_person, make_shift, run, worked

from solver import Assignment, Demand, Problem, Request, check


def week(kind: str = "day", days: int = 7, **kw) -> tuple:  # type: ignore[no-untyped-def]
    return tuple(make_shift(n, kind, **kw) for n in range(days))


def solved(shifts, people, **rules):  # type: ignore[no-untyped-def]
    problem = Problem(tuple(shifts), tuple(people), bare_rules(**rules))
    solution = run(problem)
    assert solution.status == "OPTIMAL"
    assert check(problem, solution).ok
    return solution


# -- cover and eligibility --------------------------------------------------------------------


def test_cover_fills_every_post_when_people_suffice() -> None:
    shifts = week(days=2)
    solution = solved(shifts, [make_person("p", shifts)])
    assert worked(solution, "p") == sorted(s.id for s in shifts)
    assert solution.unfilled == ()
    assert solution.objective == 0


def test_shortfall_is_reported_not_hidden() -> None:
    shifts = (make_shift(0, need=2),)
    solution = solved(shifts, [make_person("p", shifts)])
    assert [(u.shift, u.role, u.missing) for u in solution.unfilled] == [("A-0-day", "marshal", 1)]
    assert solution.breakdown == {"shortfall": 1000}


def test_nobody_is_placed_where_unavailable_or_unqualified() -> None:
    shifts = week(days=2)
    people = [make_person("p", shifts[:1]), make_person("q", shifts, roles=("lead",))]
    solution = solved(shifts, people)
    assert worked(solution, "p") == ["A-0-day"]
    assert worked(solution, "q") == []


def test_days_off_are_respected() -> None:
    shifts = week(days=2)
    solution = solved(shifts, [make_person("p", shifts, days_off=frozenset({day(1)}))])
    assert worked(solution, "p") == ["A-0-day"]


def test_nights_only_for_people_who_accept_them() -> None:
    shifts = (make_shift(0, "night"), make_shift(0, "day"))
    no = solved(shifts, [make_person("p", shifts, accepts_nights=False)])
    yes = solved(shifts, [make_person("p", shifts, accepts_nights=True)])
    assert worked(no, "p") == ["A-0-day"]
    assert worked(yes, "p") == ["A-0-day", "A-0-night"]


def test_over_cover_is_penalised() -> None:
    shifts = (make_shift(0, over=7),)
    people = [make_person(pid, shifts, min_minutes=480) for pid in "pq"]
    solution = solved(shifts, people)
    assert solution.breakdown == {"over_cover": 7}


# -- spacing ----------------------------------------------------------------------------------


def test_overlapping_shifts_are_never_both_worked() -> None:
    shifts = (make_shift(0, site="A"), make_shift(0, site="B"))
    solution = solved(shifts, [make_person("p", shifts)])
    assert len(worked(solution, "p")) == 1


@pytest.mark.parametrize(("rest", "both"), [(0, True), (8, True), (8.5, False), (16, False)])
def test_minimum_rest_between_shifts(rest: float, both: bool) -> None:
    # evening ends at 24:00, next day shift starts at 08:00: exactly 8 h of rest
    shifts = (make_shift(0, "evening"), make_shift(1, "day"))
    solution = solved(shifts, [make_person("p", shifts)], min_rest_hours=rest)
    assert len(worked(solution, "p")) == (2 if both else 1)


@pytest.mark.parametrize(("per_day", "count"), [(1, 1), (2, 2), (None, 3)])
def test_shifts_per_day(per_day: int | None, count: int) -> None:
    shifts = (make_shift(0, "night"), make_shift(0, "day"), make_shift(0, "evening"))
    solution = solved(shifts, [make_person("p", shifts)], max_shifts_per_day=per_day)
    assert len(worked(solution, "p")) == count


def test_forbidden_succession_on_the_next_day() -> None:
    shifts = (make_shift(0, "evening"), make_shift(1, "day"))
    banned = solved(shifts, [make_person("p", shifts)], forbidden_successions={("evening", "day")})
    other_way = solved(
        shifts, [make_person("p", shifts)], forbidden_successions={("day", "evening")}
    )
    assert len(worked(banned, "p")) == 1
    assert len(worked(other_way, "p")) == 2


# -- totals and windows -----------------------------------------------------------------------


@pytest.mark.parametrize(("cap", "count"), [(0, 0), (2, 2), (3, 3)])
def test_max_shifts_per_kind(cap: int, count: int) -> None:
    shifts = week("night", days=3)
    solution = solved(shifts, [make_person("p", shifts, max_shifts_by_kind={"night": cap})])
    assert len(worked(solution, "p")) == count


@pytest.mark.parametrize(
    ("limits", "count"),
    [
        ({"max_shifts": 2}, 2),
        ({"max_shifts": 3}, 3),
        ({"max_minutes": 960}, 2),
        ({"max_minutes": 959}, 1),
        ({"max_shifts_in_7_days": 2}, 2),
        ({"weekly_cap": 1}, 1),
        ({"weekly_cap": 3}, 3),
    ],
)
def test_caps_on_the_number_of_shifts(limits: dict, count: int) -> None:
    shifts = week(days=3)
    solution = solved(shifts, [make_person("p", shifts, **limits)])
    assert len(worked(solution, "p")) == count


def test_seven_day_window_slides() -> None:
    # 10 days, at most 3 in any 7: days 0-2 and 7-9 can all be worked, not one more in between
    shifts = week(days=10)
    solution = solved(shifts, [make_person("p", shifts)], max_shifts_in_7_days=3)
    days_worked = sorted(int(s.split("-")[1]) for s in worked(solution, "p"))
    assert len(days_worked) == 6
    assert all(sum(1 for d in days_worked if first <= d < first + 7) <= 3 for first in range(4))


@pytest.mark.parametrize(("cap", "count"), [(1, 1), (3, 3)])
def test_nights_in_any_seven_days(cap: int, count: int) -> None:
    shifts = week("night", days=4)
    solution = solved(shifts, [make_person("p", shifts)], max_nights_in_7_days=cap)
    assert len(worked(solution, "p")) == count


def test_minimum_minutes_forces_work_and_impossible_minimum_is_infeasible() -> None:
    shifts = (make_shift(0, need=0, over=1), make_shift(1, need=0, over=1))
    forced = solved(shifts, [make_person("p", shifts, min_minutes=960)])
    assert len(worked(forced, "p")) == 2
    problem = Problem(shifts, (make_person("p", shifts, min_minutes=961),), bare_rules())
    assert run(problem).status == "INFEASIBLE"


# -- runs of days -----------------------------------------------------------------------------


@pytest.mark.parametrize(("longest", "count"), [(3, 4), (4, 4), (5, 5)])
def test_max_consecutive_days(longest: int, count: int) -> None:
    shifts = week(days=5)
    solution = solved(shifts, [make_person("p", shifts)], max_consecutive_days=longest)
    assert len(worked(solution, "p")) == count


@pytest.mark.parametrize(("shortest", "count"), [(1, 1), (2, 2), (3, 3)])
def test_min_consecutive_days(shortest: int, count: int) -> None:
    # only day 2 of 5 needs someone; a run there is inside the horizon, so it must be long
    shifts = tuple(make_shift(n, need=int(n == 2), over=1) for n in range(5))
    solution = solved(shifts, [make_person("p", shifts)], min_consecutive_days=shortest)
    assert len(worked(solution, "p")) == count
    assert "A-2-day" in worked(solution, "p")


def test_runs_touching_the_horizon_ends_are_exempt() -> None:
    shifts = tuple(make_shift(n, need=int(n == 0), over=1) for n in range(5))
    solution = solved(shifts, [make_person("p", shifts)], min_consecutive_days=3)
    assert worked(solution, "p") == ["A-0-day"]


@pytest.mark.parametrize(("shortest_off", "count"), [(1, 4), (2, 3)])
def test_min_consecutive_days_off(shortest_off: int, count: int) -> None:
    # day 2 is off (not available), so working days 0, 1, 3 and 4 leaves a one-day break
    shifts = tuple(make_shift(n) for n in range(5))
    person = make_person("p", shifts[:2] + shifts[3:])
    solution = solved(shifts, [person], min_consecutive_days_off=shortest_off)
    assert len(worked(solution, "p")) == count


@pytest.mark.parametrize(("cap", "count"), [(0, 0), (1, 2), (2, 4)])
def test_max_weekends(cap: int, count: int) -> None:
    # Saturdays and Sundays of two weekends
    shifts = tuple(make_shift(n) for n in (5, 6, 12, 13))
    solution = solved(shifts, [make_person("p", shifts)], max_weekends=cap)
    assert len(worked(solution, "p")) == count


# -- soft goals -------------------------------------------------------------------------------


def test_requests_on_and_off() -> None:
    shifts = (make_shift(0, need=0), make_shift(1))
    person = make_person(
        "p",
        shifts,
        requests=(Request(True, 3, shift="A-0-day"), Request(False, 4, day=day(1))),
    )
    solution = solved(shifts, [person], weight_over_cover=1)
    # working day 0 costs 1 over-cover but grants a request of 3; day 1 off costs 1000
    assert worked(solution, "p") == ["A-0-day", "A-1-day"]
    assert solution.breakdown == {"over_cover": 1, "requests": 4}


def test_a_lead_is_placed_when_one_can_be() -> None:
    lead = Demand("lead", 1, under_weight=0)
    shifts = (make_shift(0, extra=(lead,)),)
    people = [make_person("p", shifts, roles=("marshal", "lead")), make_person("q", shifts)]
    solution = solved(shifts, people, lead_role="lead", weight_missing_lead=500)
    assert {(a.person, a.role) for a in solution.assignments} == {("p", "lead"), ("q", "marshal")}
    alone = solved(shifts, people[1:], lead_role="lead", weight_missing_lead=500)
    assert alone.breakdown == {"missing_lead": 500}


def test_load_is_spread_relative_to_capacity() -> None:
    shifts = week(days=4)
    people = [make_person("p", shifts, weekly_cap=6), make_person("q", shifts, weekly_cap=2)]
    solution = solved(shifts, people, weight_fair_load=1)
    assert (len(worked(solution, "p")), len(worked(solution, "q"))) == (3, 1)


def test_nights_are_spread() -> None:
    shifts = week("night", days=2)
    people = [make_person("p", shifts), make_person("q", shifts)]
    solution = solved(shifts, people, weight_fair_nights=5, weight_over_cover=0)
    assert solution.breakdown.get("fair_nights") == 5


def test_preferred_sites_are_honoured() -> None:
    shifts = (make_shift(0, site="A", need=0), make_shift(0, site="B", need=0))
    demand_any = (make_shift(1, site="A"),)
    person = make_person("p", shifts + demand_any, preferred_sites=frozenset({"B"}))
    solution = solved(shifts + demand_any, [person], weight_preferred_site=5)
    assert solution.breakdown == {"preferred_site": 5}


def test_partners_serve_together() -> None:
    shifts = (make_shift(0, need=1, over=1), make_shift(1, need=1, over=1))
    people = [make_person("p", shifts, partner="q"), make_person("q", shifts)]
    solution = solved(shifts, people, weight_partner_apart=10, max_shifts_per_day=1)
    assert worked(solution, "p") == worked(solution, "q")


def test_same_site_on_consecutive_days_is_preferred() -> None:
    shifts = (
        make_shift(0, site="A"),
        make_shift(1, site="A", need=0),
        make_shift(1, site="B", need=0),
    )
    extra = make_shift(2, site="A")
    people = [make_person("p", (*shifts, extra), min_minutes=3 * 480)]
    solution = solved((*shifts, extra), people, weight_site_change=4, weight_over_cover=1)
    assert worked(solution, "p") == ["A-0-day", "A-1-day", "A-2-day"]


def test_minimal_change_keeps_the_baseline() -> None:
    shifts = (make_shift(0),)
    people = [make_person("p", shifts), make_person("q", shifts)]
    for keep in ("p", "q"):
        problem = Problem(
            shifts,
            tuple(people),
            bare_rules(weight_baseline_change=1),
            baseline=(Assignment(keep, "A-0-day", "marshal"),),
        )
        assert worked(run(problem), keep) == ["A-0-day"]


def test_pins_are_hard_and_contradictory_pins_are_infeasible() -> None:
    shifts = (make_shift(0, need=0), make_shift(1))
    person = make_person("p", shifts)
    pinned = Problem(
        shifts,
        (person,),
        bare_rules(max_shifts_per_day=1, max_shifts=1),
        pins=(Assignment("p", "A-0-day", "marshal"),),
    )
    solution = run(pinned)
    assert worked(solution, "p") == ["A-0-day"]
    assert solution.breakdown == {"shortfall": 1000, "over_cover": 100}
    clash = Problem(
        shifts,
        (person,),
        bare_rules(max_shifts=1),
        pins=(Assignment("p", "A-0-day", "marshal"), Assignment("p", "A-1-day", "marshal")),
    )
    assert run(clash).status == "INFEASIBLE"


def test_higher_priority_sites_are_staffed_first() -> None:
    quiet = make_shift(0, site="A")
    busy = make_shift(0, site="B")
    busy = type(busy)(busy.id, busy.site, busy.start, busy.end, busy.kind, busy.demands, 3)
    solution = solved((quiet, busy), [make_person("p", (quiet, busy))])
    assert worked(solution, "p") == ["B-0-day"]
    assert solution.breakdown == {"shortfall": 1000}
