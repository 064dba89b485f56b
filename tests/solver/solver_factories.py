"""Small builders for solver tests: volunteer-style shifts, people and quiet rules."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from solver import Demand, Person, Problem, Rules, Shift, Solution, check, solve

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = date(2024, 4, 8)
START_HOUR = {"night": 0, "day": 8, "evening": 16}


def day(n: int) -> date:
    """The date ``n`` days after the first Monday of the tests."""
    return MONDAY + timedelta(days=n)


def make_shift(
    n: int,
    kind: str = "day",
    *,
    site: str = "A",
    need: int = 1,
    role: str = "marshal",
    hours: int = 8,
    extra: tuple[Demand, ...] = (),
    under: int | None = None,
    over: int | None = None,
) -> Shift:
    """An 8-hour shift of ``kind`` on day ``n`` at ``site`` needing ``need`` people in ``role``."""
    start = datetime(MONDAY.year, MONDAY.month, MONDAY.day, START_HOUR.get(kind, 8), tzinfo=TZ)
    start += timedelta(days=n)
    return Shift(
        id=f"{site}-{n}-{kind}",
        site=site,
        start=start,
        end=start + timedelta(hours=hours),
        kind=kind,
        demands=(Demand(role, need, under_weight=under, over_weight=over), *extra),
    )


def make_person(pid: str, shifts, *, roles=("marshal",), **limits) -> Person:  # type: ignore[no-untyped-def]
    """A person available for every shift in ``shifts`` and qualified for ``roles``."""
    return Person(
        id=pid, roles=frozenset(roles), available=frozenset(s.id for s in shifts), **limits
    )


def bare_rules(**overrides) -> Rules:  # type: ignore[no-untyped-def]
    """Rules with every limit off and only cover weighted, so a test switches on one rule."""
    base = {
        "max_shifts_per_day": None,
        "min_rest_hours": 0,
        "max_shifts_in_7_days": None,
        "max_consecutive_days": None,
        "max_nights_in_7_days": None,
        "lead_role": None,
        "weight_missing_lead": 0,
        "weight_fair_load": 0,
        "weight_fair_nights": 0,
        "weight_preferred_site": 0,
        "weight_partner_apart": 0,
        "weight_site_change": 0,
        "weight_baseline_change": 0,
    }
    base.update(overrides)
    return Rules(**base)


def run(problem: Problem, *, time_limit: float = 5.0) -> Solution:
    """Solve deterministically with a small budget."""
    return solve(problem, time_limit=time_limit, workers=2, seed=0, deterministic=True)


def worked(solution: Solution, person: str) -> list[str]:
    """Shift ids ``person`` works in ``solution``, sorted."""
    return sorted(a.shift for a in solution.assignments if a.person == person)


def post_shift(
    day_no: int, kind: str = "day", site: str = "a", roles: dict[str, int] | None = None
) -> Shift:
    """A shift with several roles (``{"temp": 1}`` by default), id like ``a3d`` (the
    decomposition, flow and explanation tests address shifts this way)."""
    start = datetime(MONDAY.year, MONDAY.month, MONDAY.day, START_HOUR[kind], tzinfo=TZ)
    start += timedelta(days=day_no)
    return Shift(
        id=f"{site}{day_no}{kind[0]}",
        site=site,
        start=start,
        end=start + timedelta(hours=8),
        kind=kind,
        demands=tuple(Demand(r, n) for r, n in (roles or {"temp": 1}).items()),
    )


def posts_filled(problem: Problem, assignments) -> int:  # type: ignore[no-untyped-def]
    """Head count filled, as the independent checker counts it."""
    posts = sum(d.min for s in problem.shifts for d in s.demands)
    return posts - sum(check(problem, assignments).unfilled.values())


def adopt_days(search, days: dict[str, set[int]]) -> None:  # type: ignore[no-untyped-def]
    """Make the incumbent of a ``solver.cpsat._Search``: each person works every shift of the
    given days (numbered from the first), completed and scored with the full model."""
    hint = {}
    for index, (person_id, shift_id, _) in search.built.triples.items():
        number = search.ctx.day_of(search.ctx.shifts[shift_id])
        hint[index] = int(number in days.get(person_id, set()))
    completed = search._complete(search.ctx.model, hint)
    assert completed is not None
    assert search._adopt(completed[0])
