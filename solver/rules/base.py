"""What every rule module receives (the model under construction) and what it gives back.

A rule module exposes ``post(ctx: Context) -> list[Term]``: it adds its hard constraints to
``ctx.model`` and returns its weighted objective terms. Variables exist only for
(person, shift, role) triples where the person is available and qualified, so rules iterate
over existing variables and treat a missing one as "cannot work" (the constant 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from ortools.sat.python import cp_model

from solver.model import Person, Problem, Shift

Literal = cp_model.IntVar  # a 0/1 variable (CP-SAT BoolVar) or its negation


@dataclass(frozen=True)
class Term:
    """One named, already weighted part of the objective (summed per name in the breakdown)."""

    name: str
    expr: cp_model.LinearExprT


@dataclass
class Context:
    """The CP-SAT model being built and indices over the problem that rules share.

    ``x[(person, shift, role)]`` is 1 when the person fills that role on that shift.
    ``on_shift[(person, shift)]`` is 1 when the person works the shift in any role.
    ``work[(person, day_index)]`` is 1 when the person works any shift that day; a missing key
    means they cannot work that day at all.
    """

    problem: Problem
    model: cp_model.CpModel
    days: tuple[date, ...]
    day_index: dict[date, int]
    shifts: dict[str, Shift]
    people: dict[str, Person]
    x: dict[tuple[str, str, str], cp_model.IntVar] = field(default_factory=dict)
    on_shift: dict[tuple[str, str], cp_model.IntVar] = field(default_factory=dict)
    work: dict[tuple[str, int], cp_model.IntVar] = field(default_factory=dict)
    # person -> their candidate shifts, sorted by start
    shifts_of: dict[str, list[Shift]] = field(default_factory=dict)
    # (person, day index) -> their candidate shifts that day
    shifts_on_day: dict[tuple[str, int], list[Shift]] = field(default_factory=dict)
    # (shift, role) -> (shortfall variable, minimum head count), for progress reporting
    shortfall: dict[tuple[str, str], tuple[cp_model.IntVar, int]] = field(default_factory=dict)
    # Soften the hard minimums (see solver.rules.totals) so that a roster always exists.
    elastic: bool = False
    # Post the minimum rules (minutes, runs of days on and off). Off when the model holds only
    # part of each person's roster (solver.scarce): a part of a valid roster keeps every upper
    # limit but may break a minimum.
    minimums: bool = True
    deficits: list[cp_model.IntVar] = field(default_factory=list)
    # (shift, under- or over-cover variable): where the search looks for repairs
    cover_slack: list[tuple[str, cp_model.IntVar]] = field(default_factory=list)

    def limit(self, person: Person, name: str) -> int | float | None:
        """The person's own limit ``name``, else the rule default (``None``: no limit)."""
        return self.problem.limit(person, name)

    def day_of(self, shift: Shift) -> int:
        """Index of the shift's day in the horizon."""
        assert shift.day is not None
        return self.day_index[shift.day]

    def work_window(self, person_id: str, first: int, last: int) -> list[cp_model.IntVar]:
        """Existing work literals of the person for day indices ``first..last`` inclusive."""
        return [
            self.work[(person_id, d)]
            for d in range(max(first, 0), min(last, len(self.days) - 1) + 1)
            if (person_id, d) in self.work
        ]


def add_clause(
    model: cp_model.CpModel,
    positive: Sequence[cp_model.IntVar | None],
    negative: Sequence[cp_model.IntVar | None],
) -> None:
    """Post ``OR(positive) or OR(not negative)``, where ``None`` stands for the constant 0.

    A ``None`` in ``negative`` makes the clause true (nothing is posted); a ``None`` in
    ``positive`` is simply dropped. Rules use it for pattern constraints on work literals.
    """
    if any(lit is None for lit in negative):
        return
    literals: list[cp_model.BoolVarT] = [lit for lit in positive if lit is not None]
    literals += [lit.negated() for lit in negative if lit is not None]
    model.add_bool_or(literals)
