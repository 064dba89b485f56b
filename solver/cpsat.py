"""The flat CP-SAT search: the whole model of a :class:`~solver.model.Problem`, searched.

The search has two phases sharing one time budget:

1. the full model, seeded with the baseline (or a greedy roster) as a hint, which finds a first
   roster and proves a lower bound; small problems end here, proven optimal;
2. a large-neighbourhood search: keep the best roster, free a few people, a window of days, a
   few people over a window (half the time centred on a post the roster under- or
   over-covers), everybody over two windows (one around a post the roster under-covers, one
   around a post it over-covers: people's totals are fixed outside a neighbourhood, so only
   two windows can move a shift far), or everybody over a window around an under-covered post
   plus, over the whole horizon, a person with room for one more shift and one who works beside
   that post but not on it (cover can only grow where someone works more, or where a run grows
   onto the post and its owner's dropped shift goes to the person with room), or everybody
   over a long window holding an under-covered post, or, when somebody works as many weekends
   as they may, everybody on the weekends (and the days beside them) nearest an under-covered
   post and on that post's days ("weekends": who works which weekend is re-dealt across the
   horizon, which no window of days holds),
   given several sub-solve budgets (when capacity is tight, covering one more post that few
   people may work reshapes many people's runs over most of the horizon at once); fix
   everybody else, re-solve that small model with one worker,
   the strongest LP relaxation and a light presolve, keep it when it is at least as good (ties
   included, to cross plateaus), shrink each kind of neighbourhood after it improved the
   roster or ran out of time and grow it when it proved that nothing is to be gained at its
   size (small neighbourhoods are the cheapest improvements while there are any), and draw
   the kinds that improved the roster lately more often. One sub-solve runs per worker
   thread. The search keeps the ``ELITE_SIZE`` best distinct rosters it held (near copies
   count as one, see ``ELITE_SPACING``); one more kind of neighbourhood, "crossover", frees
   the people's days on which the incumbent and another kept roster differ (path relinking).
   When the incumbent has not improved for ``STALL_SHARE`` of the time limit (a local optimum of
   every kind and size of neighbourhood) and leaves a post short, a "cover" step looks for a roster
   that covers more, whatever it costs in the smaller weights: the whole model without its
   objective, the weighted shortfall below the incumbent's, searched by local search in short
   attempts with fresh seeds, from the incumbent and from nothing by turns (``COVER_SHARE`` of the
   time limit in all; in deterministic mode one per worker of a round); the search goes on from
   that roster, its sub-solves keeping its cover until they stall (``GUARD_COVER``). Failing that,
   or with no post short, it goes on from the kept roster farthest from the incumbent among those
   within ``RESTART_WITHIN`` of the best; either way with every kind back at its first size and
   weight. When even that leaves the best roster held unimproved for ``LINE_STALLS`` stall windows
   (every roster of the search descends from one first roster, in one basin), a second line of
   search starts from the first roster with a pool of its own, and when it stalls too (or the time
   runs short) the two lines are relinked: one sub-solve frees the cells where their best rosters
   differ, and the search goes on from the best with both pools (a later stall may start another
   second line). It returns the best roster it held.

With minimum rules (minimum minutes, minimum runs) the first roster is
:func:`solver.feasible.feasible_roster`'s, built person by person before any search and adopted
at once (it is also the fallback, so a tiny limit or a slow machine still gets a roster that
keeps every hard rule). On a horizon of several windows the next hint is built window by
window (:func:`solver.construct.rolling_roster`, at most ``ROLLING_SHARE`` of the budget) and
adopted when it meets every rule and is better, before the full-model phase starts (which is
hinted with the incumbent); on shorter horizons that roster is built only when the
full-model phase found none and the greedy hint breaks a minimum.

If the exact model yields no roster in its slice of time, the hint roster is completed by a solve
with every roster variable fixed to it (cheap: propagation only), so the neighbourhood search can
start from it; failing that the search goes on with minimum minutes softened (``elastic``), and
only a roster meeting them all is returned. If the search still has no roster when the time is
up (or it is stopped), the best constructive roster that :func:`solver.check` accepts is
returned with status "FEASIBLE" (see :func:`solve`).

:func:`solver.dispatch.solve` sends large problems without minimum rules to
:func:`solver.decompose.solve_large` and the rest here (:func:`solve_flat`); solve_large hands
problems with minimum rules here too.

Determinism: the neighbourhood sequence is drawn from ``random.Random(seed)`` and every CP-SAT
call gets the same ``random_seed`` and worker count. With ``deterministic=True`` every call is
also limited by CP-SAT's deterministic time (work units, not seconds; converted to budget
seconds and charged with the model building as :mod:`solver.budget` says) with interleaved
search, so the same problem, seed and worker count return the same roster on any machine and
under any load. Otherwise calls stop on the wall clock, which makes the result depend on
machine speed; the roster is still always valid.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from array import array
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from ortools.sat.python import cp_model

from solver.budget import (
    CP_SAT_UNITS_PER_SECOND,
    WALL_BACKSTOP,
    cp_sat_seconds,
    model_items,
    work,
)
from solver.build import build, candidate_choices, clear_hints, has_minimum_rules
from solver.check import CheckReport, check
from solver.construct import rolling_roster, single_window
from solver.feasible import feasible_roster
from solver.greedy import greedy_roster
from solver.model import Assignment, Problem, Shift, Solution, UnfilledPost
from solver.progress import Heartbeat, ProgressCallback, StopCallback, Stopper
from solver.rules.weekends import weekends

__all__ = ["solve_flat"]

# A constructive roster for the fallback (see solve_flat's ``construct``).
Construct = Callable[[], Sequence[Assignment]]

log = logging.getLogger(__name__)

# Share of the budget the full model gets before the neighbourhood search takes over: enough
# to prove small problems optimal; on larger ones the neighbourhood search improves faster.
FULL_MODEL_SHARE = 0.08
# Budget of one sub-solve as a share of the total budget, clamped to these seconds.
SUB_SOLVE_SHARE = 0.02
SUB_SOLVE_SECONDS = (0.5, 5.0)
# How often a neighbourhood is centred on a post the incumbent under- or over-covers.
FOCUS_PROBABILITY = 0.5
# ("weekends" last: it is never drawn when nobody is at their maximum weekends, and then the
# draws among the others are those without it)
NEIGHBOURHOODS = ("people", "days", "mixed", "pair", "union", "crossover", "long", "weekends")
# A "long" neighbourhood (everybody over a long window) gets this many sub-solve budgets: when
# capacity is tight, covering one more scarce post (a weekend when everybody is at their
# maximum weekends) reshapes many people's runs over most of the horizon at once, and no
# neighbourhood that one budget solves holds such a move (measured on Instance5's plateaus).
# Not in deterministic mode: its lock-step rounds last as long as their longest sub-solve, so
# the other workers would wait three budgets idle (Instance8, 60 s: 1847 instead of 1552).
LONG_BUDGET_FACTOR = 4
# Budget of a "cover" step (see _cover_model), as a share of the time limit, spent in attempts
# of one sub-solve budget each, with a fresh seed, from the incumbent and from nothing by
# turns, the incumbent first (from a roster that is no trap it finds one far more often:
# Instance6 stuck at 2246, 9 seeds of 10 against 1 from nothing): local search finds a
# roster covering more within a fraction of a budget or, from that seed, hardly ever (the
# cover models of deterministic Instance8's stalls at 1563 and 1652: 1 seed of 5 and 1 of 8
# found one, in 0.13 and 0.23 deterministic seconds; the others nothing in 2.7, a whole 6 s
# budget, nor one seed in 8.1; the single 6 s attempt found nothing in any of the 5 stalls
# of Instance8's four runs). In deterministic mode a cover round is one attempt per worker,
# so no worker waits on a longer one (one 6 s attempt beside 1.2 s sub-solves: Instance8 at
# 60 s, 1563 and 1652 instead of 1449 and 1544; with the attempts 1455 and 1644, Instance5
# and 7 seeds 0-3 mean gap 7.52 % -> 5.40 % and 3.88 % -> 2.63 %).
COVER_SHARE = 0.1
# While the sub-solves repair a cover step's roster, they may not give its cover back (their
# models ask for its weighted shortfall at most) until the incumbent stalls again; then one
# stall window without the guard, before the next cover step or restart (deterministic
# Instance5 at 60 s, seeds 0-3: mean gap 7.13 % without the guard, 5.40 % with it, 7.48 %
# going on to the next cover step at once; Instance8 unchanged).
GUARD_COVER = True
# People freed over the whole horizon in a "union" neighbourhood.
UNION_PEOPLE = 2
# Kinds are drawn in proportion to a decaying average of how often they improved the roster.
SUCCESS_MEMORY = 0.9
NEIGHBOURHOOD_FLOOR = 0.1
# Factor on a neighbourhood kind's size when one of its sub-solves improved the roster.
SHRINK_ON_IMPROVEMENT = 0.9
# The neighbourhood search keeps this many of the best distinct rosters it held, and when the
# incumbent has not improved for STALL_SHARE of the time limit it restarts from one of them
# (see _Elite): on a plateau no neighbourhood of the incumbent leads down any more.
ELITE_SIZE = 8
STALL_SHARE = 0.1
# A restart goes to the kept roster farthest from the incumbent among those within this share
# of the best objective held (the best other roster when none is): the farthest of all is
# often an early roster far worse, and the search spends its stall window climbing back.
RESTART_WITHIN = 0.01
# A new roster that differs from a kept one in fewer than this share of the roster variables
# (at least two: one person moved to another shift) replaces it only when it is better, so
# that walking across a plateau does not fill the pool with near-copies of one roster.
ELITE_SPACING = 0.01
# When the best roster of the search has not improved for LINE_STALLS stall windows (the
# cover step and a restart tried), a second line of search starts from the first roster with a
# pool of its own, and when it stalls too (one window) the two lines are relinked: one
# sub-solve freeing only the cells where their best rosters differ (see _neighbourhood_search).
# The rosters of one line all descend from one first roster and share its basin (Instance8: the
# nearest better roster than a stuck one differs in 20 of 30 people), while relinking the
# rosters of two independent runs found one better than both in 1-3 s. Only on a stall: split
# from the start, each line got a third of the time and the relink did not win back what that
# cost (deterministic 60 s, Instance8 seeds 0-3: mean 1653 instead of 1548).
LINE_STALLS = 2
# A second line starts only with at least this many stall windows left to climb in.
LINE_WINDOWS = 3
# Budget of the relinking sub-solve, in sub-solve budgets.
RELINK_BUDGETS = 3
# Rough number of free variables the first neighbourhoods aim at.
NEIGHBOURHOOD_VARIABLES = 800
LARGE_MODEL_VARIABLES = 50_000
# At most this share of the budget builds the window-by-window first roster (problems with
# minimum rules), so that the first roster comes within a fifth of the time limit.
ROLLING_SHARE = 0.15
# ... and a window that finds nothing in its share may take more, up to this share in all.
ROLLING_HARD_SHARE = 0.6
# On the wall clock the person-by-person roster's cover moves stop at this share of the time
# limit (deterministic runs are bounded by their counts), so the first roster stays early.
FEASIBLE_SHARE = 0.1
# Deterministic time charged for the person-by-person roster, per candidate choice (in
# solver.budget.work's items). solver.windowed's 7 covers the construction and the same-day
# cover moves; the moves between days (improve_cover's reshape) take 5-8 times as long
# (process time on Instance5, Instance8 and Gen_30x84x6_s3: 13-37 us per choice without them,
# 74-281 us with them).
FEASIBLE_ITEMS_PER_CHOICE = 42


def solve_flat(
    problem: Problem,
    *,
    time_limit: float,
    workers: int = 2,
    seed: int = 0,
    on_progress: ProgressCallback | None = None,
    deterministic: bool = False,
    should_stop: StopCallback | None = None,
    construct: Construct | None = None,
) -> Solution:
    """:func:`solver.solve` on the one flat CP-SAT model, whatever the problem's size.

    ``construct()``, when given, is one more constructive roster the fallback may return (the
    dispatcher passes :func:`solver.decompose.construct` for problems without minimum rules).
    """
    if time_limit <= 0:
        raise ValueError("time_limit must be positive")
    search = _Search(
        problem, time_limit, workers, seed, on_progress, deterministic, should_stop, construct
    )
    return search.run()


class _Search:
    """State of one solve: the built model, the incumbent roster and the budget."""

    def __init__(
        self,
        problem: Problem,
        time_limit: float,
        workers: int,
        seed: int,
        on_progress: ProgressCallback | None,
        deterministic: bool,
        should_stop: StopCallback | None = None,
        construct: Construct | None = None,
    ) -> None:
        self.started = time.monotonic()
        self.stop = Stopper(should_stop)
        self.construct = construct
        self.problem = problem
        self.time_limit = time_limit
        self.workers = max(1, workers)
        self.seed = seed
        self.on_progress = on_progress
        self.deterministic = deterministic
        self.rng = random.Random(seed)
        self.built = build(problem)
        self.ctx = self.built.ctx
        self.x_indices = sorted(self.built.triples)
        self.required_posts = sum(need for _, need in self.ctx.shortfall.values())
        self.best_values: dict[int, int] | None = None
        # the incumbent's value of every model variable (what the elite pool keeps)
        self.best_solution = array("q")
        self.best_objective: float = math.inf
        self.best_seen: float = math.inf
        # minutes the incumbent misses of people's minimums (only in the elastic model)
        self.missing_minutes = 0
        # shifts under- or over-covered in the incumbent, and of them those under-covered
        # and those over-covered
        self.deficient: list[str] = []
        self.short: list[str] = []
        self.surplus: list[str] = []
        # people whose incumbent leaves room under their maximum minutes for one more shift
        self.spare: list[str] = []
        # person -> (minutes of their shortest candidate shift, their maximum minutes)
        self.room = {
            person_id: (
                min(s.minutes for s in shifts),
                self.ctx.limit(self.ctx.people[person_id], "max_minutes"),
            )
            for person_id, shifts in self.ctx.shifts_of.items()
        }
        self.lock = threading.Lock()
        self.bound: float = -math.inf
        self.time_to_best = 0.0
        self.time_to_first: float | None = None
        self.status = "UNKNOWN"
        # deterministic time: CP-SAT's, plus a charge for building the model (solver.budget)
        model = self.ctx.model.proto
        self.spent_deterministic = work(model_items=len(model.variables) + len(model.constraints))
        # The model with every x fixed to template_values, and each x's own bounds: what
        # _restricted copies a neighbourhood's model from.
        self.template: cp_model.CpModel | None = None
        self.template_source: cp_model.CpModel | None = None
        self.template_values: dict[int, int] = {}
        self.x_domains: dict[int, tuple[int, int]] = {}
        # _under_weights of under_source (the model, rebuilt when elastic)
        self.under: list[tuple[int, int]] = []
        self.under_source: cp_model.CpModel | None = None
        # whether the first hint is the window-by-window roster of solver.construct
        self.rolled = False
        # A roster meeting every hard rule, minimums included, built person by person before
        # any search (problems with minimum rules, which the greedy hint cannot promise): the
        # first roster, and the fallback whatever the time limit or the machine's load.
        self.feasible: list[Assignment] | None = None
        if has_minimum_rules(problem):
            self.feasible = feasible_roster(problem, problem.baseline, stop=self._feasible_stop)
            self.spent_deterministic += work(
                items=FEASIBLE_ITEMS_PER_CHOICE * candidate_choices(problem)
            )

    # -- budget -----------------------------------------------------------------------------

    def _feasible_stop(self) -> bool:
        if self.deterministic:
            return self.stop()
        return self.stop() or self.elapsed() > FEASIBLE_SHARE * self.time_limit

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def remaining(self) -> float:
        if not self.deterministic:
            return self.time_limit - self.elapsed()
        if self.elapsed() > WALL_BACKSTOP * self.time_limit:
            return 0.0  # the wall-clock backstop of a deterministic run (solver.budget)
        return self.time_limit - self.spent_deterministic

    # -- CP-SAT calls -----------------------------------------------------------------------

    def _parameters(self, solver: cp_model.CpSolver, budget: float, full: bool) -> None:
        params = solver.parameters
        if full:
            params.num_workers = self.workers
        else:
            # Neighbourhoods are small: one worker with the strongest LP relaxation proves them
            # optimal far faster than a portfolio does. Nearly every variable of a
            # neighbourhood's model is fixed, so one presolve pass without probing or symmetry
            # detection leaves the same small model, and it is most of a small sub-solve's time.
            params.num_workers = 1
            params.linearization_level = 2
            params.max_presolve_iterations = 1
            params.symmetry_level = 0
            params.cp_model_probing_level = 0
        params.random_seed = self.seed
        params.log_search_progress = False
        if len(self.x_indices) > LARGE_MODEL_VARIABLES:
            # Presolving a year-long model in full takes longer than it saves.
            params.symmetry_level = 0
            params.max_presolve_iterations = 1
        if self.deterministic:
            params.interleave_search = True
            params.max_deterministic_time = max(budget, 0.01) * CP_SAT_UNITS_PER_SECOND
            # the wall-clock backstop, inside the call too (it never binds at normal speed)
            params.max_time_in_seconds = max(0.01, WALL_BACKSTOP * self.time_limit - self.elapsed())
        else:
            params.max_time_in_seconds = max(budget, 0.01)

    def _run(
        self,
        model: cp_model.CpModel,
        budget: float,
        *,
        full: bool,
        first_only: bool = False,
        seed: int | None = None,
        local_search: bool = False,
    ) -> tuple[cp_model.CpSolver, cp_model.CpSolverStatus]:
        solver = cp_model.CpSolver()
        self._parameters(solver, budget, full)
        if seed is not None:
            solver.parameters.random_seed = seed
        solver.parameters.stop_after_first_solution = first_only
        # (a local-search call solves a model without the objective: nothing to report)
        solver.parameters.use_ls_only = local_search
        callback = _Reporter(self, full=full, report=not local_search)
        status = solver.solve(model, callback)
        return solver, status

    def _adopt(self, solver: cp_model.CpSolver, *, ties: bool = False) -> bool:
        """Take the solver's roster if it beats the incumbent (or, with ``ties``, equals it:
        moving across plateaus lets the neighbourhood search escape them)."""
        objective = solver.objective_value
        if self.best_values is not None and (
            objective > self.best_objective or (objective == self.best_objective and not ties)
        ):
            return False
        self._take(solver.response_proto.solution, objective)
        return True

    def _take(self, solution: Sequence[int], objective: float) -> None:
        """Make ``solution`` (a value per model variable, of objective ``objective``) the
        incumbent, with what the neighbourhoods read from it."""
        self.best_values = {i: int(solution[i]) for i in self.x_indices}
        self.best_objective = objective
        self.best_solution = array("q", solution)
        self.missing_minutes = sum(int(solution[var.index]) for var in self.ctx.deficits)
        under = {var.index for var, _ in self.ctx.shortfall.values()}
        slack = [(s, var.index) for s, var in self.ctx.cover_slack if solution[var.index] > 0]
        self.deficient = sorted({s for s, _ in slack})
        self.short = sorted({s for s, index in slack if index in under})
        self.surplus = sorted({s for s, index in slack if index not in under})
        minutes: dict[str, int] = defaultdict(int)
        for i, value in self.best_values.items():
            if value:
                person_id, shift_id, _ = self.built.triples[i]
                minutes[person_id] += self.ctx.shifts[shift_id].minutes
        self.spare = [
            person_id
            for person_id, (shortest, most) in self.room.items()
            if most is None or minutes[person_id] + shortest <= most
        ]

    def note_improvement(self, objective: float, bound: float, filled: int) -> None:
        """Called from the solution callback: report a roster better than any seen before."""
        with self.lock:
            self._note_improvement(objective, bound, filled)

    def _note_improvement(self, objective: float, bound: float, filled: int) -> None:
        if objective < self.best_seen - 1e-9:
            self.best_seen = objective
            self.time_to_best = self.elapsed()
            if self.time_to_first is None:
                self.time_to_first = self.time_to_best
            if self.on_progress is not None:
                self.on_progress(self.time_to_best, objective, max(bound, self.bound), filled)

    # -- phases -----------------------------------------------------------------------------

    def run(self) -> Solution:
        if self.on_progress is None:
            return self._run_phases()
        beat = Heartbeat(self.on_progress, self.elapsed)
        self.on_progress = beat
        with beat:
            return self._run_phases()

    def _run_phases(self) -> Solution:
        if self.stop():
            return self._fallback()
        model = self.built.ctx.model
        if self.feasible is not None:
            # Adopt the person-by-person roster at once (a solve with the roster fixed,
            # propagation only): a first roster exists before any search.
            chosen = {(a.person, a.shift, a.role) for a in self.feasible}
            hint = {i: int(t in chosen) for i, t in self.built.triples.items()}
            completed = self._complete(model, hint)
            if completed is not None:
                self._adopt(completed[0])
                self.status = "FEASIBLE"
        if self.stop():
            return self._fallback()
        hint = self._initial_hint()
        self._hint(model, hint)
        if self.rolled and self.remaining() > 0 and not self.stop():
            # The window-by-window roster usually meets every rule: adopt it at once (a solve
            # with the roster fixed, propagation only) when it beats the incumbent.
            completed = self._complete(model, hint)
            if completed is not None:
                self._adopt(completed[0])
                self.status = "FEASIBLE"
        if self.best_values is not None:
            self._hint(model, self.best_values)
        share = 1.0 if len(self.x_indices) == 0 else FULL_MODEL_SHARE
        solver, status = self._run(model, self.remaining() * share, full=True)
        self.spent_deterministic += cp_sat_seconds(
            solver.deterministic_time, model_items(model), workers=self.workers
        )
        bounding = True  # whether the solver's bound bounds the problem
        if (
            status == cp_model.UNKNOWN
            and self.best_values is None
            and self.remaining() > 0
            and not self.stop()
        ):
            self.bound = max(self.bound, solver.best_objective_bound)
            # No roster yet: complete the hint into a full solution with the roster fixed
            # (propagation only), then the neighbourhood search starts from it.
            completed = None if self.rolled else self._complete(model, hint)
            if completed is None and not self.rolled and self.remaining() > 0:
                # the greedy hint breaks a minimum: build the roster window by window
                rolled = self._rolling()
                if rolled is not None:
                    hint = {i: int(t in rolled) for i, t in self.built.triples.items()}
                    self._hint(model, hint)
                    completed = self._complete(model, hint)
            if completed is not None:
                solver, status = completed
                bounding = False
            elif self.remaining() > 0 and not self.stop():
                # Minimum minutes are what make the hint infeasible, so go on with them
                # softened (when there are any), until the first roster.
                if any(self.ctx.limit(p, "min_minutes") for p in self.problem.people):
                    self.built = build(self.problem, elastic=True)
                    self.ctx = self.built.ctx
                    model = self.ctx.model
                    self._hint(model, hint)
                solver, status = self._run(model, self.remaining(), full=True, first_only=True)
                self.spent_deterministic += cp_sat_seconds(
                    solver.deterministic_time, model_items(model), workers=self.workers
                )
        name = solver.status_name(status)
        if bounding:
            self.bound = max(self.bound, solver.best_objective_bound)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            self._adopt(solver)
            self.status = name
        elif status in (cp_model.INFEASIBLE, cp_model.MODEL_INVALID) and self.best_values is None:
            return self._empty(name)
        if status != cp_model.OPTIMAL:
            self._neighbourhood_search()
        if self.best_values is None or self.missing_minutes:
            return self._fallback()
        if self.bound >= self.best_objective - 1e-6:
            self.status = "OPTIMAL"
        return self._solution()

    def _complete(
        self, model: cp_model.CpModel, hint: dict[int, int]
    ) -> tuple[cp_model.CpSolver, cp_model.CpSolverStatus] | None:
        """Solve ``model`` with every roster variable fixed to ``hint``; None if that fails.

        The bound of such a solve bounds only the hint, so it is not kept.
        """
        fixed = model.clone()
        clear_hints(fixed)
        for index, value in hint.items():
            domain = fixed.proto.variables[index].domain
            domain[0] = value
            domain[1] = value
        # at least a moment even when the time is up: propagation alone settles it
        solver, status = self._run(fixed, max(0.5, min(self.remaining(), 5.0)), full=False)
        self.spent_deterministic += cp_sat_seconds(solver.deterministic_time)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        return solver, cp_model.FEASIBLE

    def _initial_hint(self) -> dict[int, int]:
        """The baseline when re-solving, else a constructive roster, as x-index -> value.

        With minimum rules the roster is built window by window (:func:`rolling_roster`,
        at most ``ROLLING_SHARE`` of the budget); otherwise, or when that finds none, it is
        the quick greedy roster.
        """
        chosen = {(a.person, a.shift, a.role) for a in self.problem.baseline}
        chosen |= {(a.person, a.shift, a.role) for a in self.problem.pins}
        if not self.problem.baseline:
            rolled = None
            # Over several windows only: on one window the full-model phase does the same
            # work, and the rolling roster is kept for when that phase finds nothing.
            if not single_window(len(self.ctx.days)):
                rolled = self._rolling()
            if rolled is not None:
                chosen |= rolled
            else:
                chosen |= set(greedy_roster(self.ctx))
        return {i: int(t in chosen) for i, t in self.built.triples.items()}

    def _rolling(self) -> set[tuple[str, str, str]] | None:
        """:func:`rolling_roster` for problems with minimum rules, as triples (None: none)."""
        if not has_minimum_rules(self.problem) or not self.x_indices or self.problem.baseline:
            return None
        rolled, spent = rolling_roster(
            self.problem,
            time_limit=min(self.remaining(), ROLLING_SHARE * self.time_limit),
            workers=self.workers,
            seed=self.seed,
            stop=self.stop,
            deterministic=self.deterministic,
            # with the person-by-person roster in hand, no window is given extra time
            hard_limit=self.remaining() * (ROLLING_HARD_SHARE if self.feasible is None else 0),
        )
        self.spent_deterministic += spent
        if rolled is None:
            return None
        self.rolled = True
        pins = {(a.person, a.shift, a.role) for a in self.problem.pins}
        return pins | {(a.person, a.shift, a.role) for a in rolled}

    def _hint(self, model: cp_model.CpModel, values: dict[int, int]) -> None:
        clear_hints(model)
        for index, value in values.items():
            model.add_hint(model.get_bool_var_from_proto_index(index), value)

    def _neighbourhood_search(self) -> None:
        """Repeatedly re-optimise a small part of the incumbent with everything else fixed."""
        ctx = self.ctx
        people = sorted(ctx.shifts_of)
        horizon = len(ctx.days)
        if not people or self.best_values is None:
            return
        by_person: dict[str, list[int]] = defaultdict(list)
        by_day: dict[int, list[int]] = defaultdict(list)
        fillers: dict[str, list[str]] = defaultdict(list)
        for index, (person_id, shift_id, _) in self.built.triples.items():
            by_person[person_id].append(index)
            by_day[ctx.day_of(ctx.shifts[shift_id])].append(index)
            if person_id not in fillers[shift_id][-1:]:
                fillers[shift_id].append(person_id)
        budget = min(
            max(self.time_limit * SUB_SOLVE_SHARE, SUB_SOLVE_SECONDS[0]), SUB_SOLVE_SECONDS[1]
        )
        # Neighbourhood sizes as a fraction of the people / of the horizon; adapted below.
        # They start around NEIGHBOURHOOD_VARIABLES free variables so that a year-long roster
        # does not begin with sub-models as large as a whole small instance.
        share = NEIGHBOURHOOD_VARIABLES / max(1, len(self.x_indices))
        size = {
            "people": min(0.3, 4 / len(people) + 0.05, share),
            "days": min(1.0, 7 / horizon, share),
            "mixed": min(0.5, math.sqrt(share / 2)),
            "pair": min(1.0, 4 / horizon, share / 2),
            "union": min(1.0, 7 / horizon, share),
            "crossover": min(1.0, share),
            "long": min(1.0, 14 / horizon, 2 * share),
            # the share of the horizon's weekends re-dealt (those nearest the short post)
            "weekends": min(1.0, 2 * share),
        }
        # days of each weekend, and each person's cap on weekends worked
        weekend_days = weekends(ctx)
        caps = {
            person_id: cap
            for person_id in people
            if (cap := ctx.limit(ctx.people[person_id], "max_weekends")) is not None
        }
        # One single-worker sub-solve per worker, side by side on different neighbourhoods. On
        # the wall clock a finished worker starts on the newest incumbent at once; in
        # deterministic mode the workers go in lock-step rounds so the outcome is reproducible.
        # each sub-solve's kind, free variables and the restarts before it was launched
        running: dict[
            Future[tuple[cp_model.CpSolver, cp_model.CpSolverStatus]], tuple[str, set[int], int]
        ] = {}
        success = dict.fromkeys(NEIGHBOURHOODS, 0.5)
        initial = dict(size)
        elite = _Elite(
            self.x_indices, ELITE_SIZE, max(2, round(ELITE_SPACING * len(self.x_indices)))
        )
        elite.add(self.best_solution, self.best_objective)
        stall = STALL_SHARE * self.time_limit
        # budget used when the incumbent last improved (or the search restarted)
        progress = self.time_limit - self.remaining()
        restarts = 0
        # the model of the "cover" step under way (see _cover_model), and the attempts it has
        # left: COVER_SHARE of the time limit in sub-solve budgets, in deterministic mode
        # whole rounds of them
        cover: tuple[cp_model.CpModel, ...] | None = None
        cover_left = 0
        attempts = max(1, round(COVER_SHARE * self.time_limit / budget))
        if self.deterministic:
            attempts = -(-attempts // self.workers) * self.workers
        # the weighted shortfall the sub-solves may not exceed while they repair a cover
        # step's roster (see GUARD_COVER), None when they may
        guard: int | None = None
        # Two lines of search (see LINE_STALLS): the first roster, where a second line starts;
        # which line runs (0: the first, 1: the second) and the budget used when its pool's
        # best roster last improved.
        origin = (array("q", self.best_solution), self.best_objective)
        line = 0
        line_best = elite.best[0]
        line_progress = progress
        # the second line is relinked at the latest with this much budget left
        relink_by = stall + RELINK_BUDGETS * budget
        line_a: _Elite | None = None

        def restart() -> None:
            """Go on from another elite roster (see _Elite.farthest), with every kind of
            neighbourhood back at its first size and weight."""
            nonlocal progress
            progress = self.time_limit - self.remaining()
            target = elite.farthest(self.best_solution, RESTART_WITHIN)
            if target is None:
                return
            log.debug(
                "%6.2fs stalled at %s: restart from %s",
                self.elapsed(),
                self.best_objective,
                target[0],
            )
            go_on_from(target[3], target[0])

        def go_on_from(solution: Sequence[int], objective: float) -> None:
            """Make `solution` the incumbent, whatever its objective (the elite pool keeps the
            best), with every kind of neighbourhood back at its first size and weight."""
            nonlocal progress, restarts, guard
            restarts += 1
            guard = None
            progress = self.time_limit - self.remaining()
            self._take(solution, objective)
            size.update(initial)
            success.update(dict.fromkeys(NEIGHBOURHOODS, 0.5))

        def stalled() -> None:
            """On a stall, look for a roster covering more (a "cover" step), else restart."""
            nonlocal progress, cover, cover_left, guard
            if guard is not None:
                # the repair of a cover step's roster stalled: go on without the guard first
                log.debug("%6.2fs stalled at %s: guard lifted", self.elapsed(), self.best_objective)
                guard = None
                progress = self.time_limit - self.remaining()
                return
            cover = self._cover_model()
            if cover is None:
                restart()
                return
            cover_left = attempts
            progress = self.time_limit - self.remaining()

        def covered(solver: cp_model.CpSolver) -> bool:
            """Go on from the cover step's roster (completed and scored with the full model,
            whatever its objective), as after a restart."""
            nonlocal guard
            solution = solver.response_proto.solution
            completed = self._complete(
                self.ctx.model, {i: int(solution[i]) for i in self.x_indices}
            )
            if completed is None:
                return False
            before = self.best_objective
            full = completed[0]
            go_on_from(full.response_proto.solution, full.objective_value)
            elite.add(self.best_solution, self.best_objective)
            if GUARD_COVER:
                guard = self._shortfall(self.best_solution)
            log.debug(
                "%6.2fs stalled at %s: cover step to %s",
                self.elapsed(),
                before,
                self.best_objective,
            )
            return True

        def launch(pool: ThreadPoolExecutor) -> None:
            nonlocal cover_left, guard
            assert self.best_values is not None
            # A cover step is a series of attempts of one sub-solve budget each, with a fresh
            # seed, from the incumbent and from nothing by turns (local search finds a roster
            # within a fraction of a budget or, from that seed, not at all: see COVER_SHARE).
            # In deterministic mode every worker of a round takes one, so that no worker waits
            # idle on another's; on the wall clock one worker at a time, the others go on with
            # the search.
            attempting = "cover" in {entry[0] for entry in running.values()}
            if cover is not None and cover_left > 0 and (self.deterministic or not attempting):
                cover_left -= 1
                job = pool.submit(
                    self._run,
                    cover[cover_left % len(cover)],
                    min(budget, self.remaining()),
                    full=False,
                    first_only=True,
                    seed=self.rng.randrange(1 << 30),
                    local_search=True,
                )
                running[job] = ("cover", set(), restarts)
                return
            # Kinds that improved the roster lately are drawn more often (never below a floor).
            weights = [max(success[k], NEIGHBOURHOOD_FLOOR) for k in NEIGHBOURHOODS]
            if "weekends" in NEIGHBOURHOODS and not self._at_weekend_cap(
                caps, weekend_days, by_day
            ):
                weights[NEIGHBOURHOODS.index("weekends")] = 0.0  # no weekend to re-deal
            kind = self.rng.choices(NEIGHBOURHOODS, weights)[0]
            free = None
            if kind == "crossover":
                free = self._crossover(elite, size[kind], by_day)
                if free is None:  # no other roster held yet
                    kind = "mixed"
            if kind == "weekends":
                free = self._weekends(size[kind], horizon, weekend_days, by_day)
            if free is None:
                free = self._pick(kind, size[kind], people, horizon, by_person, by_day, fillers)
            model = self._restricted(self.best_values, free)
            if guard is not None and self._shortfall(self.best_solution) > guard:
                guard = None  # (a roster better than any held, found before the cover step)
            if guard is not None:
                self._cap_shortfall(model, guard)
            # A fresh seed per sub-solve: the same neighbourhood is searched differently.
            seed = self.rng.randrange(1 << 30)
            long = kind in ("long", "weekends") and not self.deterministic
            allowed = budget * (LONG_BUDGET_FACTOR if long else 1)
            job = pool.submit(
                self._run, model, min(allowed, self.remaining()), full=False, seed=seed
            )
            running[job] = (kind, free, restarts)

        def finish(job: Future[tuple[cp_model.CpSolver, cp_model.CpSolverStatus]]) -> float:
            kind, free, launched = running.pop(job)
            solver, status = job.result()
            nonlocal progress, cover
            before = self.best_objective
            found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
            if kind == "cover":
                if cover is not None and found and launched == restarts and covered(solver):
                    cover = None  # (the other attempts of the step are left unused)
                elif (
                    cover is not None
                    and cover_left <= 0
                    and "cover" not in {entry[0] for entry in running.values()}
                ):
                    log.debug(
                        "%6.2fs no cover step from %s (%s)",
                        self.elapsed(),
                        self.best_objective,
                        solver.status_name(status),
                    )
                    cover = None
                    restart()
                return cp_sat_seconds(solver.deterministic_time, model_items(self.ctx.model))
            # A sub-solve launched before a restart (on the wall clock) would undo it: its
            # roster is only kept in the pool, unless it beats every roster held.
            current = launched == restarts or (found and solver.objective_value < elite.best[0])
            if found and current and self._adopt(solver, ties=True):
                elite.add(self.best_solution, self.best_objective)
            elif found and not current:
                elite.add(array("q", solver.response_proto.solution), solver.objective_value)
            improved = float(self.best_objective < before)
            if improved:
                progress = self.time_limit - self.remaining()
            success[kind] = (1 - SUCCESS_MEMORY) * improved + SUCCESS_MEMORY * success[kind]
            log.debug(
                "%6.2fs %-6s size %.3f free %5d %-9s %.2fs best %s",
                self.elapsed(),
                kind,
                size[kind],
                len(free),
                solver.status_name(status),
                solver.wall_time,
                self.best_objective,
            )
            # Small neighbourhoods are solved many times faster than large ones and, while the
            # roster is far from a local optimum, improve it nearly as much: shrink a kind
            # when it improved the roster, grow it when its sub-solves prove that there is
            # nothing to gain at this size, shrink it when they run out of time.
            if improved:
                size[kind] = max(0.01, size[kind] * SHRINK_ON_IMPROVEMENT)
            elif status == cp_model.OPTIMAL:
                size[kind] = min(1.0, size[kind] * 1.15)
            else:
                size[kind] = max(0.01, size[kind] * 0.85)
            # (each sub-model is a copy of the whole model, its size)
            return cp_sat_seconds(solver.deterministic_time, model_items(self.ctx.model))

        def second_line() -> None:
            """Keep line A's pool aside and start line B from the first roster."""
            nonlocal elite, line_a, cover
            log.debug(
                "%6.2fs line A at %s: line B from %s", self.elapsed(), elite.best[0], origin[1]
            )
            line_a = elite
            elite = _Elite(self.x_indices, elite.size, elite.spacing)
            cover = None
            go_on_from(origin[0], origin[1])
            elite.add(self.best_solution, self.best_objective)

        def relink() -> float:
            """One sub-solve on the cells where the two lines' best rosters differ, from the
            better of them; both pools merged. Returns the budget it used."""
            nonlocal elite
            assert line_a is not None
            first, second = sorted([line_a.best, elite.best], key=lambda entry: entry[0])
            for entry in elite.entries:
                line_a.add(entry[3], entry[0])
            elite = line_a
            go_on_from(first[3], first[0])
            if first[2] == second[2]:
                return 0.0
            assert self.best_values is not None
            free = self._differing_variables(first[3], second[3], by_day)
            model = self._restricted(self.best_values, free)
            solver, status = self._run(
                model,
                min(RELINK_BUDGETS * budget, self.remaining()),
                full=False,
                seed=self.rng.randrange(1 << 30),
            )
            if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) and self._adopt(solver, ties=True):
                elite.add(self.best_solution, self.best_objective)
            log.debug(
                "%6.2fs relink %s and %s, free %d: %s",
                self.elapsed(),
                first[0],
                second[0],
                len(free),
                self.best_objective,
            )
            return cp_sat_seconds(solver.deterministic_time, model_items(self.ctx.model))

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            while self.remaining() > 0.2 and self.bound < elite.best[0] - 1e-6 and not self.stop():
                used = self.time_limit - self.remaining()
                if elite.best[0] < line_best:
                    line_best, line_progress = elite.best[0], used
                if (
                    line == 0
                    and used - line_progress > LINE_STALLS * stall
                    and self.remaining() > LINE_WINDOWS * stall
                ) or (line == 1 and (used - line_progress > stall or self.remaining() < relink_by)):
                    # (on the wall clock, the sub-solves under way finish on their line first)
                    for job in list(running):
                        finish(job)
                    if line == 0:
                        second_line()
                    else:
                        self.spent_deterministic += relink()
                    line = 1 - line
                    line_best, line_progress = elite.best[0], self.time_limit - self.remaining()
                    continue
                if (
                    self.time_limit - self.remaining() - progress > stall
                    and self.remaining() > stall
                    and cover is None
                    and "cover" not in {entry[0] for entry in running.values()}
                ):
                    stalled()
                if self.deterministic:
                    for _ in range(self.workers):
                        launch(pool)
                    jobs = list(running)
                    # at least a little per round, so that trivial sub-models cannot spin
                    self.spent_deterministic += max(0.01, *(finish(job) for job in jobs))
                    continue
                while len(running) < self.workers and self.remaining() > 0.2 and not self.stop():
                    launch(pool)
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for job in done:
                    finish(job)
            for job in list(running):
                finish(job)
        if line == 1 and line_a is not None:  # stopped on line B: line A's rosters count too
            for entry in line_a.entries:
                elite.add(entry[3], entry[0])
        best = elite.best
        if best[0] < self.best_objective:
            self._take(best[3], best[0])

    def _cover_model(self) -> tuple[cp_model.CpModel, cp_model.CpModel] | None:
        """The whole model without its objective and with the weighted shortfall below the
        incumbent's, hinted with the incumbent and, a copy, with no hint (None when there is
        nothing to cover, or the incumbent breaks a minimum).

        On a plateau where one post more could be covered only by re-dealing most people's
        runs, days off and weekends over the whole horizon (Instance5: the nearest better
        roster differs from a stuck one in 11 of 16 people), no neighbourhood that one
        sub-solve proves holds the move, and a whole-model search is steered by the smaller
        weights (requests) towards the rosters it already has. Without the objective, local
        search (feasibility jump, from the hint) finds such a roster within about a second;
        the neighbourhood search then repairs what it costs in the smaller weights. Some such
        rosters are traps even for that: every roster covering more differs from them so much
        that local search from them finds none, while from no hint it finds one in about one
        attempt in ten (Instance5's rosters stuck at 1244 and 1246: 0 of 20 seeds from the
        roster within a 1.2 s sub-solve budget, 3 of 30 from nothing), hence the copy.
        """
        if not self.short or self.missing_minutes or self.ctx.elastic:
            return None
        current = self._shortfall(self.best_solution)
        if current <= 0:
            return None
        blank = self.ctx.model.clone()
        clear_hints(blank)
        # OR-Tools leaves CpModel.clear_objective unannotated (as clear_hints, solver.build)
        blank.clear_objective()  # type: ignore[no-untyped-call]
        self._cap_shortfall(blank, current - 1)
        model = blank.clone()
        hint = model.proto.solution_hint
        hint.vars.extend(range(len(self.best_solution)))
        hint.values.extend(self.best_solution)
        return model, blank

    def _under_weights(self) -> list[tuple[int, int]]:
        """(model index, objective weight) of each shortfall variable the objective weighs
        (found once per model: while a cover step's cover is guarded, every launch asks)."""
        if self.under_source is not self.ctx.model:
            objective = self.ctx.model.proto.objective
            weights = dict(zip(objective.vars, objective.coeffs, strict=True))
            shortfall = self.ctx.shortfall.values()
            under = [(var.index, weights.get(var.index, 0)) for var, _ in shortfall]
            self.under = [(index, weight) for index, weight in under if weight > 0]
            self.under_source = self.ctx.model
        return self.under

    def _shortfall(self, solution: Sequence[int]) -> int:
        """The weighted shortfall of ``solution`` (a value per model variable)."""
        return sum(weight * solution[index] for index, weight in self._under_weights())

    def _cap_shortfall(self, model: cp_model.CpModel, most: int) -> None:
        """Ask ``model`` (a copy of the whole model) for a weighted shortfall of at most
        ``most``."""
        model.add(
            sum(
                weight * model.get_int_var_from_proto_index(index)
                for index, weight in self._under_weights()
            )
            <= most
        )

    def _restricted(self, incumbent: dict[int, int], free: set[int]) -> cp_model.CpModel:
        """A copy of the model with every x outside ``free`` fixed to the incumbent's value.

        The copy is taken from a template that already has every x fixed, kept in step with
        the incumbent by refixing only the x that changed, so that building a neighbourhood
        costs time in proportion to its free variables rather than to the whole model.
        """
        model = self._fixed_template(incumbent).clone()
        variables = model.proto.variables
        for index in sorted(free):
            low, high = self.x_domains[index]
            domain = variables[index].domain
            domain[0] = low
            domain[1] = high
            model.add_hint(model.get_bool_var_from_proto_index(index), incumbent[index])
        return model

    def _fixed_template(self, incumbent: dict[int, int]) -> cp_model.CpModel:
        """The model without hints and with every x fixed to ``incumbent`` (see _restricted)."""
        if self.template is None or self.template_source is not self.ctx.model:
            # first call, or the model was rebuilt (elastic)
            self.template = self.ctx.model.clone()
            clear_hints(self.template)
            self.template_source = self.ctx.model
            self.template_values = {}
            variables = self.template.proto.variables
            self.x_domains = {}
            for index in self.x_indices:
                domain = variables[index].domain
                # (the proto's repeated fields do not index from the end)
                self.x_domains[index] = (domain[0], domain[len(domain) - 1])
        variables = self.template.proto.variables
        fixed = self.template_values
        for index, value in incumbent.items():
            if fixed.get(index) != value:
                domain = variables[index].domain
                domain[0] = value
                domain[1] = value
                fixed[index] = value
        return self.template

    def _pick(
        self,
        kind: str,
        fraction: float,
        people: Sequence[str],
        horizon: int,
        by_person: dict[str, list[int]],
        by_day: dict[int, list[int]],
        fillers: dict[str, list[str]],
    ) -> set[int]:
        """Variable indices left free in the next neighbourhood.

        Half the time the neighbourhood is centred on a post the incumbent under- or
        over-covers: its day lies in the window and the people who could fill it are among
        those freed, since repairing cover is where most of the objective is won.
        """
        rng = self.rng
        focus = None
        if self.deficient and rng.random() < FOCUS_PROBABILITY:
            focus = self.ctx.shifts[rng.choice(self.deficient)]

        def choose_people(count: int) -> list[str]:
            count = min(count, len(people))
            chosen: list[str] = []
            if focus is not None:
                near = fillers.get(focus.id, [])
                chosen = rng.sample(near, min(len(near), max(1, count // 2)))
            others = [p for p in people if p not in set(chosen)]
            return chosen + rng.sample(others, min(len(others), count - len(chosen)))

        def choose_window(length: int) -> range:
            length = min(length, horizon)
            if focus is None:
                first = rng.randrange(horizon - length + 1)
            else:
                day = self.ctx.day_of(focus)
                first = min(max(0, day - rng.randrange(length)), horizon - length)
            return range(first, first + length)

        if kind == "people":
            chosen = choose_people(max(2, round(fraction * len(people))))
            return {i for p in chosen for i in by_person[p]}
        if kind == "days":
            window = choose_window(max(2, round(fraction * horizon)))
            return {i for d in window for i in by_day[d]}
        if kind == "pair":
            return self._pair(max(2, round(fraction * horizon)), horizon, by_day)
        if kind == "union":
            return self._union(
                max(2, round(fraction * horizon)), people, horizon, by_person, by_day, fillers
            )
        if kind == "long":
            return self._long(max(2, round(fraction * horizon)), horizon, by_day)
        window = choose_window(max(3, round(fraction * horizon)))
        inside = {i for d in window for i in by_day[d]}
        chosen = choose_people(max(2, round(min(1.0, 2 * fraction) * len(people))))
        return {i for p in chosen for i in by_person[p]} & inside

    def _pair(self, length: int, horizon: int, by_day: dict[int, list[int]]) -> set[int]:
        """Everybody over two windows of days: one around a post the incumbent under-covers,
        one around a post it over-covers (random days when there is none).

        People's totals are fixed outside a neighbourhood, so a single window can only move
        cover between its own days; two windows let a shift move from a post with people to
        spare to one that lacks them, however far apart they are.
        """
        rng = self.rng
        length = min(length, horizon)

        def around(posts: list[str]) -> int:
            if not posts:
                return rng.randrange(horizon - length + 1)
            day = self.ctx.day_of(self.ctx.shifts[rng.choice(posts)])
            return min(max(0, day - rng.randrange(length)), horizon - length)

        days = set(range(first := around(self.short), first + length))
        days |= set(range(second := around(self.surplus), second + length))
        return {i for d in days for i in by_day[d]}

    def _long(self, length: int, horizon: int, by_day: dict[int, list[int]]) -> set[int]:
        """Everybody over a long window of days that holds a post the incumbent under-covers
        (random days when there is none), searched with ``LONG_BUDGET_FACTOR`` budgets.

        When total capacity is tight, the cover of a post that few people may work (a weekend
        post that only people below their maximum weekends could take) grows only when
        somebody's whole pattern of runs and days off shifts, and the others' patterns shift
        with it to keep every other post covered: a chain of changes over most of the horizon
        and many people, which neither a short window nor a few people contain. Half the time
        the window touches an end of the horizon when it can (runs at either end have no
        minimum length, so such a window can move more), else it lies at random around the post.
        """
        rng = self.rng
        length = min(length, horizon)
        if not self.short:
            first = rng.randrange(horizon - length + 1)
        else:
            day = self.ctx.day_of(self.ctx.shifts[rng.choice(self.short)])
            low, high = max(0, day - length + 1), min(day, horizon - length)
            ends = [f for f in (0, horizon - length) if low <= f <= high]
            first = rng.choice(ends) if ends and rng.random() < 0.5 else rng.randint(low, high)
        return {i for d in range(first, first + length) for i in by_day[d]}

    def _at_weekend_cap(
        self,
        caps: dict[str, int | float],
        weekend_days: list[list[int]],
        by_day: dict[int, list[int]],
    ) -> bool:
        """Whether somebody works as many weekends as they may in the incumbent."""
        if not caps or self.best_values is None:
            return False
        worked: dict[str, set[int]] = defaultdict(set)
        triples = self.built.triples
        for number, days in enumerate(weekend_days):
            for d in days:
                for i in by_day.get(d, ()):
                    if self.best_values[i]:
                        worked[triples[i][0]].add(number)
        return any(len(worked[p]) >= cap for p, cap in caps.items())

    def _weekends(
        self,
        fraction: float,
        horizon: int,
        weekend_days: list[list[int]],
        by_day: dict[int, list[int]],
    ) -> set[int]:
        """Everybody on the weekends nearest a post the incumbent under-covers (``fraction``
        of the horizon's weekends) and the days beside them, plus everybody on the post's day
        and the days beside it (random days when there is none).

        When people are at their maximum weekends, covering one more post often means that
        somebody gives up a weekend and somebody else takes it: who works which weekend is
        re-dealt across the whole horizon, which no window of days and no few people hold.
        The weekdays far from a weekend stay fixed, so the sub-model stays small.
        """
        rng = self.rng
        if self.short:
            day = self.ctx.day_of(self.ctx.shifts[rng.choice(self.short)])
        else:
            day = rng.randrange(horizon)
        count = max(1, round(fraction * len(weekend_days)))
        nearest = sorted(weekend_days, key=lambda days: (min(abs(d - day) for d in days), days[0]))[
            :count
        ]
        chosen = {d for days in nearest for d in range(days[0] - 1, days[-1] + 2)}
        chosen |= {day - 1, day, day + 1}
        return {i for d in chosen for i in by_day.get(d, ())}

    def _union(
        self,
        length: int,
        people: Sequence[str],
        horizon: int,
        by_person: dict[str, list[int]],
        by_day: dict[int, list[int]],
        fillers: dict[str, list[str]],
    ) -> set[int]:
        """Everybody over a window around a post the incumbent under-covers, plus a few people
        with room for one more shift over the whole horizon, the last of them replaced by
        someone whose run the post would extend when there is one (see :meth:`_extenders`).

        Cover can only grow where someone works more: a person below their maximum minutes
        may take the missing post only by reshaping their whole roster (runs, days off,
        weekends), while the others in the window make room around it.
        """
        rng = self.rng
        length = min(length, horizon)
        focus = self.ctx.shifts[rng.choice(self.short)] if self.short else None
        if focus is None:
            first = rng.randrange(horizon - length + 1)
        else:
            day = self.ctx.day_of(focus)
            first = min(max(0, day - rng.randrange(length)), horizon - length)
        free = {i for d in range(first, first + length) for i in by_day[d]}
        spare = set(self.spare)
        pool = [p for p in fillers.get(focus.id, []) if p in spare] if focus is not None else []
        pool = pool or sorted(spare) or list(people)
        chosen = rng.sample(pool, min(len(pool), UNION_PEOPLE))
        extenders = self._extenders(focus, fillers, by_day) if focus is not None else []
        extenders = [p for p in extenders if p not in chosen]
        if extenders and len(chosen) > 1:
            # one of them someone whose run the post would extend (see _extenders)
            chosen[-1] = rng.choice(extenders)
        for person_id in chosen:
            indices = by_person[person_id]
            if len(indices) <= NEIGHBOURHOOD_VARIABLES:
                free.update(indices)
                continue
            # a long horizon: the person's days around the window only, so that the
            # neighbourhood stays small enough to be solved
            reach = max(length, round(horizon * NEIGHBOURHOOD_VARIABLES / len(indices)))
            start = max(0, first + length // 2 - reach // 2)
            days = range(start, start + reach)
            shifts = self.ctx.shifts
            triples = self.built.triples
            free.update(i for i in indices if self.ctx.day_of(shifts[triples[i][1]]) in days)
        return free

    def _extenders(
        self, focus: Shift, fillers: dict[str, list[str]], by_day: dict[int, list[int]]
    ) -> list[str]:
        """People who may work ``focus`` and work the day before or after it but not its day.

        When capacity is tight (on Instance8 every roster, good or bad, uses all 67
        person-weekends and every post left short is a weekend post), a short post is filled
        by someone growing a run onto it and, at their maximum, dropping a shift elsewhere that
        somebody with room takes: freed over the whole horizon beside a person with room
        ("union"), both moves are in one sub-solve. Measured (deterministic 60 s, seeds 0-3):
        "union" improved the roster in 35 % of its sub-solves instead of 27 %, and Instance8
        ended at 1548/1570/1435/1558 instead of 1552/1736/1454/1649.
        """
        if self.best_values is None:  # no roster yet: nobody works
            return []
        ctx = self.ctx
        day = ctx.day_of(focus)
        triples = self.built.triples
        # the days each person works of the post's day and the two beside it
        worked: dict[str, set[int]] = defaultdict(set)
        for d in (day - 1, day, day + 1):
            for i in by_day.get(d, ()):
                if self.best_values[i]:
                    worked[triples[i][0]].add(d)
        return [
            p
            for p in fillers.get(focus.id, [])
            if day not in worked[p] and (day - 1 in worked[p] or day + 1 in worked[p])
        ]

    def _crossover(
        self, elite: _Elite, fraction: float, by_day: dict[int, list[int]]
    ) -> set[int] | None:
        """The cells (a person's shifts of one day) where the incumbent and another kept
        roster differ, up to ``fraction`` of the roster variables (a run of such days from a
        random one); None when the pool holds no other roster.

        Path relinking: what two good rosters agree on is likely right, so only where they
        disagree is searched, the best mix of the two (or better) in one sub-solve.
        """
        rng = self.rng
        key = elite.key(self.best_solution)
        others = [entry for entry in elite.entries if entry[2] != key]
        if not others:
            return None
        cells = self._differing_cells(self.best_solution, rng.choice(others)[3])
        triples = self.built.triples
        days = sorted(cells)
        limit = max(2, round(fraction * len(self.x_indices)))
        first = rng.randrange(len(days))
        free: set[int] = set()
        for day in days[first:] + days[:first]:
            if len(free) >= limit:
                break
            free.update(i for i in by_day[day] if triples[i][0] in cells[day])
        return free

    def _differing_cells(self, first: Sequence[int], second: Sequence[int]) -> dict[int, set[str]]:
        """The cells (a person's shifts of one day) on which two rosters (a value per model
        variable) differ: the people of each day."""
        triples = self.built.triples
        cells: dict[int, set[str]] = defaultdict(set)
        for index in self.x_indices:
            if first[index] != second[index]:
                person_id, shift_id, _ = triples[index]
                cells[self.ctx.day_of(self.ctx.shifts[shift_id])].add(person_id)
        return cells

    def _differing_variables(
        self, first: Sequence[int], second: Sequence[int], by_day: dict[int, list[int]]
    ) -> set[int]:
        """The roster variables of every cell on which two rosters differ."""
        triples = self.built.triples
        cells = self._differing_cells(first, second)
        return {i for day, who in cells.items() for i in by_day[day] if triples[i][0] in who}

    # -- results ----------------------------------------------------------------------------

    def _fallback(self) -> Solution:
        """The best constructive roster :func:`solver.check` accepts, or no roster ("UNKNOWN").

        Tried: the greedy roster (with the pins), the baseline (with the pins) and the
        ``construct`` roster given to :func:`solve_flat`.
        """
        pins = {(a.person, a.shift, a.role) for a in self.problem.pins}
        candidates: list[set[tuple[str, str, str]]] = [pins | set(greedy_roster(self.ctx))]
        if self.feasible is not None:
            candidates.append({(a.person, a.shift, a.role) for a in self.feasible})
        if self.problem.baseline:
            candidates.append(pins | {(a.person, a.shift, a.role) for a in self.problem.baseline})
        if self.construct is not None:
            try:
                candidates.append({(a.person, a.shift, a.role) for a in self.construct()})
            except Exception:  # a fallback must not turn "no roster yet" into a crash
                log.exception("the constructive roster failed in the fallback")
        best: tuple[tuple[Assignment, ...], CheckReport] | None = None
        for triples in candidates:
            assignments = tuple(Assignment(*t) for t in sorted(triples))
            report = check(self.problem, assignments)
            if report.ok and (best is None or report.objective < best[1].objective):
                best = (assignments, report)
        if best is None:
            return self._empty("UNKNOWN")
        assignments, report = best
        with self.lock:
            missing = sum(report.unfilled.values())
            self._note_improvement(report.objective, self.bound, self.required_posts - missing)
        return Solution(
            status="FEASIBLE",
            assignments=assignments,
            objective=report.objective,
            bound=None if self.bound == -math.inf else math.ceil(self.bound - 1e-6),
            breakdown=report.breakdown,
            unfilled=tuple(
                UnfilledPost(shift=s, role=r, missing=m) for (s, r), m in report.unfilled.items()
            ),
            wall_time=self.elapsed(),
            time_to_best=self.elapsed(),
            time_to_first=self.time_to_first,
        )

    def _empty(self, status: str) -> Solution:
        return Solution(
            status=status,
            assignments=(),
            objective=None,
            bound=None,
            breakdown={},
            unfilled=(),
            wall_time=self.elapsed(),
            time_to_best=0.0,
        )

    def _solution(self) -> Solution:
        assert self.best_values is not None
        assignments = tuple(
            Assignment(*self.built.triples[i]) for i in self.x_indices if self.best_values[i]
        )
        report = check(self.problem, assignments)
        assert report.ok, f"solver returned a roster that check rejects: {report.violations[:3]}"
        assert report.objective <= round(self.best_objective) + 1e-6, (
            f"check scores the roster {report.objective}, CP-SAT {self.best_objective}"
        )
        return Solution(
            status=self.status,
            assignments=assignments,
            objective=report.objective,
            bound=None if self.bound == -math.inf else math.ceil(self.bound - 1e-6),
            breakdown=report.breakdown,
            unfilled=tuple(
                UnfilledPost(shift=s, role=r, missing=m) for (s, r), m in report.unfilled.items()
            ),
            wall_time=self.elapsed(),
            time_to_best=self.time_to_best,
            time_to_first=self.time_to_first,
        )


class _Elite:
    """The ``size`` best distinct rosters of a search, each as (objective, order of arrival,
    its roster variables' values, every model variable's value), best (then oldest) first.

    Rosters closer than ``spacing`` roster variables to one another count as one: the pool
    keeps the better of them (see :meth:`add`).
    """

    def __init__(self, x_indices: Sequence[int], size: int, spacing: int = 1) -> None:
        self.x_indices = x_indices
        self.size = size
        self.spacing = spacing
        self.entries: list[tuple[float, int, bytes, array[int]]] = []
        self.arrivals = 0

    def key(self, solution: Sequence[int]) -> bytes:
        return bytes(solution[i] for i in self.x_indices)

    @staticmethod
    def distance(first: bytes, second: bytes) -> int:
        """The number of roster variables (each 0 or 1) on which two keys differ."""
        return (int.from_bytes(first, "little") ^ int.from_bytes(second, "little")).bit_count()

    @property
    def best(self) -> tuple[float, int, bytes, array[int]]:
        return self.entries[0]

    def add(self, solution: array[int], objective: float) -> None:
        """Keep ``solution`` if it is among the best and no roster near it is as good.

        A roster held already keeps the lower of its two objectives (a sub-solve stopped early
        may have reported a higher one); a roster within ``spacing`` of kept ones replaces
        them when it is better than all of them, and is dropped otherwise.
        """
        key = self.key(solution)
        near = [entry for entry in self.entries if self.distance(entry[2], key) < self.spacing]
        if any(entry[0] <= objective for entry in near):
            return
        same = [entry for entry in near if entry[2] == key]
        if same:
            arrival = same[0][1]
        else:
            self.arrivals += 1
            arrival = self.arrivals
        self.entries = [entry for entry in self.entries if entry not in near]
        self.entries.append((objective, arrival, key, array("q", solution)))
        self.entries.sort(key=lambda entry: entry[:2])
        del self.entries[self.size :]

    def farthest(
        self, solution: Sequence[int], within: float = math.inf
    ) -> tuple[float, int, bytes, array[int]] | None:
        """The kept roster that differs from ``solution`` in the most roster variables (the
        best of equals) among those within ``within`` (a share) of the best objective held;
        the best other roster when none is that close; None when there is no other."""
        key = self.key(solution)
        others = [entry for entry in self.entries if entry[2] != key]
        if not others:
            return None
        best = self.entries[0][0]
        close = [entry for entry in others if entry[0] <= best + within * abs(best)]
        if not close:
            return others[0]
        return max(close, key=lambda entry: (self.distance(entry[2], key), -entry[0]))


class _Reporter(cp_model.CpSolverSolutionCallback):
    """Forwards every improving roster of any CP-SAT call to the search's progress hook."""

    def __init__(self, search: _Search, *, full: bool, report: bool = True) -> None:
        super().__init__()
        self.search = search
        # A sub-model's bound only bounds that neighbourhood, not the problem.
        self.full = full
        self.report = report

    def on_solution_callback(self) -> None:
        search = self.search
        if self.report and not any(self.value(var) for var in search.ctx.deficits):
            # (a roster breaking a minimum, in the elastic model, is not one to report)
            missing = sum(self.value(var) for var, _ in search.ctx.shortfall.values())
            bound = self.best_objective_bound if self.full else -math.inf
            search.note_improvement(self.objective_value, bound, search.required_posts - missing)
        if search.stop():
            self.stop_search()
