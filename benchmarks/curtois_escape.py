"""The smallest move out of a stuck roster towards a better one (path relinking, solved exactly).

Given a roster the search got stuck in and a better roster of the same instance (another seed's,
say), it keeps every cell (a person's shift of one day) the two agree on, and asks CP-SAT for
the roster that changes the fewest roster variables of the stuck one among those whose
objective is at most ``--target`` (by default one less than the stuck roster's, so a post more
covered with ``--target`` one weight below). It prints how many people, cells and weekends the
move changes, person by person: the size of the neighbourhood a sub-solve would need to make it.

    python -m benchmarks.curtois_escape INSTANCE.txt STUCK.csv BETTER.csv --target 1200

(rosters as ``python -m benchmarks.curtois --solutions DIR`` writes them).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ortools.sat.python import cp_model

from benchmarks.curtois import shift_id, to_problem
from benchmarks.curtois_evaluate import evaluate
from benchmarks.curtois_format import Instance, read_instance, read_roster, write_roster
from solver.build import build, clear_hints

Roster = dict[str, list[str]]


def weekends_worked(instance: Instance, row: list[str]) -> list[int]:
    """The weekends (numbered from the first Saturday) on which ``row`` works either day."""
    return [
        number
        for number, saturday in enumerate(range(5, instance.horizon, 7))
        if any(row[d] for d in (saturday, saturday + 1) if d < instance.horizon)
    ]


def escape(
    instance: Instance,
    stuck: Roster,
    better: Roster,
    target: int,
    time_limit: float,
    workers: int = 1,
) -> tuple[str, Roster | None, int | None]:
    """The roster nearest ``stuck`` (fewest roster variables changed) of objective at most
    ``target`` that keeps every cell ``stuck`` and ``better`` agree on: (CP-SAT's status,
    that roster or None, the number of variables changed or None)."""
    built = build(to_problem(instance))
    model = built.ctx.model
    clear_hints(model)
    objective = model.proto.objective
    model.add(
        sum(
            coeff * model.get_int_var_from_proto_index(var)
            for var, coeff in zip(objective.vars, objective.coeffs, strict=True)
        )
        + int(objective.offset)
        <= target
    )
    chosen = {(p, shift_id(d, k)) for p, row in stuck.items() for d, k in enumerate(row) if k}
    changed = []
    for index, (person_id, shift, _) in built.triples.items():
        x = model.get_bool_var_from_proto_index(index)
        value = int((person_id, shift) in chosen)
        day = int(shift.partition(":")[0])
        if stuck[person_id][day] == better[person_id][day]:
            model.add(x == value)
        model.add_hint(x, value)
        changed.append(x if value == 0 else x.negated())
    model.minimize(sum(changed))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    solver.parameters.max_time_in_seconds = time_limit
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return solver.status_name(status), None, None
    found: Roster = {p: [""] * instance.horizon for p in stuck}
    for index, (person_id, shift, _) in built.triples.items():
        if solver.value(model.get_bool_var_from_proto_index(index)):
            number, _, kind = shift.partition(":")
            found[person_id][int(number)] = kind
    return solver.status_name(status), found, round(solver.objective_value)


def describe(instance: Instance, stuck: Roster, found: Roster) -> list[str]:
    """One line per person the move changes (their two rows, weekends and changed days), then
    the totals."""
    lines = []
    cells = 0
    moved = 0
    for person_id, row in stuck.items():
        days = [d for d in range(instance.horizon) if row[d] != found[person_id][d]]
        if not days:
            continue
        cells += len(days)
        before, after = weekends_worked(instance, row), weekends_worked(instance, found[person_id])
        moved += before != after
        lines.append(
            f"{person_id:>4} {''.join(x or '.' for x in row)} -> "
            f"{''.join(x or '.' for x in found[person_id])}  weekends {before} -> {after}  "
            f"days {days}"
        )
    people = len(lines)
    lines.append(f"people changed {people}  cells changed {cells}  weekends re-dealt {moved}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.curtois_escape", description=__doc__.split("\n")[0]
    )
    parser.add_argument("instance", type=Path)
    parser.add_argument("stuck", type=Path, help="the roster the search got stuck in")
    parser.add_argument("better", type=Path, help="a better roster of the same instance")
    parser.add_argument("--target", type=int, help="objective at most (default: stuck - 1)")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", type=Path, help="write the roster found here")
    args = parser.parse_args(argv)
    instance = read_instance(args.instance)
    stuck, better = read_roster(args.stuck), read_roster(args.better)
    penalty = evaluate(instance, stuck).penalty
    target = penalty - 1 if args.target is None else args.target
    print(f"stuck {penalty}  better {evaluate(instance, better).penalty}  target {target}")
    status, found, distance = escape(
        instance, stuck, better, target, args.time_limit, workers=args.workers
    )
    print(f"{status}  roster variables changed {distance}")
    if found is None:
        return 1
    print(f"found {evaluate(instance, found).penalty}")
    print("\n".join(describe(instance, stuck, found)))
    if args.out:
        write_roster(args.out, instance, found)
    return 0


if __name__ == "__main__":
    sys.exit(main())
