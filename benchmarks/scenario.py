"""Volunteer call-up scenarios: Muster's large-scale solver against a bound and two baselines.

    python -m benchmarks.scenario --size S|M|L|XL --seed N --time-limit T --json OUT [--dropout]

One run generates the seeded scenario (:mod:`benchmarks.scenario_gen`), solves it with
:func:`solver.decompose.solve_large`, computes the max-flow coverage bound
(:func:`solver.flow.coverage_bound`) and runs the baselines, each in its own subprocess so that
its peak memory is its own:

* ``greedy``: self-sign-up. Volunteers come in a random order; each claims, in time order, an
  open post on every slot they are available for (a preferred site first, else a random one;
  a random role among those they hold that still has an open post) while the hard rules
  allow it, until their cap is reached.
* ``naive``: one flat :func:`solver.solve` over the whole problem (no decomposition, no hint
  but the core's own), under the same time limit and a 4 GB address-space limit. When it
  returns nothing in time (or runs out of memory), it is reported as 0 posts filled with null
  times.

Reported per solver: ``posts`` (sum of minimum head counts), ``filled``, ``coverage_bound``,
``coverage`` (filled / bound), ``fairness_spread``: the population standard deviation, over
every volunteer with at least one slot open to them, of shifts worked / capacity, where
capacity is the most shifts they could work (7-day cap per started week, at most one per
open day; :func:`solver.decompose.person_capacity`) — 0 when everybody carries the same share
of what they offered. Scarce skills make part of that spread unavoidable (the few samplers
must work near their cap while general volunteers work half of theirs), so
``fairness_spread_within_skills`` also reports the pooled standard deviation around each
skill set's own mean; ``nights_spread``: the standard deviation of night shifts among the
volunteers who could work nights; ``hard_violations`` (:func:`solver.check`),
``time_to_first_s``, ``wall_s`` and ``peak_rss_mb`` (``ru_maxrss`` of the process, which
includes generating the problem). For Muster's roster also ``fairness_bound``
(:func:`solver.flow.fairness_bound`): the smallest ``fairness_spread`` any roster filling as
many posts could have, rest rules relaxed — the yardstick for the spread. ``--dropout``
also measures a re-solve after the busiest volunteer (a random one of those rostered) cancels:
the time until the holes are refilled and how many assignments moved.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks.scenario_gen import SIZES, generate
from solver.check import check
from solver.decompose import person_capacity, solve_large
from solver.feasibility import RosterState
from solver.flow import SlotIndex, coverage_bound, fairness_bound
from solver.model import Assignment, Problem

BASELINES = ("greedy", "naive")
NAIVE_MEMORY_BYTES = 4 << 30


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB (Linux reports KB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def metrics(
    problem: Problem,
    index: SlotIndex,
    assignments: list[Assignment] | tuple[Assignment, ...],
    bound: int,
) -> dict[str, Any]:
    """Posts, filled, coverage, fairness and hard violations of a roster."""
    report = check(problem, assignments)
    posts = sum(d.min for s in problem.shifts for d in s.demands)
    filled = posts - sum(report.unfilled.values())
    load: dict[str, int] = {}
    nights: dict[str, int] = {}
    shifts = problem._shift_index()
    night_kinds = problem.rules.night_kinds
    for a in assignments:
        load[a.person] = load.get(a.person, 0) + 1
        if shifts[a.shift].kind in night_kinds:
            nights[a.person] = nights.get(a.person, 0) + 1
    shares = []
    by_skills: dict[frozenset[str], list[float]] = {}
    night_counts = []
    for person in problem.people:
        open_slots = index.person_slots.get(person.id, ())
        if not open_slots:
            continue
        capacity = person_capacity(problem, index, person)
        if capacity:
            shares.append(load.get(person.id, 0) / capacity)
            by_skills.setdefault(person.roles, []).append(shares[-1])
        if any(index.is_night[i] for i in open_slots):
            night_counts.append(nights.get(person.id, 0))
    return {
        "posts": posts,
        "filled": filled,
        "coverage_bound": bound,
        "coverage": round(filled / bound, 5) if bound else None,
        "fairness_spread": round(_std(shares), 4),
        "fairness_spread_within_skills": round(_pooled_std(by_skills.values()), 4),
        "nights_spread": round(_std(night_counts), 4),
        "hard_violations": len(report.violations),
    }


def _pooled_std(groups: Iterable[list[float]]) -> float:
    """Standard deviation around each group's own mean, pooled over all members."""
    groups = [g for g in groups if g]
    total = sum(len(g) for g in groups)
    if not total:
        return 0.0
    return math.sqrt(sum(_std(g) ** 2 * len(g) for g in groups) / total)


