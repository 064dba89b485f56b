"""A first roster for problems with minimum rules, built window by window over the horizon.

The greedy hint of :mod:`solver.greedy` and the construction of :mod:`solver.decompose` keep
every upper limit but cannot promise minimum minutes or minimum runs of days on and off, and on
a long horizon the full CP-SAT model may not find a roster meeting them in time (a year of 150
people). :func:`rolling_roster` instead solves the horizon a window at a time:

* each window is a small :class:`~solver.model.Problem` (:func:`window_problem`): the window's
  days plus a look-ahead that is solved but not kept, and in front of it enough already-kept
  days, pinned, that every run and 7-day rule crossing the window's start is seen whole;
* each person's totals (minutes, shifts, shifts per kind, weekends) are reduced by what they
  already work before the window, and minimum minutes are asked pro rata (the share of the
  horizon that ends with the window), softened like :mod:`solver.rules.totals`' elastic model
  so that a window always has a roster and the search pulls everybody up to their share;
* runs of days that reach the window's end are exempt inside the window and continue into the
  next, where the kept days are pinned, so every minimum run is decided with its whole run in
  view. When a window has no roster the previous window is taken back and both are solved
  together.

:func:`window_problem` is also the sub-model of a neighbourhood over days and people (see
:mod:`solver.windowed`): it is built from the freed days and people only, never by copying and
fixing the whole model.
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import replace

from ortools.sat.python import cp_model

from solver.budget import CP_SAT_UNITS_PER_SECOND, cp_sat_seconds
from solver.budget import work as charge_for
from solver.build import build, candidate_choices, clear_hints
from solver.model import Assignment, Problem, Shift

__all__ = [
    "WindowProblem",
    "history_days",
    "rolling_roster",
    "single_window",
    "window_problem",
]

log = logging.getLogger(__name__)

# Days kept per window, and days solved beyond them (and thrown away) so that what is kept
# leaves the next window room to meet its minimums.
WINDOW_DAYS = 21
LOOKAHEAD_DAYS = 7
# Rolling back a window that has no roster: at most this many times in one construction.
MAX_BACKTRACKS = 6
# Days of pinned context on each side: whole weeks, at least one, enough for runs.
WEEK = 7


def single_window(horizon: int) -> bool:
    """Whether :func:`rolling_roster` solves a horizon of this many days as one window."""
    return horizon < 2 * WINDOW_DAYS + LOOKAHEAD_DAYS


def history_days(problem: Problem) -> int:
    """Days of context a window needs on each side so that every run-length, 7-day and rest
    rule crossing its edge is decided with the whole run or window in view (whole weeks)."""
    need = WEEK
    for person in problem.people:
        for name, extra in (
            ("max_consecutive_days", 1),
            ("min_consecutive_days", 0),
            ("min_consecutive_days_off", 0),
        ):
            value = problem.limit(person, name)
            if value is not None:
                need = max(need, int(value) + extra)
    return WEEK * math.ceil(need / WEEK)


class WindowProblem:
    """A window of days ``first..end-1`` of ``problem`` as a problem of its own.

    ``free_days`` (a range inside the window) and ``free_people`` (None: everybody) are what the
    sub-problem may change; every assignment of ``roster`` inside the window but outside the
    freed part is pinned, and everything outside the window is summed into each person's
    remaining totals. ``targets`` (person -> minimum minutes to ask inside the window) replaces
    the true remaining minimum when given (a pro-rata share during construction).
    """

    def __init__(
        self,
        problem: Problem,
        roster: Iterable[Assignment],
        first: int,
        end: int,
        free_days: range,
        free_people: Collection[str] | None = None,
        targets: Mapping[str, int] | None = None,
    ) -> None:
        days = problem.days
        day_index = {d: i for i, d in enumerate(days)}
        shifts = problem._shift_index()

        def day_of(shift: Shift) -> int:
            assert shift.day is not None
            return day_index[shift.day]

        inside = [s for s in problem.shifts if first <= day_of(s) < end]
        inside_ids = {s.id for s in inside}
        window_days = set(days[first:end])
        weekend_of = {i: d.isocalendar()[:2] for i, d in enumerate(days) if d.weekday() >= 5}
        window_weekends = {weekend_of[i] for i in range(first, end) if i in weekend_of}
        minutes: dict[str, int] = defaultdict(int)
        count: dict[str, int] = defaultdict(int)
        kinds: dict[tuple[str, str], int] = defaultdict(int)
        weekends: dict[str, set[tuple[int, int]]] = defaultdict(set)
        fixed = {(a.person, a.shift) for a in problem.pins}
        pins: list[Assignment] = []
        freed: list[Assignment] = []
        pinned_shifts: dict[str, set[str]] = defaultdict(set)
        for a in roster:
            shift = shifts[a.shift]
            day = day_of(shift)
            if first <= day < end:
                if (
                    day in free_days
                    and (free_people is None or a.person in free_people)
                    and (a.person, a.shift) not in fixed
                ):
                    freed.append(a)
                else:
                    pins.append(a)
                    pinned_shifts[a.person].add(a.shift)
                continue
            minutes[a.person] += shift.minutes
            count[a.person] += 1
            kinds[(a.person, shift.kind)] += 1
            if day in weekend_of:
                weekends[a.person].add(weekend_of[day])
        free_ids = {s.id for s in inside if day_of(s) in free_days}
        people = []
        for person in problem.people:
            movable = free_people is None or person.id in free_people
            available = pinned_shifts.get(person.id, set())
            if movable:
                available = available | (person.available & free_ids)
            changes: dict[str, object] = {
                "available": frozenset(available),
                "days_off": frozenset(d for d in person.days_off if d in window_days),
                "requests": tuple(
                    r
                    for r in person.requests
                    if (r.shift is not None and r.shift in inside_ids)
                    or (r.day is not None and r.day in window_days)
                ),
                "max_shifts_by_kind": {
                    k: max(0, cap - kinds[(person.id, k)])
                    for k, cap in person.max_shifts_by_kind.items()
                },
            }
            limits: dict[str, int] = {}
            for name, used in (
                ("max_minutes", minutes[person.id]),
                ("max_shifts", count[person.id]),
            ):
                limit = problem.limit(person, name)
                if limit is not None:
                    limits[name] = max(0, int(limit) - used)
            if targets is not None and person.id in targets:
                limits["min_minutes"] = max(0, targets[person.id])
            else:
                limit = problem.limit(person, "min_minutes")
                if limit:
                    limits["min_minutes"] = max(0, int(limit) - minutes[person.id])
            if limits.get("min_minutes") and limits.get("max_minutes") is not None:
                limits["min_minutes"] = min(limits["min_minutes"], limits["max_minutes"])
            cap = problem.limit(person, "max_weekends")
            if cap is not None:
                # weekends worked outside the window (a weekend cut by its edge counts once)
                outside = weekends[person.id] - window_weekends
                cut = weekends[person.id] & window_weekends
                limits["max_weekends"] = max(0, int(cap) - len(outside) - len(cut))
            # replace() takes each field's own type; the values above were built to match them
            people.append(replace(person, **changes, **limits))  # type: ignore[arg-type]
        self.freed = freed
        self.pins = pins
        self.problem = Problem(
            shifts=tuple(inside),
            people=tuple(people),
            rules=problem.rules,
            pins=tuple(pins),
            first_day=days[first],
            last_day=days[end - 1],
        )


def window_problem(
    problem: Problem,
    roster: Iterable[Assignment],
    first: int,
    end: int,
    free_days: range,
    free_people: Collection[str] | None = None,
    targets: Mapping[str, int] | None = None,
) -> WindowProblem:
    """See :class:`WindowProblem`."""
    return WindowProblem(problem, roster, first, end, free_days, free_people, targets)


def solve_window(
    sub: Problem,
    hint: Iterable[Assignment],
    budget: float,
    workers: int,
    seed: int,
    stop: Callable[[], bool] | None = None,
    *,
    deterministic: bool = False,
    extra: float = 0.0,
    deadline: float | None = None,
) -> tuple[list[Assignment] | None, float, int]:
    """Solve a window problem (minimum minutes softened) within ``budget`` seconds (of
    deterministic time when ``deterministic``), plus up to ``extra`` when no roster came in
    ``budget``; return its roster or None, the budget seconds spent (see
    :mod:`solver.budget`) and the minutes its roster misses of the minimums. ``workers`` is
    unused: one worker is deterministic by itself and on these small models stronger than a
    portfolio on a shared machine."""
    del workers
    started = time.monotonic()
    built = build(sub, elastic=True)
    model = built.ctx.model
    chosen = {(a.person, a.shift, a.role) for a in hint}
    for index, triple in built.triples.items():
        model.add_hint(model.get_bool_var_from_proto_index(index), int(triple in chosen))
    # building the model is work too: charged, so that a deterministic budget bounds it
    spent = charge_for(model_items=len(model.proto.variables) + len(model.proto.constraints))

    def used() -> float:
        return spent if deterministic else time.monotonic() - started

    def run(
        seconds: float, fixed: bool = False
    ) -> tuple[cp_model.CpSolver, cp_model.CpSolverStatus]:
        nonlocal spent
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        if fixed:
            solver.parameters.search_branching = cp_model.FIXED_SEARCH
        solver.parameters.random_seed = seed
        if deterministic:
            solver.parameters.max_deterministic_time = max(0.05, seconds) * CP_SAT_UNITS_PER_SECOND
            if deadline is not None:  # a wall-clock backstop (time.monotonic())
                solver.parameters.max_time_in_seconds = max(0.01, deadline - time.monotonic())
        else:
            solver.parameters.max_time_in_seconds = max(0.05, seconds)
        status = solver.solve(model, _StopWhen(stop) if stop is not None else None)
        spent += cp_sat_seconds(solver.deterministic_time)
        return solver, status

    found: list[int] | None = None
    if built.ctx.deficits:
        # First the minimums alone (people are nearly independent then, so this is quick),
        # then the whole objective from there: a missing minute costs more than any cover.
        objective = sum(t.expr for t in built.terms)
        model.minimize(sum(built.ctx.deficits))
        # Work first: day by day, everybody works when the rules let them (propagation
        # keeps every hard rule), which meets the minimums at once; the cover is then
        # mended in the second solve.
        work = [
            lit for _, lit in sorted(built.ctx.work.items(), key=lambda kv: (kv[0][1], kv[0][0]))
        ]
        model.add_decision_strategy(work, cp_model.CHOOSE_FIRST, cp_model.SELECT_MAX_VALUE)
        clear_hints(model)  # the hint would be followed first, and it leaves people idle
        solver, status = run(0.7 * budget, fixed=True)
        while (
            status not in (cp_model.OPTIMAL, cp_model.FEASIBLE)
            and used() < budget + extra
            and not (stop is not None and stop())
        ):
            solver, status = run(min(budget + extra - used(), max(budget, 2 * used())))
        log.debug(
            "window %s..%s minimums: %s short %s",
            sub.first_day,
            sub.last_day,
            solver.status_name(status),
            solver.objective_value,
        )
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            found = list(solver.response_proto.solution)
            clear_hints(model)
            model.proto.solution_hint.vars.extend(range(len(model.proto.variables)))
            model.proto.solution_hint.values.extend(found)
        else:
            for index, triple in built.triples.items():
                model.add_hint(model.get_bool_var_from_proto_index(index), int(triple in chosen))
        model.minimize(objective)
        model.proto.search_strategy.clear()
    solver, status = run(max(0.2 * budget, budget - used()))
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        found = list(solver.response_proto.solution)
    elif found is None and used() < budget + extra and not (stop is not None and stop()):
        solver, status = run(budget + extra - used())
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            found = list(solver.response_proto.solution)
    if found is None:
        return None, spent, 0
    short = sum(found[v.index] for v in built.ctx.deficits)
    log.debug(
        "window %s..%s: %s, %d minutes short, %.2fs",
        sub.first_day,
        sub.last_day,
        solver.status_name(status),
        short,
        time.monotonic() - started,
    )
    roster = [Assignment(*t) for index, t in built.triples.items() if found[index]]
    return roster, spent, short


class _StopWhen(cp_model.CpSolverSolutionCallback):
    def __init__(self, stop: Callable[[], bool]) -> None:
        super().__init__()
        self.stop = stop

    def on_solution_callback(self) -> None:
        if self.stop():
            self.stop_search()


def rolling_roster(
    problem: Problem,
    *,
    time_limit: float,
    workers: int = 1,
    seed: int = 0,
    stop: Callable[[], bool] | None = None,
    deterministic: bool = False,
    hard_limit: float | None = None,
    deadline: float | None = None,
) -> tuple[list[Assignment] | None, float]:
    """A roster built window by window (see the module doc), or None when a window had none in
    time (or when building the windows' models alone is charged more than ``hard_limit``),
    and the budget seconds spent in deterministic mode (CP-SAT time and model building, see
    :mod:`solver.budget`). Minimum minutes may still be short at the end (check the
    result); every other hard rule holds. Pins are kept. ``deterministic``
    budgets every window in deterministic time, so the roster depends only on the input.

    ``time_limit`` is shared out over the windows in proportion to their days; a window that
    finds nothing in its share is given more, up to ``hard_limit`` in all (default: the same).
    ``deadline`` (a ``time.monotonic()`` instant) also stops each deterministic CP-SAT call on
    the wall clock: the backstop of :mod:`solver.budget`.
    """
    started = time.monotonic()
    spent = 0.0
    hard_limit = time_limit if hard_limit is None else max(hard_limit, time_limit)
    # The windows' models hold at least every candidate choice of the horizon once: when
    # building them alone is charged more than the whole time allowed, no roster can come
    # in time (a year of 150 people and 32 shifts a day at a 30 s limit), so none is tried.
    floor = charge_for(model_items=candidate_choices(problem))
    if floor > hard_limit:
        log.debug("rolling roster: skipped, building its windows takes %.1fs at least", floor)
        return None, 0.0

    def used() -> float:
        return spent if deterministic else time.monotonic() - started

    days = problem.days
    horizon = len(days)
    if horizon == 0:
        return list(problem.pins), 0.0
    day_index = {d: i for i, d in enumerate(days)}
    shifts = problem._shift_index()

    def day_of(a: Assignment) -> int:
        day = shifts[a.shift].day
        assert day is not None
        return day_index[day]

    history = history_days(problem)
    pins_by_day: dict[int, list[Assignment]] = defaultdict(list)
    for a in problem.pins:
        pins_by_day[day_of(a)].append(a)
    kept: list[Assignment] = []  # days before `start`, in day order of windows
    starts: list[int] = []  # start day of every kept window
    lookahead: list[Assignment] = []
    start = 0
    backtracks = 0
    size = WINDOW_DAYS
    while start < horizon:
        if stop is not None and stop():
            return None, spent
        remaining = time_limit - used()
        if remaining <= 0:
            # over the share already (a window needed more): go on, thinly, to the hard limit
            remaining = min(hard_limit - used(), 0.05 * time_limit * (horizon - start) / horizon)
            if remaining <= 0:
                return None, spent
        keep_end = min(horizon, start + size)
        end = min(horizon, keep_end + LOOKAHEAD_DAYS)
        if horizon - end < WINDOW_DAYS:  # no short window at the end
            end = keep_end = horizon
        first = max(0, start - history)
        # ask each person's minimum pro rata: the share of the horizon up to `end`
        share = end / horizon
        before: dict[str, int] = defaultdict(int)
        for a in kept:
            if day_of(a) < first:
                before[a.person] += shifts[a.shift].minutes
        targets = {}
        for person in problem.people:
            minimum = problem.limit(person, "min_minutes")
            if minimum:
                # aim between the minimum and the maximum, so that later windows have slack
                # both ways; the last window asks the true minimum
                maximum = problem.limit(person, "max_minutes")
                aim = minimum if maximum is None or end == horizon else (minimum + maximum) / 2
                targets[person.id] = max(0, math.floor(aim * share) - before[person.id])
        future_pins = [a for a in problem.pins if start <= day_of(a) < end]
        window = window_problem(
            problem,
            [*kept, *future_pins],
            first,
            end,
            range(start, end),
            targets=targets,
        )
        # the window's problem walked the roster kept so far and every shift
        spent += charge_for(items=len(kept) + len(problem.shifts) + len(problem.people))
        budget = remaining * (keep_end - start) / (horizon - start)
        found, cost, short = solve_window(
            window.problem,
            [*window.pins, *lookahead],
            budget,
            workers,
            seed,
            stop,
            deterministic=deterministic,
            extra=max(0.0, hard_limit - used() - budget),
            deadline=deadline,
        )
        spent += cost
        if found is not None and short and end == horizon and starts:
            # the last window cannot meet the minimums: take the one before back too
            found = None
        if found is None:
            if not starts or backtracks >= MAX_BACKTRACKS:
                log.debug("rolling roster: no roster for days %d-%d", start, end)
                return None, spent
            # take the previous window back and solve both together
            backtracks += 1
            start = starts.pop()
            kept = [a for a in kept if day_of(a) < start]
            size = min(horizon, size + WINDOW_DAYS)
            lookahead = []
            continue
        kept += [a for a in found if start <= day_of(a) < keep_end]
        lookahead = [a for a in found if day_of(a) >= keep_end]
        starts.append(start)
        start = keep_end
        size = WINDOW_DAYS
    return kept, spent
