"""Who may be placed on which shift at all: availability, qualification, days off, nights.

Variables are only created for eligible (person, shift, role) triples, so most of this rule is
enforced by omission; ``post`` fixes to 0 any variable that exists anyway because of a pin, so
that a pin breaking one of these hard rules makes the model infeasible instead of slipping
through.
"""

from __future__ import annotations

from solver.model import Person, Problem, Shift
from solver.rules.base import Context, Term


def ineligibility(problem: Problem, person: Person, shift: Shift, role: str) -> str | None:
    """Why ``person`` may never fill ``role`` on ``shift``, in words, or ``None`` if they may."""
    rules = problem.rules
    if shift.id not in person.available:
        return "not available for this shift"
    if role not in person.roles:
        return f"not qualified for the role {role}"
    if shift.day in person.days_off:
        return "day off"
    is_night = shift.kind in rules.night_kinds
    if is_night and not person.accepts_nights:
        return "does not accept night shifts"
    if person.max_shifts_by_kind.get(shift.kind) == 0:
        return f"may not work {shift.kind} shifts"
    if is_night and problem.limit(person, "max_nights_in_7_days") == 0:
        return "may not work night shifts"
    return None


def post(ctx: Context) -> list[Term]:
    """Fix to 0 every existing variable whose triple is not eligible (only pins create those)."""
    for (person_id, shift_id, role), var in ctx.x.items():
        if ineligibility(ctx.problem, ctx.people[person_id], ctx.shifts[shift_id], role):
            ctx.model.add(var == 0)
    return []