def _std(values: list[float] | list[int]) -> float:
    if not values:
        return 0.0
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


# -- baselines ------------------------------------------------------------------------------


def greedy_signup(problem: Problem, index: SlotIndex, seed: int) -> list[Assignment]:
    """Self-sign-up: volunteers in random order claim open posts first-come (see module doc)."""
    rng = random.Random(seed)
    state = RosterState(problem, problem.pins)
    people = list(problem.people)
    rng.shuffle(people)
    # slot -> role -> shifts with an open post of that role
    open_posts: dict[int, dict[str, list]] = {}
    for slot in index.slots:
        by_role: dict[str, list] = {}
        for shift in slot.shifts:
            for d in shift.demands:
                if d.min > state.filled[(shift.id, d.role)]:
                    by_role.setdefault(d.role, []).append(shift)
        open_posts[slot.index] = by_role
    for person in people:
        for i in index.person_slots.get(person.id, ()):
            roles = [r for r in sorted(person.roles) if open_posts[i].get(r)]
            if not roles:
                continue
            rep = index.slots[i].shifts[0]
            if state.blocker(person, rep) is not None:
                continue
            role = rng.choice(roles)
            candidates = open_posts[i][role]
            mine = [s for s in candidates if s.id in person.available]
            if not mine:
                continue
            preferred = [s for s in mine if s.site in person.preferred_sites]
            shift = rng.choice(preferred or mine)
            if state.static_block(person, shift, role) is not None:
                continue
            state.add(person.id, shift, role)
            demand = shift.demand(role)
            assert demand is not None
            if state.filled[(shift.id, role)] >= demand.min:
                candidates.remove(shift)
    return state.assignments()


def run_baseline(
    name: str, size: str, seed: int, time_limit: float, workers: int, days: int | None = None
) -> dict:
    """Run one baseline in this process and return its metrics (the subprocess entry)."""
    started = time.monotonic()
    problem = generate(size, seed, days).problem
    index = SlotIndex(problem)
    bound = coverage_bound(problem, index)
    solve_started = time.monotonic()
    first: list[float] = []
    if name == "greedy":
        assignments = greedy_signup(problem, index, seed)
        first.append(time.monotonic() - solve_started)
    elif name == "naive":
        from solver import solve

        def progress(elapsed: float, *_: float) -> None:
            if not first:
                first.append(elapsed)

        solution = solve(
            problem, time_limit=time_limit, workers=workers, seed=seed, on_progress=progress
        )
        assignments = list(solution.assignments)
    else:
        raise ValueError(f"unknown baseline {name!r}")
    wall = time.monotonic() - solve_started
    result = metrics(problem, index, assignments, bound)
    result.update(
        time_to_first_s=round(first[0], 3) if first and assignments else None,
        wall_s=round(wall, 3),
        peak_rss_mb=peak_rss_mb(),
        total_s=round(time.monotonic() - started, 3),
    )
    if not assignments:
        result.update(
            fairness_spread=None,
            fairness_spread_within_skills=None,
            nights_spread=None,
            note="no roster within the limit",
        )
    return result


