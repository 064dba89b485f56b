"""The CP-SAT model of a :class:`~solver.model.Problem`: one boolean per eligible
(person, shift, role), every rule of :mod:`solver.rules` posted on it, and the weighted
objective. The searches (:mod:`solver.cpsat`, :mod:`solver.decompose`, :mod:`solver.construct`)
build on it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from solver.model import Problem, Shift
from solver.rules import RULES, Context, Term
from solver.rules.eligibility import ineligibility

__all__ = ["Built", "add_days", "build", "candidate_choices", "clear_hints", "has_minimum_rules"]


def clear_hints(model: cp_model.CpModel) -> None:
    """Drop every solution hint of ``model``."""
    # OR-Tools leaves CpModel.clear_hints unannotated, so strict mypy calls it untyped.
    model.clear_hints()  # type: ignore[no-untyped-call]


@dataclass
class Built:
    """A built model: the context rules filled in plus the objective terms."""

    ctx: Context
    terms: list[Term]
    # x variable index -> its (person, shift, role)
    triples: dict[int, tuple[str, str, str]] = field(default_factory=dict)


def build(problem: Problem, *, elastic: bool = False) -> Built:
    """Create the variables, post every rule and set the weighted objective.

    Variables exist only for (person, shift, role) where the person is available, qualified and
    otherwise eligible (pins are always given their variable so that they can be enforced).
    They are created first and in a fixed order, so their indices are the same in the exact
    and the ``elastic`` model (see :mod:`solver.rules.totals`).
    """
    model = cp_model.CpModel()
    days = problem.days
    ctx = Context(
        problem=problem,
        model=model,
        days=days,
        day_index={d: i for i, d in enumerate(days)},
        shifts={s.id: s for s in problem.shifts},
        people={p.id: p for p in problem.people},
        elastic=elastic,
    )
    order = {s.id: i for i, s in enumerate(problem.shifts)}
    pinned = {(a.person, a.shift): a.role for a in problem.pins}
    built = Built(ctx=ctx, terms=[])
    for person in problem.people:
        candidates = []
        for shift_id in sorted(person.available, key=order.__getitem__):
            shift = ctx.shifts[shift_id]
            pin_role = pinned.get((person.id, shift_id))
            roles = [
                d.role
                for d in shift.demands
                if d.role == pin_role
                or (
                    d.role in person.roles and ineligibility(problem, person, shift, d.role) is None
                )
            ]
            if not roles:
                continue
            fills = []
            for role in roles:
                var = model.new_bool_var(f"x[{person.id},{shift_id},{role}]")
                ctx.x[(person.id, shift_id, role)] = var
                built.triples[var.index] = (person.id, shift_id, role)
                fills.append(var)
            if len(fills) == 1:
                ctx.on_shift[(person.id, shift_id)] = fills[0]
            else:
                # One post per shift: the roles' variables sum to the on-shift literal.
                on = model.new_bool_var(f"on[{person.id},{shift_id}]")
                model.add(sum(fills) == on)
                ctx.on_shift[(person.id, shift_id)] = on
            candidates.append(shift)
        if candidates:
            candidates.sort(key=lambda s: (s.start, order[s.id]))
            add_days(ctx, person.id, candidates)
    for post in RULES:
        built.terms.extend(post(ctx))
    for a in problem.pins:
        model.add(ctx.x[(a.person, a.shift, a.role)] == 1)
    model.minimize(sum(t.expr for t in built.terms))
    return built


def add_days(ctx: Context, person_id: str, shifts: list[Shift]) -> None:
    """Index the person's candidate ``shifts`` (in start order, their ``ctx.on_shift``
    literals already made) by day and give each day they may work its work literal: the
    per-day indices every rule posts on."""
    model = ctx.model
    one_a_day = ctx.problem.rules.max_shifts_per_day == 1
    ctx.shifts_of[person_id] = shifts
    by_day: dict[int, list[Shift]] = defaultdict(list)
    for shift in shifts:
        by_day[ctx.day_of(shift)].append(shift)
    for day, those in sorted(by_day.items()):
        ctx.shifts_on_day[(person_id, day)] = those
        literals = [ctx.on_shift[(person_id, s.id)] for s in those]
        if len(literals) == 1:
            ctx.work[(person_id, day)] = literals[0]
            continue
        work = model.new_bool_var(f"work[{person_id},{day}]")
        if one_a_day:
            model.add(sum(literals) == work)
        else:
            for lit in literals:
                model.add_implication(lit, work)
            model.add_bool_or([work.negated(), *literals])
        ctx.work[(person_id, day)] = work


def has_minimum_rules(problem: Problem) -> bool:
    """Whether any person has an effective minimum rule (minimum minutes, or a minimum run of
    days on or off longer than one): constructive rosters cannot guarantee those."""
    for p in problem.people:
        if (problem.limit(p, "min_minutes") or 0) > 0:
            return True
        for name in ("min_consecutive_days", "min_consecutive_days_off"):
            if (problem.limit(p, name) or 1) > 1:
                return True
    return False


def candidate_choices(problem: Problem) -> int:
    """Sum over people of (available shifts x roles held): the flat model's rough size."""
    return sum(len(p.available) * len(p.roles) for p in problem.people)
