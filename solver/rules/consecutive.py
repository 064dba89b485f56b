"""Runs of working days and of days off.

* At most ``max_consecutive_days`` working days in a row (days outside the horizon are off):
  every window of max+1 days has a day off.
* Every run of working days that starts after the first day and ends before the last day is at
  least ``min_consecutive_days`` long; likewise runs of days off and
  ``min_consecutive_days_off``. Runs touching an end of the horizon are exempt because the
  history beyond it is unknown. Each too-short run is a forbidden pattern on the work literals
  (off, on x l, off) posted as one clause, which propagates much better than counting.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from solver.rules.base import Context, Term, add_clause


def post(ctx: Context) -> list[Term]:
    """Post the run-length rules on each person's per-day work literals."""
    horizon = len(ctx.days)
    for person_id in ctx.shifts_of:
        person = ctx.people[person_id]
        work = [ctx.work.get((person_id, d)) for d in range(horizon)]
        longest = ctx.limit(person, "max_consecutive_days")
        if longest is not None:
            longest = int(longest)
            for first in range(horizon - longest):
                window = work[first : first + longest + 1]
                if all(lit is not None for lit in window):
                    add_clause(ctx.model, [], window)
        if not ctx.minimums:
            continue
        shortest_on = ctx.limit(person, "min_consecutive_days")
        if shortest_on is not None and shortest_on > 1:
            _forbid_short_runs(ctx, work, int(shortest_on), working=True)
        shortest_off = ctx.limit(person, "min_consecutive_days_off")
        if shortest_off is not None and shortest_off > 1:
            _forbid_short_runs(ctx, work, int(shortest_off), working=False)
    return []


def _forbid_short_runs(
    ctx: Context, work: list[cp_model.IntVar | None], shortest: int, *, working: bool
) -> None:
    """Forbid runs of ``length < shortest`` framed by the opposite state on both sides."""
    horizon = len(work)
    for start in range(1, horizon - 1):
        for length in range(1, shortest):
            after = start + length
            if after > horizon - 1:
                break
            frame = [work[start - 1], work[after]]
            run = work[start:after]
            if working:
                # not (off, on..on, off): a frame day worked or a run day off
                add_clause(ctx.model, frame, run)
            else:
                add_clause(ctx.model, run, frame)