def baseline_in_subprocess(name: str, args: argparse.Namespace) -> dict:
    """Run a baseline in a child process with its own memory and a hard time limit."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.scenario",
        "--size",
        args.size,
        "--seed",
        str(args.seed),
        "--time-limit",
        str(args.time_limit),
        "--workers",
        str(args.workers),
        "--run-baseline",
        name,
    ]
    if args.days is not None:
        command += ["--days", str(args.days)]

    def limit_memory() -> None:
        if name == "naive":
            resource.setrlimit(resource.RLIMIT_AS, (NAIVE_MEMORY_BYTES, NAIVE_MEMORY_BYTES))

    deadline = args.time_limit * 2 + 60
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=deadline,
            preexec_fn=limit_memory,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return _nothing(f"no roster within {deadline:.0f} s (killed)")
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["?"])[-1]
        return _nothing(f"failed: {tail[:200]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _nothing(note: str) -> dict:
    return {
        "filled": 0,
        "coverage": 0.0,
        "fairness_spread": None,
        "fairness_spread_within_skills": None,
        "nights_spread": None,
        "hard_violations": None,
        "time_to_first_s": None,
        "wall_s": None,
        "peak_rss_mb": None,
        "note": note,
    }


# -- the main run ---------------------------------------------------------------------------


def dropout(problem: Problem, roster: tuple[Assignment, ...], seed: int, time_limit: float) -> dict:
    """Cancel a random rostered volunteer and re-solve with ``roster`` as the baseline."""
    load: dict[str, int] = {}
    for a in roster:
        load[a.person] = load.get(a.person, 0) + 1
    rng = random.Random(seed)
    person_id = rng.choice(sorted(load))
    people = tuple(
        replace(p, available=frozenset()) if p.id == person_id else p for p in problem.people
    )
    pins = tuple(a for a in problem.pins if a.person != person_id)
    again = replace(problem, people=people, pins=pins, baseline=roster)
    holes_before = len(check(again, [a for a in roster if a.person != person_id]).unfilled)
    first: list[float] = []

    def progress(elapsed: float, *_: float) -> None:
        if not first:
            first.append(elapsed)

    started = time.monotonic()
    solution = solve_large(again, time_limit=time_limit, seed=seed, on_progress=progress)
    wall = time.monotonic() - started
    old = set(roster)
    new = set(solution.assignments)
    dropped_own = sum(1 for a in roster if a.person == person_id)
    report = check(again, solution)
    return {
        "person": person_id,
        "their_assignments": dropped_own,
        "their_roles": sorted(problem.person(person_id).roles),
        "unfilled_before": len(check(problem, roster).unfilled),
        "unfilled_after_cancel": holes_before,
        "unfilled_after_resolve": len(report.unfilled),
        "time_to_first_s": round(first[0], 3) if first else None,
        "wall_s": round(wall, 3),
        "removed": len(old - new),
        "added": len(new - old),
        "moved_other_than_cancelled": len(old - new) - dropped_own,
        "hard_violations": len(report.violations),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="S")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int, help="horizon in days (default: the size's)")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, help="write the result object here")
    parser.add_argument(
        "--baselines",
        default=",".join(BASELINES),
        help="comma-separated baselines to run (greedy, naive; empty for none)",
    )
    parser.add_argument(
        "--no-fairness-bound",
        dest="fairness_bound",
        action="store_false",
        help="skip the fairness bound (a handful of min-cost flows)",
    )
    parser.add_argument("--dropout", action="store_true", help="also measure a drop-out re-solve")
    parser.add_argument("--dropout-time-limit", type=float, default=10.0)
    parser.add_argument("--run-baseline", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_baseline:
        baseline = run_baseline(
            args.run_baseline, args.size, args.seed, args.time_limit, args.workers, args.days
        )
        print(json.dumps(baseline))
        return 0

    started = time.monotonic()
    scenario = generate(args.size, args.seed, args.days)
    problem = scenario.problem
    generated = time.monotonic() - started
    first: list[float] = []

    def progress(elapsed: float, objective: float, bound: float, filled: int) -> None:
        if not first:
            first.append(elapsed)

    solve_started = time.monotonic()
    solution = solve_large(
        problem,
        time_limit=args.time_limit,
        workers=args.workers,
        seed=args.seed,
        on_progress=progress,
    )
    wall = time.monotonic() - solve_started
    peak = peak_rss_mb()
    index = SlotIndex(problem)
    bound = coverage_bound(problem, index)
    result: dict[str, Any] = {
        "size": args.size,
        "seed": args.seed,
        "volunteers": len(problem.people),
        "sites": len({s.site for s in problem.shifts}),
        "days": len(problem.days),
        "cores": os.cpu_count(),
        "workers": args.workers,
        "time_limit_s": args.time_limit,
        "generate_s": round(generated, 3),
    }
    result.update(metrics(problem, index, solution.assignments, bound))
    if args.fairness_bound:
        bound_started = time.process_time()
        capacity = {p.id: person_capacity(problem, index, p) for p in problem.people}
        spread = fairness_bound(problem, capacity, index, posts=result["filled"])
        result["fairness_bound"] = round(spread, 4)
        result["fairness_bound_cpu_s"] = round(time.process_time() - bound_started, 3)
    result.update(
        time_to_first_s=round(first[0], 3) if first else None,
        wall_s=round(wall, 3),
        peak_rss_mb=peak,
        objective=solution.objective,
    )
    baselines = {}
    for name in [b for b in args.baselines.split(",") if b]:
        baselines[name] = baseline_in_subprocess(name, args)
        for key in ("size", "seed", "volunteers", "posts", "coverage_bound"):
            baselines[name].setdefault(key, result[key])
    result["baselines"] = baselines
    if args.dropout:
        result["dropout"] = dropout(
            problem, solution.assignments, args.seed, args.dropout_time_limit
        )
    print_table(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return 0


def print_table(result: dict) -> None:
    """A readable summary of the run."""
    print(
        f"scenario {result['size']} seed {result['seed']}: {result['volunteers']} volunteers, "
        f"{result['sites']} sites, {result['days']} days, {result['posts']} posts, coverage bound "
        f"{result['coverage_bound']} ({result['cores']} cores, {result['workers']} workers, "
        f"limit {result['time_limit_s']} s)"
    )
    if result.get("fairness_bound") is not None:
        spread = result["fairness_spread"]
        ratio = spread / result["fairness_bound"] if result["fairness_bound"] else None
        print(
            f"fairness: spread {spread:.3f}, lower bound {result['fairness_bound']:.3f}"
            + ("" if ratio is None else f" ({ratio:.2f} x the bound)")
        )
    header = (
        f"{'solver':<10}{'filled':>8}{'cover%':>9}{'fair sd':>9}{'in-skill':>9}{'night sd':>9}"
        f"{'viol':>6}{'first s':>9}{'wall s':>9}{'RSS MB':>9}"
    )
    print(header)
    rows = [("muster", result), *result["baselines"].items()]
    for name, row in rows:
        cover = row.get("coverage")

        def fmt(value: Any, spec: str) -> str:
            return "-" if value is None else format(value, spec)

        print(
            f"{name:<10}{row['filled']:>8}{fmt(None if cover is None else 100 * cover, '.2f'):>9}"
            f"{fmt(row.get('fairness_spread'), '.3f'):>9}"
            f"{fmt(row.get('fairness_spread_within_skills'), '.3f'):>9}"
            f"{fmt(row.get('nights_spread'), '.3f'):>9}"
            f"{fmt(row.get('hard_violations'), 'd'):>6}{fmt(row.get('time_to_first_s'), '.2f'):>9}"
            f"{fmt(row.get('wall_s'), '.2f'):>9}{fmt(row.get('peak_rss_mb'), '.0f'):>9}"
            + (f"  ({row['note']})" if row.get("note") else "")
        )
    if "dropout" in result:
        d = result["dropout"]
        print(
            f"drop-out of {d['person']} ({d['their_assignments']} shifts): holes "
            f"{d['unfilled_after_cancel']} -> {d['unfilled_after_resolve']} (before cancel "
            f"{d['unfilled_before']}), first roster {d['time_to_first_s']} s, "
            f"wall {d['wall_s']} s, "
            f"{d['removed']} removed / {d['added']} added, {d['moved_other_than_cancelled']} of "
            f"others' assignments moved"
        )


if __name__ == "__main__":
    raise SystemExit(main())
