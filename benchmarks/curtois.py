"""Solve the Curtois & Qu employee shift scheduling instances with Muster's solver.

    python -m benchmarks.curtois [INSTANCE.txt ...] --time-limit 60 --workers 2 --seeds 0,1,2 \\
           --json results.json --solutions DIR

Each instance is mapped onto :class:`solver.Problem` (one site, one role, one shift kind per
``SHIFTS`` line, day 0 a Monday), solved with the same :func:`solver.solve` the app uses, and
every roster is re-scored by :mod:`benchmarks.curtois_evaluate`, which is written from the
format's rules and shares no code with the solver.

Each (instance, seed) runs in a fresh process, so ``peak_rss_mb`` is that run's own peak
(reading the file, building and solving); ``wall_s`` is the wall time of the ``solve`` call
and ``time_to_first_s`` the seconds until the solver held its first roster. With several
seeds the summary gives the mean and the worst gap over every run.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import resource
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import solver
from benchmarks.curtois_evaluate import evaluate
from benchmarks.curtois_format import Instance, best_known_values, read_instance, write_roster

DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "curtois"
FIRST_MONDAY = date(2024, 1, 1)
SITE = "ward"
ROLE = "staff"


def shift_id(day: int, kind: str) -> str:
    """The solver shift id for shift type ``kind`` on ``day``."""
    return f"{day}:{kind}"


def to_problem(instance: Instance) -> solver.Problem:
    """Map an instance onto a solver problem without any instance-specific special case."""
    lengths = {t.id: t.minutes for t in instance.shift_types}
    demands = {(c.day, c.shift): c for c in instance.cover}
    shifts = []
    for day in range(instance.horizon):
        midnight = datetime.combine(FIRST_MONDAY + timedelta(days=day), datetime.min.time(), UTC)
        for kind in lengths:
            cover = demands.get((day, kind))
            demand = (
                solver.Demand(
                    ROLE,
                    cover.requirement,
                    cover.requirement,
                    cover.weight_under,
                    cover.weight_over,
                )
                if cover is not None
                else solver.Demand(ROLE, 0, 0, 0, 0)
            )
            shifts.append(
                solver.Shift(
                    id=shift_id(day, kind),
                    site=SITE,
                    start=midnight,
                    end=midnight + timedelta(minutes=lengths[kind]),
                    kind=kind,
                    demands=(demand,),
                )
            )
    every_shift = frozenset(s.id for s in shifts)
    requests: dict[str, list[solver.Request]] = {}
    for on, listed in ((True, instance.on_requests), (False, instance.off_requests)):
        for r in listed:
            requests.setdefault(r.employee, []).append(
                solver.Request(on=on, weight=r.weight, shift=shift_id(r.day, r.shift))
            )
    people = tuple(
        solver.Person(
            id=s.id,
            roles=frozenset({ROLE}),
            available=every_shift,
            days_off=frozenset(
                FIRST_MONDAY + timedelta(days=d)
                for d in instance.days_off.get(s.id, ())
                if 0 <= d < instance.horizon
            ),
            requests=tuple(requests.get(s.id, ())),
            max_shifts_by_kind=dict(s.max_shifts),
            min_minutes=s.min_total_minutes,
            max_minutes=s.max_total_minutes,
            max_consecutive_days=s.max_consecutive_shifts,
            min_consecutive_days=max(1, s.min_consecutive_shifts),
            min_consecutive_days_off=max(1, s.min_consecutive_days_off),
            max_weekends=s.max_weekends,
        )
        for s in instance.staff
    )
    rules = solver.Rules(
        max_shifts_per_day=1,
        min_rest_hours=0,
        max_shifts_in_7_days=None,
        max_consecutive_days=None,
        max_nights_in_7_days=None,
        night_kinds=frozenset(),
        forbidden_successions=frozenset(
            (t.id, follower) for t in instance.shift_types for follower in t.cannot_follow
        ),
        lead_role=None,
        weight_missing_lead=0,
        weight_fair_load=0,
        weight_fair_nights=0,
        weight_preferred_site=0,
        weight_partner_apart=0,
        weight_site_change=0,
        weight_baseline_change=0,
        weight_requests=1,
    )
    return solver.Problem(
        shifts=tuple(shifts),
        people=people,
        rules=rules,
        first_day=FIRST_MONDAY,
        last_day=FIRST_MONDAY + timedelta(days=instance.horizon - 1),
    )


def to_roster(instance: Instance, solution: solver.Solution) -> dict[str, list[str]]:
    """The solver's assignments as the benchmark's grid: employee -> shift id or '' per day."""
    roster = {s.id: [""] * instance.horizon for s in instance.staff}
    for a in solution.assignments:
        day, _, kind = a.shift.partition(":")
        roster[a.person][int(day)] = kind
    return roster


def run_instance(
    path: Path,
    *,
    time_limit: float,
    workers: int,
    seed: int,
    solutions: Path | None,
    deterministic: bool = False,
) -> dict:
    """Solve one instance file and return its JSON record."""
    instance = read_instance(path)
    best_known = best_known_values(path.parent).get(instance.name)
    problem = to_problem(instance)
    started = time.monotonic()
    result = solver.solve(
        problem, time_limit=time_limit, workers=workers, seed=seed, deterministic=deterministic
    )
    wall = time.monotonic() - started
    roster = to_roster(instance, result)
    evaluation = evaluate(instance, roster)
    if solutions is not None:
        solutions.mkdir(parents=True, exist_ok=True)
        write_roster(solutions / f"{instance.name}_s{seed}.csv", instance, roster)
    record = {
        "instance": instance.name,
        "seed": seed,
        "feasible": evaluation.feasible and result.feasible,
        "penalty": evaluation.penalty,
        "best_known": best_known,
        "gap": None if not best_known else evaluation.penalty / best_known - 1,
        "lower_bound": result.bound,
        "solver_objective": result.objective,
        "status": result.status,
        "time_to_first_s": None if result.time_to_first is None else round(result.time_to_first, 2),
        "time_to_best_s": round(result.time_to_best, 2),
        "wall_s": round(wall, 2),
        # ru_maxrss is in KiB on Linux: the peak of this process so far
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    if evaluation.problems:
        record["violations"] = list(evaluation.problems[:20])
    return record


def _run_in_child(queue: multiprocessing.Queue, path: Path, options: dict, verbose: bool) -> None:
    # a spawned process starts without the parent's logging set-up
    if verbose:
        _log_steps()
    queue.put(run_instance(path, **options))


def _log_steps() -> None:
    logging.basicConfig(level=logging.DEBUG, format="%(message)s")


def run_isolated(path: Path, *, verbose: bool = False, **options: object) -> dict:
    """:func:`run_instance` in a fresh process, so its peak memory is its own; ``verbose``
    logs its search steps."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_run_in_child, args=(queue, path, options, verbose))
    child.start()
    record = queue.get()
    child.join()
    return record


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; prints a table and optionally writes JSON and rosters."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.curtois", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "instances", nargs="*", type=Path, help="instance files (default: the shared folder)"
    )
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per instance")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="one seed (see --seeds)")
    parser.add_argument(
        "--seeds", help="comma-separated seeds, each instance runs once per seed (e.g. 0,1,2)"
    )
    parser.add_argument("--json", type=Path, help="write the per-run records here")
    parser.add_argument("--solutions", type=Path, help="write DIR/<instance>_s<seed>.csv here")
    parser.add_argument(
        "--deterministic",
        action="store_true",
        help="budget in CP-SAT deterministic time: same result on any machine and load",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every search step")
    args = parser.parse_args(argv)
    if args.verbose:
        _log_steps()
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else [args.seed]
    paths = args.instances or sorted(
        DEFAULT_FOLDER.glob("Instance*.txt"), key=lambda p: (len(p.stem), p.stem)
    )
    if not paths:
        parser.error(f"no instances given and none found in {DEFAULT_FOLDER}")
    records = []
    print(
        f"cores: {os.cpu_count()}  workers: {args.workers}  time limit: {args.time_limit:g} s  "
        f"seeds: {','.join(map(str, seeds))}  deterministic: {args.deterministic}"
    )
    print(
        f"{'instance':<22}{'seed':>5}{'feasible':>9}{'penalty':>9}{'best':>7}{'gap':>8}"
        f"{'bound':>8}{'t_first':>8}{'t_best':>8}{'wall':>7}{'rss_mb':>7}"
    )
    for path in paths:
        for seed in seeds:
            record = run_isolated(
                path,
                time_limit=args.time_limit,
                workers=args.workers,
                seed=seed,
                solutions=args.solutions,
                deterministic=args.deterministic,
                verbose=args.verbose,
            )
            records.append(record)
            gap = "" if record["gap"] is None else f"{100 * record['gap']:.1f}%"
            first = "" if record["time_to_first_s"] is None else record["time_to_first_s"]
            print(
                f"{record['instance']:<22}{seed:>5}{record['feasible']!s:>9}"
                f"{record['penalty']:>9}{record['best_known'] or '':>7}{gap:>8}"
                f"{record['lower_bound'] or '':>8}{first:>8}{record['time_to_best_s']:>8}"
                f"{record['wall_s']:>7}{record['peak_rss_mb']:>7}",
                flush=True,
            )
    gaps = [r["gap"] for r in records if r["gap"] is not None]
    if gaps:
        per_instance: dict[str, list[float]] = {}
        for r in records:
            if r["gap"] is not None:
                per_instance.setdefault(r["instance"], []).append(r["gap"])
        if len(seeds) > 1:
            for name, values in per_instance.items():
                print(
                    f"{name:<22} mean gap {100 * sum(values) / len(values):.2f}%  "
                    f"worst {100 * max(values):.2f}%"
                )
        print(
            f"mean gap {100 * sum(gaps) / len(gaps):.2f}%  worst gap {100 * max(gaps):.2f}%  "
            f"({len(gaps)} runs)"
        )
    print(f"feasible {sum(r['feasible'] for r in records)} of {len(records)} runs")
    if args.json:
        args.json.write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")
    return 0 if all(r["feasible"] for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
