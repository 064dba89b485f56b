"""Sliding 7-day limits: shifts in any 7 days (and the person's weekly cap), nights in any 7."""

from __future__ import annotations

from solver.model import Shift
from solver.rules.base import Context, Term

WINDOW_DAYS = 7


def window_starts(horizon_days: int) -> range:
    """First day index of every 7-day window that lies inside the horizon.

    Windows sticking out of the horizon are implied by the inner ones, except when the whole
    horizon is shorter than a week: then the horizon itself is the one window.
    """
    return range(max(horizon_days - WINDOW_DAYS + 1, 1))


def seven_day_cap(ctx: Context, person_id: str) -> int | None:
    """The tighter of the 7-day shift limit and the person's own weekly cap."""
    person = ctx.people[person_id]
    caps = [
        c for c in (ctx.limit(person, "max_shifts_in_7_days"), person.weekly_cap) if c is not None
    ]
    return int(min(caps)) if caps else None


def post(ctx: Context) -> list[Term]:
    """Post at most ``cap`` shifts (and at most ``cap`` nights) in every 7-day window."""
    nights = ctx.problem.rules.night_kinds
    for person_id, shifts in ctx.shifts_of.items():
        person = ctx.people[person_id]
        night_cap = ctx.limit(person, "max_nights_in_7_days")
        for cap, counted in (
            (seven_day_cap(ctx, person_id), shifts),
            (night_cap, [s for s in shifts if s.kind in nights]),
        ):
            if cap is not None:
                _post_windows(ctx, person_id, counted, int(cap))
    return []


def _post_windows(ctx: Context, person_id: str, shifts: list[Shift], cap: int) -> None:
    if len(shifts) <= cap:
        return
    by_day: dict[int, list[Shift]] = {}
    for s in shifts:
        by_day.setdefault(ctx.day_of(s), []).append(s)
    for first in window_starts(len(ctx.days)):
        inside = [
            ctx.on_shift[(person_id, s.id)]
            for d in range(first, first + WINDOW_DAYS)
            for s in by_day.get(d, [])
        ]
        if len(inside) > cap:
            ctx.model.add(sum(inside) <= cap)
