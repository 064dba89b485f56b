"""Independent evaluator for Curtois & Qu rosters, written from the format's README alone.

It knows nothing about the solver: it takes the parsed instance and a grid (employee -> one
cell per day, the shift id or '' for a day off), checks the nine hard rules and computes the
penalty.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.curtois_format import Instance


@dataclass(frozen=True)
class Evaluation:
    feasible: bool
    penalty: int
    problems: tuple[str, ...]


def _runs(worked: list[bool]) -> list[tuple[bool, int, int]]:
    """Maximal runs as (worked, first day, length)."""
    runs = []
    start = 0
    for day in range(1, len(worked) + 1):
        if day == len(worked) or worked[day] != worked[start]:
            runs.append((worked[start], start, day - start))
            start = day
    return runs


def evaluate(instance: Instance, roster: dict[str, list[str]]) -> Evaluation:
    """Check every hard constraint and return the penalty of the roster."""
    horizon = instance.horizon
    types = {t.id: t for t in instance.shift_types}
    problems: list[str] = []
    for staff in instance.staff:
        cells = roster.get(staff.id)
        if cells is None or len(cells) != horizon:
            problems.append(f"{staff.id}: roster line missing or not {horizon} days long")
            continue
        # 1. one shift per day is implied by one cell per day; unknown ids are errors
        for day, cell in enumerate(cells):
            if cell and cell not in types:
                problems.append(f"{staff.id} day {day}: unknown shift {cell!r}")
        # 2. cannot-follow on the next day
        for day in range(horizon - 1):
            today, tomorrow = cells[day], cells[day + 1]
            if today in types and tomorrow and tomorrow in types[today].cannot_follow:
                problems.append(f"{staff.id} day {day + 1}: {tomorrow} cannot follow {today}")
        # 3. max shifts per type
        for shift_id, cap in staff.max_shifts.items():
            count = sum(1 for c in cells if c == shift_id)
            if count > cap:
                problems.append(f"{staff.id}: {count} x {shift_id} > {cap}")
        # 4. total minutes
        minutes = sum(types[c].minutes for c in cells if c in types)
        if not staff.min_total_minutes <= minutes <= staff.max_total_minutes:
            low, high = staff.min_total_minutes, staff.max_total_minutes
            problems.append(f"{staff.id}: {minutes} min outside [{low}, {high}]")
        worked = [bool(c) for c in cells]
        for is_work, first, length in _runs(worked):
            touches_end = first == 0 or first + length == horizon
            # 5. max consecutive shifts (outside the horizon counts as off)
            if is_work and length > staff.max_consecutive_shifts:
                problems.append(f"{staff.id}: {length} shifts in a row from day {first}")
            # 6. min consecutive shifts, runs touching an end exempt
            if is_work and not touches_end and length < staff.min_consecutive_shifts:
                problems.append(f"{staff.id}: only {length} shifts in a row from day {first}")
            # 7. min consecutive days off
            if not is_work and not touches_end and length < staff.min_consecutive_days_off:
                problems.append(f"{staff.id}: only {length} days off in a row from day {first}")
        # 8. max weekends
        weekends = sum(1 for k in range(horizon // 7) if worked[7 * k + 5] or worked[7 * k + 6])
        if weekends > staff.max_weekends:
            problems.append(f"{staff.id}: {weekends} weekends > {staff.max_weekends}")
        # 9. days off
        for day in sorted(instance.days_off.get(staff.id, ())):
            if 0 <= day < horizon and worked[day]:
                problems.append(f"{staff.id}: works on day off {day}")
    penalty = 0
    for request in instance.on_requests:
        cells = roster.get(request.employee)
        if cells is None or cells[request.day] != request.shift:
            penalty += request.weight
    for request in instance.off_requests:
        cells = roster.get(request.employee)
        if cells is not None and cells[request.day] == request.shift:
            penalty += request.weight
    for cover in instance.cover:
        assigned = sum(
            1
            for cells in roster.values()
            if len(cells) > cover.day and cells[cover.day] == cover.shift
        )
        penalty += cover.weight_under * max(0, cover.requirement - assigned)
        penalty += cover.weight_over * max(0, assigned - cover.requirement)
    return Evaluation(feasible=not problems, penalty=penalty, problems=tuple(problems))
