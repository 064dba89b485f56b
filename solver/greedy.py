"""A fast constructive roster used as the first solution hint.

Posts are filled day by day, most constrained first, each by the eligible person who most
needs work (furthest below their minimum minutes, then least loaded), skipping anyone for whom
the shift would break a per-day, overlap/rest, per-kind, period, 7-day, consecutive-days,
succession or weekend limit given what they already hold. Minimum-run rules are not attempted:
the result is only a hint, and CP-SAT repairs what it misses.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from solver.model import Shift
from solver.rules.base import Context
from solver.rules.weekends import weekends
from solver.rules.windows import WINDOW_DAYS, seven_day_cap


def greedy_roster(ctx: Context) -> list[tuple[str, str, str]]:
    """Return (person, shift, role) triples forming a roster that respects the upper limits."""
    problem = ctx.problem
    rules = problem.rules
    on_day: dict[str, dict[int, list[Shift]]] = defaultdict(lambda: defaultdict(list))
    per_kind: dict[tuple[str, str], int] = defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    minutes: dict[str, int] = defaultdict(int)
    weekend_of = {d: n for n, days in enumerate(weekends(ctx)) for d in days}
    weekends_taken: dict[str, set[int]] = defaultdict(set)
    fillers: dict[tuple[str, str], list[str]] = defaultdict(list)
    for person_id, shift_id, role in ctx.x:
        fillers[(shift_id, role)].append(person_id)
    filled: dict[tuple[str, str], int] = defaultdict(int)
    chosen: list[tuple[str, str, str]] = []

    def take(person_id: str, shift: Shift, role: str) -> None:
        day = ctx.day_of(shift)
        chosen.append((person_id, shift.id, role))
        on_day[person_id][day].append(shift)
        per_kind[(person_id, shift.kind)] += 1
        count[person_id] += 1
        minutes[person_id] += shift.minutes
        filled[(shift.id, role)] += 1
        if day in weekend_of:
            weekends_taken[person_id].add(weekend_of[day])

    pinned = {(a.person, a.shift): a.role for a in problem.pins}
    for (person_id, shift_id), role in pinned.items():
        take(person_id, ctx.shifts[shift_id], role)

    def fits(person_id: str, shift: Shift) -> bool:
        person = ctx.people[person_id]
        day = ctx.day_of(shift)
        mine = on_day[person_id]
        if (
            rules.max_shifts_per_day is not None
            and len(mine.get(day, ())) >= rules.max_shifts_per_day
        ):
            return False
        rest = timedelta(hours=float(ctx.limit(person, "min_rest_hours") or 0))
        reach = 2 + int(rest / timedelta(days=1))
        for other_day in range(day - reach, day + reach + 1):
            for s in mine.get(other_day, ()):
                earlier, later = (s, shift) if s.start <= shift.start else (shift, s)
                if s.id == shift.id or later.start < earlier.end + rest:
                    return False
                gap = ctx.day_of(later) - ctx.day_of(earlier)
                if gap == 1 and (earlier.kind, later.kind) in rules.forbidden_successions:
                    return False
        cap = person.max_shifts_by_kind.get(shift.kind)
        if cap is not None and per_kind[(person_id, shift.kind)] >= cap:
            return False
        max_shifts = ctx.limit(person, "max_shifts")
        if max_shifts is not None and count[person_id] >= max_shifts:
            return False
        max_minutes = ctx.limit(person, "max_minutes")
        if max_minutes is not None and minutes[person_id] + shift.minutes > max_minutes:
            return False
        night_cap = ctx.limit(person, "max_nights_in_7_days")
        for limit, counted in (
            (seven_day_cap(ctx, person_id), None),
            (night_cap, rules.night_kinds),
        ):
            if limit is None or (counted is not None and shift.kind not in counted):
                continue
            for first in range(day - WINDOW_DAYS + 1, day + 1):
                inside = sum(
                    1
                    for d in range(first, first + WINDOW_DAYS)
                    for s in mine.get(d, ())
                    if counted is None or s.kind in counted
                )
                if inside >= limit:
                    return False
        longest = ctx.limit(person, "max_consecutive_days")
        if longest is not None and not mine.get(day):
            before = after = 0
            while mine.get(day - before - 1):
                before += 1
            while mine.get(day + after + 1):
                after += 1
            if before + after + 1 > longest:
                return False
        max_weekends = ctx.limit(person, "max_weekends")
        if max_weekends is not None and day in weekend_of:
            taken = weekends_taken[person_id]
            if weekend_of[day] not in taken and len(taken) >= max_weekends:
                return False
        return True

    def need(person_id: str) -> tuple[int, int, str]:
        person = ctx.people[person_id]
        shortfall = int(ctx.limit(person, "min_minutes") or 0) - minutes[person_id]
        return (-shortfall, count[person_id], person_id)

    posts = [
        (shift, demand) for shift in problem.shifts for demand in shift.demands if demand.min > 0
    ]
    posts.sort(key=lambda p: (ctx.day_of(p[0]), len(fillers[(p[0].id, p[1].role)]), p[0].id))
    for shift, demand in posts:
        cap = problem.cap(shift.id, demand.role)
        target = demand.min if cap is None else min(demand.min, cap)
        for person_id in sorted(fillers[(shift.id, demand.role)], key=need):
            if filled[(shift.id, demand.role)] >= target:
                break
            if (person_id, shift.id) in pinned or not fits(person_id, shift):
                continue
            take(person_id, shift, demand.role)
    return chosen
