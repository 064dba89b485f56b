"""Measure what solver.budget's deterministic charges stand for, on this machine.

    python -m benchmarks.budget_calibration INSTANCE.txt [--time-limit 60] [--workers 2]

Runs one deterministic solve of a Curtois-format instance with the wall-clock backstop lifted
(so that a loaded machine cannot cut it short) and records every CP-SAT call: the phase that
made it, its workers, its deterministic time, the CPU seconds it took (``time.thread_time`` of
a single-worker call, ``time.process_time`` of a multi-worker one) and its model's variables
plus constraints. Prints, per phase, the units per CPU second and the CPU the charges of
solver.budget predict for it, then the run's CPU and an estimate of its wall time on an idle
machine with ``workers`` cores: the process CPU less what ran beside the longer sub-solve of
each lock-step neighbourhood round and half of every two-worker call. CPU seconds and
deterministic time hardly depend on the load; the wall time does, which is why it is not used.
"""

from __future__ import annotations

import argparse
import inspect
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from ortools.sat.python import cp_model

import solver
import solver.budget as budget
import solver.cpsat as cpsat
from benchmarks.curtois import to_problem
from benchmarks.curtois_format import read_instance

# The solver's functions that name a phase (the innermost one found on the stack wins).
PHASES = ("_complete", "_rolling", "_improve", "rolling_roster", "_run_phases", "_attempt")


def _phase() -> str:
    for frame in inspect.stack()[2:16]:
        if "/solver/" in frame.filename and frame.function in PHASES:
            return frame.function
    return "neighbourhood"


def measure(path: Path, time_limit: float, workers: int, seed: int) -> list[dict[str, Any]]:
    """Solve ``path`` deterministically and return one record per CP-SAT call."""
    calls: list[dict[str, Any]] = []
    original = cp_model.CpSolver.solve

    def solve(self: cp_model.CpSolver, model: cp_model.CpModel, callback: Any = None) -> Any:
        phase = _phase()
        thread, process = time.thread_time(), time.process_time()
        status = original(self, model, callback)
        multi = self.parameters.num_workers > 1
        calls.append(
            {
                "phase": phase,
                "workers": self.parameters.num_workers,
                "units": self.deterministic_time,
                "cpu": time.process_time() - process if multi else time.thread_time() - thread,
                "items": budget.model_items(model),
            }
        )
        return status

    problem = to_problem(read_instance(path))
    backstop = budget.WALL_BACKSTOP
    budget.WALL_BACKSTOP = 1e6
    # solver.cpsat imports the name without re-exporting it
    cpsat.WALL_BACKSTOP = 1e6  # type: ignore[attr-defined]
    # a measuring wrapper in place of the method, for this run only
    cp_model.CpSolver.solve = solve  # type: ignore[method-assign,assignment]
    try:
        started = time.process_time()
        result = solver.solve(
            problem, time_limit=time_limit, workers=workers, seed=seed, deterministic=True
        )
        used = time.process_time() - started
    finally:
        # (the wrapper's counterpart: the method back in place)
        cp_model.CpSolver.solve = original  # type: ignore[method-assign]
        budget.WALL_BACKSTOP = backstop
        # (solver.cpsat imports the name without re-exporting it)
        cpsat.WALL_BACKSTOP = backstop  # type: ignore[attr-defined]
    by_phase: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for call in calls:
        by_phase[call["phase"], call["workers"]].append(call)
    print(f"{path.stem}: objective {result.objective}, {used:.1f} CPU s for a {time_limit} s limit")
    for (phase, count), group in sorted(by_phase.items()):
        units = sum(c["units"] for c in group)
        cpu = sum(c["cpu"] for c in group)
        free = phase in ("_rolling", "rolling_roster")
        predicted = sum(
            c["units"] / (budget.MEASURED_UNITS_PER_CPU_SECOND * c["workers"])
            + budget.CP_SAT_CALL_SECONDS
            + c["items"]
            * (budget.CP_SAT_SECONDS_PER_FREE_ITEM if free else budget.CP_SAT_SECONDS_PER_ITEM)
            for c in group
        )
        print(
            f"  {phase:14s} {count} worker(s) {len(group):4d} calls {units:8.3f} units "
            f"{cpu:7.2f} CPU s ({units / max(cpu, 1e-9):.2f} units/s), charges predict "
            f"{predicted:7.2f} s"
        )
    rounds = [c for c in calls if c["phase"] == "neighbourhood"]
    beside = sum(min(a["cpu"], b["cpu"]) for a, b in zip(rounds[::2], rounds[1::2], strict=False))
    beside += sum(c["cpu"] / 2 for c in calls if c["workers"] > 1)
    idle = used - beside if workers > 1 else used
    print(f"  idle-machine wall estimate {idle:.1f} s ({idle / time_limit:.2f} of the limit)")
    return calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("instances", nargs="+", type=Path)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for path in args.instances:
        measure(path, args.time_limit, args.workers, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
