"""Repairing a roster: fill its holes and change nothing the holes do not force.

A repair starts from a roster people were told (the problem's ``baseline``) and a few *holes*:
posts someone left (a cancellation) or that need more people than before (an urgent request).
:func:`restrict` turns the problem into one whose every roster is such a repair:

* only the holes' *candidates* (people available and qualified for a hole) may leave a post
  they hold, one within a day of a hole (what keeps them from it: one shift a day, rest), and
  only for a hole or for a place another move vacated (everyone else's baseline becomes a
  pin, where it can be one);
* nobody may be added anywhere but to a hole or to a place a move vacated (or a rule now
  forbids its holder): every post is capped at what it holds now plus its hole
  (``Problem.caps``), so old unfilled posts stay as they are;
* each baseline assignment dropped still costs ``Rules.weight_baseline_change``, so a move is
  made only when it fills a hole (the app sets that weight above any comfort a move could
  buy and below an unfilled post).

:func:`solve_repair` first tries to prove the restricted problem optimal in one CP-SAT call
(it has few free choices, so this usually takes about a second and the repair stops there),
else solves it with :func:`solver.solve`, and scores the roster against the original problem,
so its objective, breakdown and unfilled posts mean what they mean for any roster of the
period. ``bound`` is the restricted problem's: the best any
repair can do, not the best roster of the period.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import replace

from ortools.sat.python import cp_model

from solver.budget import CP_SAT_UNITS_PER_SECOND, cp_sat_seconds, model_items
from solver.build import build
from solver.check import check
from solver.dispatch import is_large, is_windowed
from solver.model import Assignment, Problem, Solution, UnfilledPost
from solver.progress import StopOnRequest, Stopper

__all__ = ["restrict", "solve_repair"]

Post = tuple[str, str]  # (shift id, role)
# How many days from a hole a candidate's own post may be to be given up for it.
CHAIN_DAYS = 1
# Share of the time limit the proof (one CP-SAT call on the whole restricted model) may take
# before the general search gets the rest. The restricted model is large (everyone's pinned
# posts) but has few free choices: one LP-heavy worker proves it optimal in about a second,
# where solver.solve gives its full-model phase 8 % of the limit (1.6 s of 20), then searches
# neighbourhoods, which never prove anything, until the limit.
PROOF_SHARE = 0.5
# Share of the time limit the general search gets at least, however long the proof took.
MIN_SEARCH_SHARE = 0.1
# The wall clock of solve_repair (a test passes a fake one).
clock = time.monotonic


def restrict(problem: Problem, holes: Mapping[Post, int]) -> Problem:
    """The repair problem of ``problem`` (with its baseline) and ``holes``: how many people
    each post may gain (see the module doc)."""
    holes = {post: n for post, n in holes.items() if n > 0}
    shifts = problem._shift_index()
    pinned = {(a.person, a.shift) for a in problem.pins}
    baseline = [a for a in problem.baseline if (a.person, a.shift) not in pinned]
    held: Counter[Post] = Counter((a.shift, a.role) for a in (*problem.pins, *baseline))

    hole_shifts = {shift_id for shift_id, _ in holes}
    candidates = {
        person.id
        for person in problem.people
        for shift_id, role in holes
        if shift_id in person.available
        and role in person.roles
        and (person.id, shift_id) not in pinned
    }

    # Everyone else keeps their baseline as pins, except assignments that break a hard rule
    # now (availability, qualification or a limit changed since): those stay soft, and the
    # solver drops them because it must.
    report = check(replace(problem, baseline=(), caps={}), (*problem.pins, *baseline))
    unsafe_people = {v.person for v in report.violations if v.person and not v.shifts}
    unsafe = {(v.person, s) for v in report.violations if v.person for s in v.shifts}
    unsafe_posts = {(s, None) for v in report.violations if v.person is None for s in v.shifts}
    # A candidate may leave only a post near a hole (same day or the next or previous one):
    # that is what can keep them from it (one shift a day, rest between shifts).
    hole_days = {shifts[shift_id].day for shift_id in hole_shifts}
    near = {
        shift.id
        for shift in shifts.values()
        # Shift.day is Optional only for the constructor: __post_init__ sets it
        if any(abs((shift.day - day).days) <= CHAIN_DAYS for day in hole_days)  # type: ignore[operator]
    }
    pins = list(problem.pins)
    for a in baseline:
        person = problem.person(a.person)
        if (
            (a.person not in candidates or a.shift not in near)
            and a.person not in unsafe_people
            and (a.person, a.shift) not in unsafe
            and (a.shift, None) not in unsafe_posts
            and a.shift in person.available
            and a.role in person.roles
        ):
            pins.append(a)
    # Places that may be vacated (a candidate's, or one a rule now forbids) may be refilled.
    kept = set(pins)
    open_shifts = hole_shifts | {a.shift for a in baseline if a not in kept}

    own: dict[str, set[str]] = {}
    for a in (*problem.pins, *baseline):
        own.setdefault(a.person, set()).add(a.shift)
    people = tuple(
        replace(
            person,
            available=frozenset(
                s for s in person.available if s in open_shifts or s in own.get(person.id, ())
            ),
        )
        for person in problem.people
    )
    caps = {
        (shift.id, demand.role): held[(shift.id, demand.role)]
        + holes.get((shift.id, demand.role), 0)
        for shift in shifts.values()
        for demand in shift.demands
    }
    if problem.caps:
        caps = {post: min(n, problem.caps.get(post, n)) for post, n in caps.items()}
    # The search starts from the baseline: leave out of it what cannot be kept anyway (a rule
    # forbids it now, or it is above a post's cap), so that it is a roster to start from. The
    # repair is scored against the original baseline (solve_repair), so nothing is hidden.
    room: Counter[Post] = Counter()
    for shift in shifts.values():
        for demand in shift.demands:
            post = (shift.id, demand.role)
            room[post] = min(caps[post], demand.upper) if problem.cover_cap else caps[post]
    for a in pins:
        room[(a.shift, a.role)] -= 1
    start = []
    for a in sorted(baseline, key=lambda a: (a.shift, a.role, a.person)):
        if a in kept:
            start.append(a)
            continue
        person = problem.person(a.person)
        breaks = (
            a.person in unsafe_people
            or (a.person, a.shift) in unsafe
            or a.shift not in person.available
            or a.role not in person.roles
        )
        if not breaks and room[(a.shift, a.role)] > 0:
            room[(a.shift, a.role)] -= 1
            start.append(a)
    # Posts that cannot gain anyone keep their old shortfall whatever the repair does: leave it
    # out (minimums lowered to the caps), so the search looks only at the holes and the places
    # a move opens. solve_repair scores the roster against the original demands.
    lowered = tuple(
        replace(
            shift,
            demands=tuple(
                replace(d, min=min(d.min, caps[(shift.id, d.role)]))
                if d.max is not None or d.min <= caps[(shift.id, d.role)]
                else replace(d, min=caps[(shift.id, d.role)], max=d.min)
                for d in shift.demands
            ),
        )
        for shift in problem.shifts
    )
    return replace(
        problem,
        shifts=lowered,
        people=people,
        pins=tuple(pins),
        caps=caps,
        baseline=tuple(start),
    )


def solve_repair(
    problem: Problem,
    holes: Mapping[Post, int],
    *,
    time_limit: float,
    workers: int = 2,
    seed: int = 0,
    on_progress: Callable[[float, float, float, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    deterministic: bool = False,
) -> Solution:
    """Fill ``holes`` in ``problem``'s baseline with the fewest changes (see the module doc).

    Returns a roster :func:`solver.check` accepts for ``problem`` itself, scored against it;
    the arguments after ``holes`` are :func:`solver.solve`'s.
    """
    import solver  # late: the package imports this module

    started = clock()
    restricted = restrict(problem, holes)
    # restrict() checks the told roster once: the end's check of the result (of the whole
    # problem, after the search's own) costs about as much, and is kept out of the search's
    # time on the wall clock (a deterministic run counts no wall time into its budget)
    reserve = 0.0 if deterministic else 1.5 * (clock() - started)
    stopper = Stopper(should_stop)
    solution: Solution | None = None
    spent = 0.0
    # Only where solver.solve would build the same flat model anyway (not at city scale).
    if not is_large(restricted, deterministic=deterministic) and not is_windowed(restricted):
        solution, spent = _prove(
            restricted,
            min(PROOF_SHARE * time_limit, max(0.01, time_limit - reserve)),
            seed=seed,
            stop=stopper,
            deterministic=deterministic,
        )
    if solution is None:
        # Not proven (or stopped: then solver.solve returns at once with the best
        # constructive roster, the told one as far as it holds).
        solution = solver.solve(
            restricted,
            time_limit=max(
                time_limit - spent - reserve
                if deterministic
                else time_limit - (clock() - started) - reserve,
                MIN_SEARCH_SHARE * time_limit,
            ),
            workers=workers,
            seed=seed,
            on_progress=on_progress,
            should_stop=stopper,
            deterministic=deterministic,
        )
    if not solution.feasible:
        return replace(solution, wall_time=clock() - started)
    report = check(problem, solution.assignments)
    assert report.ok, f"a repair roster breaks a hard rule: {report.violations[:3]}"
    return replace(
        solution,
        wall_time=clock() - started,  # the check of the whole problem included
        objective=report.objective,
        breakdown=report.breakdown,
        unfilled=tuple(
            UnfilledPost(shift=s, role=r, missing=m) for (s, r), m in report.unfilled.items()
        ),
    )


def _prove(
    restricted: Problem, budget: float, *, seed: int, stop: Stopper, deterministic: bool
) -> tuple[Solution | None, float]:
    """Solve the restricted problem's whole model once, starting from its baseline, with one
    worker and the strongest LP relaxation (as solver.cpsat does for small neighbourhoods):
    the repair's roster when CP-SAT proves it optimal within ``budget`` seconds (deterministic
    seconds when ``deterministic``), else None. Also returns the budget spent."""
    started = time.monotonic()
    built = build(restricted)
    model = built.ctx.model
    chosen = {(a.person, a.shift, a.role) for a in (*restricted.pins, *restricted.baseline)}
    for triple, var in built.ctx.x.items():
        model.add_hint(var, triple in chosen)
    cp = cp_model.CpSolver()
    params = cp.parameters
    params.num_workers = 1
    params.linearization_level = 2
    params.random_seed = seed
    if deterministic:
        # budget seconds, in CP-SAT's units (solver.budget), like every other call
        params.max_deterministic_time = max(budget, 0.01) * CP_SAT_UNITS_PER_SECOND
    else:
        params.max_time_in_seconds = max(budget, 0.01)
    status = cp.solve(model, StopOnRequest(stop))
    spent = (
        cp_sat_seconds(cp.deterministic_time, model_items(model))
        if deterministic
        else time.monotonic() - started
    )
    if status != cp_model.OPTIMAL:
        return None, spent
    values = cp.response_proto.solution
    assignments = tuple(Assignment(*t) for i, t in sorted(built.triples.items()) if values[i])
    solution = Solution(
        status="OPTIMAL",
        assignments=assignments,
        objective=round(cp.objective_value),
        bound=math.ceil(cp.best_objective_bound - 1e-6),
        breakdown={},  # solve_repair scores the roster against the original problem
        unfilled=(),
        wall_time=time.monotonic() - started,
        time_to_best=time.monotonic() - started,
        time_to_first=time.monotonic() - started,
    )
    return solution, spent
