"""Long horizons with minimum rules: a search that never builds the whole model.

A year of 150 people with minimum minutes and minimum runs is millions of literals as one
CP-SAT model: building it alone takes much of a minute and gigabytes, and every neighbourhood
copied from it costs as much again. :func:`solve_windowed` works on windows of days instead:

1. the first roster is :func:`solver.feasible.feasible_roster`'s, built person by person
   (every hard rule kept, no clock); :func:`solver.construct.rolling_roster`'s, built window by
   window within a share of the budget, replaces it when it is better;
2. then, until the time is up, a window of days (around a post that is under- or over-covered
   or a day of someone still short of their minimum, half the time) is re-solved as a problem
   of its own (:func:`solver.construct.window_problem`): the freed people's assignments in
   the window are free, everything else inside is pinned, everything outside is summed into
   each person's remaining totals, and a week or more of pinned context on both sides keeps
   every run and 7-day rule crossing the window's edges whole. Minimum minutes are softened
   with :mod:`solver.rules.totals`' elastic weight, so a first roster still short of them is
   driven up to them. The new window replaces the old one when its objective is no worse
   (ties taken, to cross plateaus); windows grow while their sub-solves finish and shrink
   when they run out of time.

Only a roster :func:`solver.check` accepts is returned (status "FEASIBLE"), never one worse
than the person-by-person roster; if even that does not exist the status is "UNKNOWN" with no
assignments. Every phase but that construction is bounded by the time limit: the cover moves
and the construction window by window ask it between steps, every sub-solve is given what is
left, and the end keeps 1.5 times the slowest check of the whole roster seen. With
``deterministic`` the limit is counted by :class:`solver.budget.Budget`: CP-SAT's deterministic
time plus a charge for every phase's Python work, so that the wall time stays near the limit.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections import defaultdict

from ortools.sat.python import cp_model

from solver.budget import CP_SAT_UNITS_PER_SECOND, Budget, cp_sat_seconds, model_items, work
from solver.build import build, candidate_choices
from solver.check import CheckReport, check
from solver.construct import history_days, rolling_roster, window_problem
from solver.feasible import feasible_roster, improve_cover
from solver.model import Assignment, Problem, Solution, UnfilledPost
from solver.progress import Heartbeat, ProgressCallback, StopCallback, Stopper
from solver.rules.totals import ELASTIC_WEIGHT

__all__ = ["solve_windowed"]

log = logging.getLogger(__name__)

# Share of the budget for the first roster, and the most it may take when a window needs more.
FIRST_SHARE = 0.15
FIRST_HARD_SHARE = 0.6
# Days freed per neighbourhood at first (adapted), and the candidate choices (free people x
# their shifts in the window) a neighbourhood aims at: people are sampled to stay near it.
START_DAYS = 14
FREE_CHOICES = 6_000
SUB_SOLVE_SECONDS = (0.5, 4.0)
# Share of the neighbourhoods that free everybody over a short window (see _search).
EVERYBODY_SHARE = 0.5
# Kept for the end: checking the roster and building the solution (at least).
FINISH_SECONDS = 1.0
# The cover of the first roster is improved until this share of the budget is left.
COVER_SHARE = 0.5
# Work charged in deterministic mode (units of solver.budget.work's items): the person-by-
# person roster per candidate choice, a check per assignment, a step of improve_cover, and a
# neighbourhood's bookkeeping over the whole roster per assignment.
FEASIBLE_ITEMS_PER_CHOICE = 7
CHECK_ITEMS_PER_ASSIGNMENT = 10
COVER_STEP_ITEMS = 700
ROSTER_ITEMS_PER_ASSIGNMENT = 4


def solve_windowed(
    problem: Problem,
    *,
    time_limit: float,
    workers: int = 2,
    seed: int = 0,
    on_progress: ProgressCallback | None = None,
    deterministic: bool = False,
    should_stop: StopCallback | None = None,
) -> Solution:
    """Roster ``problem`` window by window (see the module doc), with :func:`solver.solve`'s
    arguments and promises."""
    if time_limit <= 0:
        raise ValueError("time_limit must be positive")
    search = _Windowed(problem, time_limit, workers, seed, on_progress, deterministic, should_stop)
    if on_progress is None:
        return search.run()
    beat = Heartbeat(on_progress, search.elapsed)
    search.on_progress = beat
    with beat:
        return search.run()


class _Windowed:
    def __init__(
        self,
        problem: Problem,
        time_limit: float,
        workers: int,
        seed: int,
        on_progress: ProgressCallback | None,
        deterministic: bool,
        should_stop: StopCallback | None,
    ) -> None:
        self.budget = Budget(time_limit, deterministic=deterministic)
        self.problem = problem
        self.time_limit = time_limit
        self.workers = max(1, workers)
        self.seed = seed
        self.on_progress = on_progress
        self.deterministic = deterministic
        self.stop = Stopper(should_stop)
        self.rng = random.Random(seed)
        self.days = problem.days
        self.horizon = len(self.days)
        self.day_index = {d: i for i, d in enumerate(self.days)}
        self.shifts = problem._shift_index()
        self.posts = sum(d.min for s in problem.shifts for d in s.demands)
        self.choices = candidate_choices(problem)
        # shifts and posts a pass over the whole problem walks (charged per pass)
        self.items = len(problem.shifts) + len(problem.people)
        # time kept for the end (the last check and the solution), raised to 1.5 times the
        # slowest check seen
        self.reserve = FINISH_SECONDS
        # the dearest check seen (1.5 times the slowest), charged to a phase that ends in one
        self.check_cost = 0.0
        # the last roster checked and its report: the end re-uses it when it is unchanged
        self.last_checked: tuple[Assignment, ...] | None = None
        self.last_report: CheckReport | None = None
        self.solved = 0.0  # seconds the last neighbourhood's CP-SAT calls took
        self.neighbourhoods = 0
        self.time_to_first: float | None = None
        self.time_to_best = 0.0

    def elapsed(self) -> float:
        return self.budget.elapsed()

    def remaining(self) -> float:
        return self.budget.remaining()

    def out_of_time(self) -> bool:
        """Whether a phase must stop now: asked for, or the time is up (the end's reserve
        kept). Constructive phases ask it between steps, so they stop at the deadline too."""
        return self.stop() or self.remaining() <= self.reserve

    def checked(self, current: dict[tuple[str, str], str]) -> CheckReport:
        """check() of the roster, charged (deterministic) and timed: the end keeps enough
        time for one more."""
        started = self.budget.clock()
        assignments = self._assignments(current)
        report = check(self.problem, assignments)
        cost = work(items=CHECK_ITEMS_PER_ASSIGNMENT * len(current) + self.items)
        self.budget.charge(cost)
        took = cost if self.deterministic else self.budget.clock() - started
        self.check_cost = max(self.check_cost, 1.5 * took)
        self.reserve = max(self.reserve, FINISH_SECONDS + self.check_cost)
        self.last_checked, self.last_report = assignments, report
        return report

    def final_check(self, current: dict[tuple[str, str], str]) -> CheckReport:
        """check() of the roster returned, or the last check's report when that was of this
        very roster (a late first roster is not checked twice over the limit)."""
        if self.last_report is not None and self._assignments(current) == self.last_checked:
            return self.last_report
        return self.checked(current)

    def day_of(self, shift_id: str) -> int:
        day = self.shifts[shift_id].day
        assert day is not None
        return self.day_index[day]

    # -- the search -------------------------------------------------------------------------

    def run(self) -> Solution:
        problem = self.problem
        # First a roster meeting every hard rule, built person by person (no search, no
        # clock: it is the floor of the result, so it is built whatever the time left).
        feasible = feasible_roster(problem, problem.baseline, polish=False)
        self.budget.charge(work(items=FEASIBLE_ITEMS_PER_CHOICE * self.choices))
        current = {(a.person, a.shift): a.role for a in feasible or problem.pins}
        report = self.checked(current)
        self._phase("first roster")
        self.penalty = float(report.objective)
        self.short = self._short(current)
        if report.ok:
            self._note(current)
        if feasible is not None and not self.out_of_time():
            # then its cover, people moved within the days they work, until COVER_SHARE of
            # the budget is left for the rest (each step charged, so deterministic too)
            def cover_stop() -> bool:
                self.budget.charge(work(items=COVER_STEP_ITEMS))
                # its roster is checked after it, and the end's check follows
                return self.stop() or self.remaining() <= max(
                    COVER_SHARE * self.time_limit, self.reserve + self.check_cost
                )

            covered = improve_cover(problem, feasible, stop=cover_stop)
            if covered != feasible:  # an unchanged roster keeps its report: no second check
                feasible = covered
                current = {(a.person, a.shift): a.role for a in feasible}
                report = self.checked(current)
                if report.objective < self.penalty:
                    self.penalty = float(report.objective)
                    self._note(current)
            self._phase("cover")
        # the rolling roster is checked after it (and the end checks the result)
        if self.remaining() > self.reserve + self.check_cost and not self.stop():
            roster, spent = rolling_roster(
                problem,
                time_limit=min(
                    self.remaining() - self.reserve - self.check_cost,
                    FIRST_SHARE * self.time_limit,
                ),
                # with a roster in hand a window that finds nothing is not worth more time
                hard_limit=min(
                    self.remaining() - self.reserve - self.check_cost,
                    (FIRST_SHARE if report.ok else FIRST_HARD_SHARE) * self.time_limit,
                ),
                workers=self.workers,
                seed=self.seed,
                # the wall-clock backstop of a deterministic run, and should_stop
                stop=lambda: self.stop() or self.remaining() <= 0,
                deterministic=self.deterministic,
                deadline=time.monotonic() + self.budget.wall_left() if self.deterministic else None,
            )
            self.budget.charge(spent)
            self._phase("rolling roster")
            if roster is not None:
                rolled = {(a.person, a.shift): a.role for a in roster}
                second = self.checked(rolled)
                if not report.ok or (second.ok and second.objective < report.objective):
                    current, report = rolled, second
                    self.penalty = float(report.objective)
                    self.short = self._short(current)
                    if report.ok:
                        self._note(current)
        self._search(current)
        self._phase("search")
        final = self.final_check(current)
        if not final.ok:
            if feasible is None:
                return self._empty()
            current = {(a.person, a.shift): a.role for a in feasible}
            final = self.final_check(current)
        return Solution(
            status="FEASIBLE",
            assignments=self._assignments(current),
            objective=final.objective,
            bound=None,
            breakdown=final.breakdown,
            unfilled=tuple(
                UnfilledPost(shift=s, role=r, missing=m) for (s, r), m in final.unfilled.items()
            ),
            wall_time=self.elapsed(),
            time_to_best=self.time_to_best,
            time_to_first=self.time_to_first,
        )

    def _search(self, current: dict[tuple[str, str], str]) -> None:
        problem = self.problem
        people = [p.id for p in problem.people]
        history = history_days(problem)
        length = float(min(START_DAYS, self.horizon))
        budget = min(max(self.time_limit * 0.02, SUB_SOLVE_SECONDS[0]), SUB_SOLVE_SECONDS[1])
        # rough candidate choices per person per day
        per_day = {
            p.id: max(1, len(p.available)) / max(1, self.horizon) * max(1, len(p.roles))
            for p in problem.people
        }
        everybody = sum(per_day.values())
        # the bookkeeping of one neighbourhood outside CP-SAT (window problem, model, passes
        # over the roster): charged in deterministic mode, timed on the wall clock, and kept
        # in hand so that the last neighbourhood still ends before the deadline
        overhead = 0.2
        while self.remaining() > self.reserve + overhead and not self.stop():
            self.neighbourhoods += 1
            began = time.monotonic()
            spent_before = self.budget.spent
            days = max(2, min(self.horizon, round(length)))
            if self.rng.random() < EVERYBODY_SHARE:
                # everybody over the few days that keep the sub-model near FREE_CHOICES: the
                # moves between people on the same days that fill a short post
                days = max(2, min(days, round(FREE_CHOICES / max(1.0, everybody))))
            centre = self._centre(current)
            first_free = min(max(0, centre - self.rng.randrange(days)), self.horizon - days)
            free_days = range(first_free, first_free + days)
            capacity = sum(per_day[p] for p in people) * days
            if capacity <= FREE_CHOICES:
                free_people = None
            else:
                count = max(2, round(len(people) * FREE_CHOICES / capacity))
                free_people = set(self.rng.sample(people, min(count, len(people))))
            first = max(0, first_free - history)
            end = min(self.horizon, free_days.stop + history)
            window = window_problem(
                problem,
                self._assignments(current),
                first,
                end,
                free_days,
                free_people,
            )
            self.budget.charge(
                work(items=ROSTER_ITEMS_PER_ASSIGNMENT * len(current) + 2 * self.items)
            )
            outcome = self._improve(window.problem, window.freed, window.pins, budget, overhead)
            solved = self.solved
            python = (
                self.budget.spent - spent_before - solved
                if self.deterministic
                else time.monotonic() - began - solved
            )
            overhead = max(0.05, python)
            if outcome is None:
                length = max(2.0, length * 0.85)
                continue
            delta, new, optimal = outcome
            length = min(float(self.horizon), length * (1.15 if optimal else 0.85))
            for a in window.freed:
                del current[(a.person, a.shift)]
            for a in new:
                current[(a.person, a.shift)] = a.role
            short = self._short(current)
            self.penalty += delta - ELASTIC_WEIGHT * (short - self.short)
            self.short = short
            if delta < 0 or self.time_to_first is None:
                self._note(current)

    def _phase(self, name: str) -> None:
        log.debug(
            "%s done at %.2fs wall, %.2fs CPU, %.2f budget seconds spent, %d neighbourhoods",
            name,
            self.elapsed(),
            time.process_time(),
            self.budget.spent,
            self.neighbourhoods,
        )

    def _centre(self, current: dict[tuple[str, str], str]) -> int:
        """A day to centre the next window on: half the time a day with a post under- or
        over-covered, else any day."""
        if self.rng.random() < 0.5:
            count: dict[tuple[str, str], int] = defaultdict(int)
            for (_, shift_id), role in current.items():
                count[(shift_id, role)] += 1
            gaps = [
                s.id
                for s in self.problem.shifts
                for d in s.demands
                if count[(s.id, d.role)] != d.min
                and not (d.min <= count[(s.id, d.role)] <= d.upper)
            ]
            if gaps:
                return self.day_of(self.rng.choice(gaps))
        return self.rng.randrange(self.horizon)

    def _improve(
        self,
        sub: Problem,
        freed: list[Assignment],
        pins: list[Assignment],
        budget: float,
        overhead: float,
    ) -> tuple[float, list[Assignment], bool] | None:
        """Re-solve a window within ``budget`` (less what the deadline leaves after
        ``overhead`` for the bookkeeping); (objective change, new freed assignments, proven
        optimal) when the result is no worse than the incumbent, else None. ``self.solved`` is
        set to the time the CP-SAT calls took (deterministic or wall seconds)."""
        self.solved = 0.0
        built = build(sub, elastic=True)
        model = built.ctx.model
        self.budget.charge(
            work(model_items=len(model.proto.variables) + len(model.proto.constraints))
        )
        seconds = min(budget, self.remaining() - self.reserve - overhead)
        if seconds < 0.05 or self.stop():
            return None
        chosen = {(a.person, a.shift, a.role) for a in (*freed, *pins)}
        fixed = model.clone()
        for index, triple in built.triples.items():
            domain = fixed.proto.variables[index].domain
            value = int(triple in chosen)
            domain[0] = value
            domain[1] = value
        first = self._solver(seconds / 3)
        status = first.solve(fixed)
        self.budget.charge(cp_sat_seconds(first.deterministic_time, model_items(fixed)))
        self.solved += self._took(first)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE) or self.stop():
            return None
        before = first.objective_value
        proto = model.proto
        proto.solution_hint.vars.extend(range(len(proto.variables)))
        proto.solution_hint.values.extend(first.response_proto.solution)
        left = min(
            seconds - self._took(first),
            self.remaining() - self.reserve,
        )
        if left < 0.05:
            return None
        second = self._solver(left)
        status = second.solve(model)
        self.budget.charge(cp_sat_seconds(second.deterministic_time, model_items(model)))
        self.solved += self._took(second)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        if second.objective_value > before + 1e-6:
            return None
        solution = second.response_proto.solution
        pinned = {(a.person, a.shift) for a in pins}
        new = [
            Assignment(*t)
            for index, t in built.triples.items()
            if solution[index] and (t[0], t[1]) not in pinned
        ]
        return second.objective_value - before, new, status == cp_model.OPTIMAL

    def _took(self, solver: cp_model.CpSolver) -> float:
        """Budget seconds a finished CP-SAT call took (deterministic, or on the wall)."""
        return cp_sat_seconds(solver.deterministic_time) if self.deterministic else solver.wall_time

    def _solver(self, seconds: float) -> cp_model.CpSolver:
        solver = cp_model.CpSolver()
        params = solver.parameters
        params.num_workers = 1
        params.linearization_level = 2
        params.random_seed = self.rng.randrange(1 << 30)
        if self.deterministic:
            params.max_deterministic_time = max(0.01, seconds) * CP_SAT_UNITS_PER_SECOND
            # the wall-clock backstop, inside the call too (it never binds at normal speed)
            params.max_time_in_seconds = max(0.01, self.budget.wall_left())
        else:
            params.max_time_in_seconds = max(0.01, seconds)
        return solver

    # -- bookkeeping ------------------------------------------------------------------------

    def _assignments(self, current: dict[tuple[str, str], str]) -> tuple[Assignment, ...]:
        return tuple(Assignment(p, s, r) for (p, s), r in sorted(current.items()))

    def _minutes(self, current: dict[tuple[str, str], str]) -> dict[str, int]:
        minutes: dict[str, int] = defaultdict(int)
        for person, shift_id in current:
            minutes[person] += self.shifts[shift_id].minutes
        return minutes

    def _short(self, current: dict[tuple[str, str], str]) -> int:
        minutes = self._minutes(current)
        total = 0
        for person in self.problem.people:
            minimum = self.problem.limit(person, "min_minutes")
            if minimum:
                total += max(0, int(minimum) - minutes[person.id])
        return total

    def _note(self, current: dict[tuple[str, str], str]) -> None:
        """Report the incumbent when it meets every minimum (a roster to return)."""
        if self.short:
            return
        self.time_to_best = self.elapsed()
        if self.time_to_first is None:
            self.time_to_first = self.time_to_best
        if self.on_progress is not None:
            count: dict[tuple[str, str], int] = defaultdict(int)
            for (_, shift_id), role in current.items():
                count[(shift_id, role)] += 1
            filled = sum(
                min(d.min, count[(s.id, d.role)]) for s in self.problem.shifts for d in s.demands
            )
            self.on_progress(self.time_to_best, self.penalty, -math.inf, filled)

    def _empty(self) -> Solution:
        return Solution(
            status="UNKNOWN",
            assignments=(),
            objective=None,
            bound=None,
            breakdown={},
            unfilled=(),
            wall_time=self.elapsed(),
            time_to_best=0.0,
        )
