"""Which search rosters a problem: :func:`solve` is the one entry point.

Problems without minimum rules and with more than ``LARGE_PROBLEM_CHOICES`` candidate choices
go to :func:`solver.decompose.solve_large`; large problems with minimum rules to the
window-by-window search of :func:`solver.windowed.solve_windowed`; everything else to the flat
CP-SAT search of :func:`solver.cpsat.solve_flat`, which may fall back on the decomposition's
construction. Imports run one way: this module -> decompose -> cpsat -> construct -> build,
and this module -> windowed -> construct.
"""

from __future__ import annotations

from functools import partial

import solver.decompose as decompose
from solver.build import candidate_choices, has_minimum_rules
from solver.cpsat import solve_flat
from solver.model import Problem, Solution
from solver.progress import ProgressCallback, StopCallback
from solver.windowed import solve_windowed

__all__ = ["LARGE_PROBLEM_CHOICES", "WINDOWED_CHOICES", "is_large", "is_windowed", "solve"]

# Above this many candidate choices (sum over people of available shifts x roles held), a
# non-deterministic solve without minimum rules goes to solver.decompose.solve_large.
# 100,000: the 300-volunteer demo (about 144,000) filled 83 % with solve_large and 77 % flat
# (1.8 GB) at 30 s; the S scenario (about 30,000) does best flat.
LARGE_PROBLEM_CHOICES = 100_000
# Above this many candidate choices a problem WITH minimum rules is searched window by window
# (solver.windowed): the flat model of a year of 100+ people takes most of a minute and
# gigabytes to build; Instance1-8 of the Curtois benchmark (up to about 3,400) stay flat.
WINDOWED_CHOICES = 100_000


def is_windowed(problem: Problem) -> bool:
    """Whether :func:`solve` hands ``problem`` to :func:`solver.windowed.solve_windowed`."""
    return has_minimum_rules(problem) and candidate_choices(problem) > WINDOWED_CHOICES


def is_large(problem: Problem, *, deterministic: bool = False) -> bool:
    """Whether :func:`solve` hands ``problem`` to :func:`solver.decompose.solve_large`."""
    return (
        not deterministic
        and not has_minimum_rules(problem)
        and candidate_choices(problem) > LARGE_PROBLEM_CHOICES
    )


def solve(
    problem: Problem,
    *,
    time_limit: float,
    workers: int = 2,
    seed: int = 0,
    on_progress: ProgressCallback | None = None,
    deterministic: bool = False,
    should_stop: StopCallback | None = None,
) -> Solution:
    """Roster ``problem`` within ``time_limit`` seconds and return the best roster found.

    A roster always comes back: when the search finds none in time (a short limit on a big
    problem, a busy machine) or is stopped first, the best constructive roster (the greedy hint
    of :mod:`solver.greedy`, the baseline, :func:`solver.decompose.solve_large`'s construction,
    or, for problems with minimum rules, :func:`solver.feasible.feasible_roster`'s, which is
    built before any search and adopted as the first roster) that :func:`solver.check`
    accepts is returned with status "FEASIBLE" and its checked objective; the result is never
    worse than it. Only when no such roster exists is there none: pins or minimums
    contradicting the hard rules give status "INFEASIBLE" (proven) or "UNKNOWN" and no
    assignments.

    ``workers`` is the number of threads used (CP-SAT workers, then side-by-side neighbourhood
    sub-solves). ``on_progress(elapsed_s, objective, bound, filled_posts)`` is called on every
    improving roster and, once a roster exists, repeated with the current best values at least
    every ``HEARTBEAT_SECONDS`` (2 s) while the search runs without improving; it may be called
    from solver threads. ``deterministic=True`` budgets in CP-SAT deterministic time instead of
    seconds (see the module docstring). ``should_stop()`` is asked in every CP-SAT solution
    callback and before every phase and neighbourhood sub-solve; once it returns True the
    search stops and the best roster so far is returned (status "FEASIBLE" unless already
    proven optimal). It may be called from solver threads, so it must be cheap and
    thread-safe. The returned roster has been re-checked by :func:`solver.check`; a roster it
    rejects is a bug and raises ``AssertionError``.

    Large problems (not ``deterministic``, no person with a minimum rule, and more than
    ``LARGE_PROBLEM_CHOICES`` candidate choices, see :func:`is_large`) are delegated to
    :func:`solver.decompose.solve_large` with the same arguments; large ones with minimum rules
    (see :func:`is_windowed`) to :func:`solver.windowed.solve_windowed`.
    """
    if time_limit <= 0:
        raise ValueError("time_limit must be positive")
    if is_large(problem, deterministic=deterministic):
        return decompose.solve_large(
            problem,
            time_limit=time_limit,
            workers=workers,
            seed=seed,
            on_progress=on_progress,
            should_stop=should_stop,
        )
    if is_windowed(problem):
        return solve_windowed(
            problem,
            time_limit=time_limit,
            workers=workers,
            seed=seed,
            on_progress=on_progress,
            deterministic=deterministic,
            should_stop=should_stop,
        )
    return solve_flat(
        problem,
        time_limit=time_limit,
        workers=workers,
        seed=seed,
        on_progress=on_progress,
        deterministic=deterministic,
        should_stop=should_stop,
        construct=None if has_minimum_rules(problem) else partial(decompose.construct, problem),
    )
