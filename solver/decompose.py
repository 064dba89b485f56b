"""Rostering at city scale: a constructive roster in seconds, then neighbourhood re-solves.

The volunteer problem's availability is per time slot, not per site, so a flat CP-SAT model of a
call-up with thousands of volunteers and dozens of sites has millions of (person, shift, role)
literals. :func:`solve_large` never builds that model:

1. **Construct.** Time slots (the shifts of all sites sharing one start/end/kind, see
   :class:`solver.flow.SlotIndex`) are filled in time order. Holders of scarce skills (roles
   fewer than half the people hold) are first planned onto slots by a load-balanced min-cost
   max-flow (:func:`solver.flow.plan_slots`). In each slot the scarcest role (fewest fitting
   candidates per open post) goes first, to the planned people, then to the eligible people
   least loaded relative to their capacity who hold no other scarce skill; each is sent to a
   preferred site, their partner's or yesterday's when one has an open post. Every
   placement is checked against every upper-limit hard rule with
   :class:`solver.feasibility.RosterState`, so the roster is valid from the start. With a
   baseline (re-solve), the baseline is replayed first and only what no longer fits is
   dropped, so the construction just refills the holes.
2. **Repair.** Ejection chains of length one: a qualified person blocked from a hole only by
   one of their own assignments moves onto it when someone else can take the post they leave.
   **Re-plan scarce skills** (not when re-solving): a scarce skill that still has holes is
   re-planned over the whole horizon by :func:`solver.scarce.replan_role` (its holders' weeks
   are chained by caps and rest, which single moves cannot untangle), the plan is placed, the
   posts its holders gave up are refilled, and the result is kept only when it fills more.
3. **Improve.** Large-neighbourhood search with the core CP-SAT model
   (:func:`solver.build.build`): pick a cluster of a few neighbouring sites (by site id, which
   groups districts) and a window of days — around an unfilled post while there are any —
   free every assignment there, add a few low-loaded candidates, and re-solve that
   sub-problem with everybody's other assignments pinned, so every hard rule still sees each
   person's whole schedule. The incumbent is completed into a full solution hint first. Its
   baseline is the incumbent, so a neighbourhood is only replaced when its own objective (each
   change costing ``weight_baseline_change``) gets strictly better, and only when it fills
   more posts or costs the fair-load rule no more among the people it changes. When
   re-solving, only the holes the change opened are searched and a change must pay for
   itself in cover or leads.
4. **Balance** (after the repair and re-plan, once every hole has been searched, and at the end;
   not when re-solving): hand single shifts from people loaded above their share to eligible
   people below it while the fair-load and request rules' cost drops, directly or through a
   middle person who trades a shift of their own (cover unchanged; holes the givers now fit
   are filled; kept only when :func:`solver.check` scores the result no worse).

The roster returned has been accepted by :func:`solver.check`. Problems with minimum rules
(minimum minutes, minimum runs of days on or off), which the construction cannot guarantee, go
to the flat CP-SAT search unchanged (:func:`solver.cpsat.solve_flat`, below the dispatcher, so
that :func:`solver.solve`'s dispatch to this module cannot recurse).

``should_stop()`` is asked before every phase and neighbourhood sub-solve and in the CP-SAT
solution callbacks; once it returns True the best roster so far is returned.
"""

from __future__ import annotations

import bisect
import math
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ortools.sat.python import cp_model

from solver.build import build, has_minimum_rules
from solver.check import CheckReport, check
from solver.cpsat import solve_flat
from solver.feasibility import RosterState
from solver.flow import SlotIndex, coverage_bound, plan_slots, seven_day_cap
from solver.model import Assignment, Demand, Person, Problem, Shift, Solution, UnfilledPost
from solver.progress import Heartbeat, ProgressCallback, StopCallback, StopOnRequest, Stopper
from solver.rules.fairness import capacity, step
from solver.scarce import Plan, replan_role

__all__ = ["construct", "person_capacity", "solve_large"]

# An open post being filled: [shift, how many more people it needs] (a list: the count drops
# as people are placed).
Entry = list[Any]

# Sites per cluster and days per window in the neighbourhood search, and the extra candidates
# (not working in the neighbourhood) each sub-problem may draw on.
CLUSTER_SITES = 3
WINDOW_DAYS = 5
EXTRA_CANDIDATES = 40
SUB_SOLVE_SECONDS = (1.0, 4.0)
# A sub-problem may load a person up to this factor of their skill set's mean share.
FAIR_SLACK = 1.1
# Share of the remaining time the ejection-chain repair of holes may use.
REPAIR_SHARE = 0.3
# Share of the remaining time each pass of load balancing (see _Large.balance) may use.
BALANCE_SHARE = 0.3
# Share of the remaining time the re-planning of scarce skills (see _Large.replan) may search.
REPLAN_SHARE = 0.7
# A skill whose share of that time is shorter is not re-planned (building the model of 150
# holders over 90 days takes seconds of its own).
REPLAN_MIN_SECONDS = 5.0
# Days either side of a shift within which a person's other shifts may block it (7-day rules).
WEEK_DAYS = 7


def person_capacity(problem: Problem, index: SlotIndex, person: Person) -> int:
    """Shifts the person could work at most: their 7-day cap per started week, max shifts,
    and one per day they are open on (the yardstick for fair load)."""
    days = {index.slots[i].day_index for i in index.person_slots.get(person.id, ())}
    caps = [len(days) * (problem.rules.max_shifts_per_day or 3)]
    cap = seven_day_cap(problem, person)
    if cap is not None:
        caps.append(cap * -(-len(problem.days) // 7))
    max_shifts = problem.limit(person, "max_shifts")
    if max_shifts is not None:
        caps.append(int(max_shifts))
    return max(0, min(caps))


def construct(problem: Problem, *, seed: int = 0) -> list[Assignment]:
    """The constructive first roster of :func:`solve_large` alone (phase 1, no repair).

    It keeps every upper-limit hard rule but ignores minimum rules (see the module doc).
    """
    return list(_Large(problem, 1.0, 1, seed, None).construct().assignments())


def solve_large(
    problem: Problem,
    *,
    time_limit: float,
    workers: int = 2,
    seed: int = 0,
    on_progress: ProgressCallback | None = None,
    deterministic: bool = False,
    should_stop: StopCallback | None = None,
) -> Solution:
    """Roster a large ``problem`` within about ``time_limit`` seconds (see the module doc).

    ``on_progress(elapsed_s, objective, bound, filled_posts)`` is called when the first roster
    exists and on every improvement, and repeated at least every 2 s in between, like
    :func:`solver.solve`. Pins are kept; with a
    baseline, only what must change is changed first. ``should_stop()`` stops the search (see
    the module doc); the roster so far is returned. ``deterministic`` is only passed on to the
    flat search of problems with minimum rules (this search runs on the wall clock).
    """
    if time_limit <= 0:
        raise ValueError("time_limit must be positive")
    if has_minimum_rules(problem):
        return solve_flat(
            problem,
            time_limit=time_limit,
            workers=workers,
            seed=seed,
            on_progress=on_progress,
            deterministic=deterministic,
            should_stop=should_stop,
        )
    return _Large(problem, time_limit, workers, seed, on_progress, should_stop).run()


def _improve_neighbourhood(
    sub: Problem,
    chosen: set[tuple[str, str, str]],
    budget: float,
    workers: int,
    seed: int,
    stop: Stopper | None = None,
) -> tuple[float, list[tuple[str, str, str]]] | None:
    """Search ``sub`` for a roster better than ``chosen``; return (change, new triples) or None.

    CP-SAT only repairs a partial hint slowly, so the incumbent is first completed into a full
    solution (every auxiliary variable) by a solve with the roster fixed, and that full
    solution is the hint of the free solve: the search starts from the incumbent at once.
    """
    built = build(sub)
    model = built.ctx.model
    proto = model.proto
    fixed = model.clone()
    for index, triple in built.triples.items():
        value = int(triple in chosen)
        domain = fixed.proto.variables[index].domain
        domain[0] = value
        domain[1] = value
    first = cp_model.CpSolver()
    first.parameters.num_workers = 1
    first.parameters.max_time_in_seconds = max(0.1, budget / 3)
    first.parameters.random_seed = seed
    status = first.solve(fixed)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    if stop is not None and stop():
        return None
    before = first.objective_value
    proto.solution_hint.vars.extend(range(len(proto.variables)))
    proto.solution_hint.values.extend(first.response_proto.solution)
    second = cp_model.CpSolver()
    second.parameters.num_workers = max(1, workers)
    second.parameters.max_time_in_seconds = max(0.1, budget - first.wall_time)
    second.parameters.random_seed = seed
    status = second.solve(model, StopOnRequest(stop) if stop is not None else None)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    if second.objective_value > before - 0.5:
        return None
    solution = second.response_proto.solution
    triples = [t for index, t in built.triples.items() if solution[index]]
    return second.objective_value - before, triples


class _Large:
    def __init__(
        self,
        problem: Problem,
        time_limit: float,
        workers: int,
        seed: int,
        on_progress: ProgressCallback | None,
        should_stop: StopCallback | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock  # the wall clock (a test passes a fake one)
        self.started = clock()
        self.stop = Stopper(should_stop)
        self.sub_solves = 0
        self.problem = problem
        self.time_limit = time_limit
        self.workers = workers
        self.seed = seed
        self.on_progress = on_progress
        self.rng = random.Random(seed)
        self.index = SlotIndex(problem)
        # slot -> people it is open to
        self.people_of_slot: dict[int, list[str]] = defaultdict(list)
        for pid, open_slots in self.index.person_slots.items():
            for i in open_slots:
                self.people_of_slot[i].append(pid)
        self.people = problem._person_index()
        self.shifts = problem._shift_index()
        self.capacity = {
            p.id: max(1, person_capacity(problem, self.index, p)) for p in problem.people
        }
        # the fair-load rule's yardstick (solver.rules.fairness), also given to sub-problems
        self.fair_cap = {p.id: capacity(problem, p) for p in problem.people}
        # Requests as what working costs (an off-request's weight; minus an on-request's), per
        # person and shift or day: the construction and the balance weigh them with fair load.
        self.shift_wish: dict[str, dict[str, int]] = defaultdict(dict)
        self.day_wish: dict[str, dict[int, int]] = defaultdict(dict)
        day_index = {d: n for n, d in enumerate(problem.days)}
        for p in problem.people:
            for wish in p.requests:
                weight = problem.rules.weight_requests * wish.weight * (-1 if wish.on else 1)
                if wish.shift is not None:
                    self.shift_wish[p.id][wish.shift] = weight
                elif wish.day in day_index:
                    self.day_wish[p.id][day_index[wish.day]] = weight
        role_holders: dict[str, int] = defaultdict(int)
        for p in problem.people:
            for r in p.roles:
                role_holders[r] += 1
        # Roles held by fewer than half the people are skills worth saving for their posts.
        self.scarce = {r for r, n in role_holders.items() if n < len(problem.people) / 2}
        self.posts = sum(d.min for s in problem.shifts for d in s.demands)
        self.best_seen = math.inf
        # the most posts any roster can fill (solver.flow.coverage_bound), once known
        self.cover_bound: float = math.inf
        self.bound = -math.inf
        self.time_to_best = 0.0
        # the slowest check of the whole roster so far (seconds)
        self.check_seconds = 0.0
        # the last roster checked and its report: the end re-uses it when nothing has changed
        # since (a check of a year of 1,000+ people costs seconds on a busy machine)
        self.last_checked: list[Assignment] | None = None
        self.last_report: CheckReport | None = None

    def elapsed(self) -> float:
        return self.clock() - self.started

    def finish_seconds(self) -> float:
        """Time the end needs: the last check of the whole roster (1.5 times the slowest seen)
        and building the solution."""
        return 1.5 * self.check_seconds + 0.3

    def timed_check(self, state: RosterState) -> CheckReport:
        """check() of the roster, timed: the end keeps time for the slowest seen."""
        started = self.clock()
        assignments = state.assignments()
        report = check(self.problem, assignments)
        self.check_seconds = max(self.check_seconds, self.clock() - started)
        self.last_checked, self.last_report = assignments, report
        return report

    def final_check(self, state: RosterState) -> CheckReport:
        """check() of the roster returned: the report of the last check when that was of this
        very roster (every phase that changes the roster checks it or leaves it to this one)."""
        if self.last_report is not None and state.assignments() == self.last_checked:
            return self.last_report
        return self.timed_check(state)

    def until(self, share: float, floor: float = 0.0) -> float:
        """The deadline (on :meth:`elapsed`) of a phase given ``share`` of the remaining time
        (at least ``floor`` seconds), that is followed by a check of the whole roster: it ends
        early enough for that check and the end's (:meth:`finish_seconds` each)."""
        remaining = self.remaining()
        left = remaining - 2 * self.finish_seconds()
        return self.elapsed() + max(0.0, min(max(floor, remaining * share), left))

    def remaining(self) -> float:
        return self.time_limit - self.elapsed()

    # -- construction -----------------------------------------------------------------------

    def construct(self) -> RosterState:
        problem = self.problem
        self.plan = plan_slots(problem, self.index, self.scarce) if self.scarce else set()
        planned: dict[str, list[int]] = defaultdict(list)
        for pid, i in sorted(self.plan):
            planned[pid].append(i)
        self.planned = dict(planned)
        state = RosterState(problem)
        for a in problem.pins:
            state.add(a.person, self.shifts[a.shift], a.role)
        pinned = {(a.person, a.shift) for a in problem.pins}
        baseline = sorted(
            (a for a in problem.baseline if (a.person, a.shift) not in pinned),
            key=lambda a: (self.shifts[a.shift].start, a.shift, a.person),
        )
        for a in baseline:
            person = self.people[a.person]
            shift = self.shifts[a.shift]
            demand = shift.demand(a.role)
            if (
                demand is None
                or a.shift in state.held.get(a.person, {})
                or state.filled[(a.shift, a.role)] >= self.most(a.shift, demand)
                or state.static_block(person, shift, a.role) is not None
                or state.blocker(person, shift) is not None
            ):
                continue
            state.add(a.person, shift, a.role)
        self.fill(state, range(len(self.index.slots)))
        return state

    def target(self, shift_id: str, demand: Demand) -> int:
        """How many people the constructions put on a post: its minimum, within its cap."""
        cap = self.problem.cap(shift_id, demand.role)
        return demand.min if cap is None else min(demand.min, cap)

    def most(self, shift_id: str, demand: Demand) -> int:
        """How many people a post may keep: its upper head count, within its cap."""
        cap = self.problem.cap(shift_id, demand.role)
        return demand.upper if cap is None else min(demand.upper, cap)

    def fill(
        self, state: RosterState, slots: range | list[int], deadline: float | None = None
    ) -> int:
        """Fill the open posts of ``slots`` in time order; return how many were filled.
        With a ``deadline`` (on :meth:`elapsed`) the slots after it are left as they are."""
        index = self.index
        people_of_slot = self.people_of_slot
        one_a_day = self.problem.rules.max_shifts_per_day == 1
        placed = 0
        for i in slots:
            if deadline is not None and self.elapsed() > deadline:
                break
            slot = index.slots[i]
            open_posts: dict[str, list[Entry]] = defaultdict(list)
            for shift in slot.shifts:
                for d in shift.demands:
                    gap = self.target(shift.id, d) - state.filled[(shift.id, d.role)]
                    if gap > 0:
                        open_posts[d.role].append([shift, gap])
            if not open_posts:
                continue
            rep = slot.shifts[0]
            candidates = []
            for pid in people_of_slot.get(i, ()):
                if one_a_day and state.on_day.get(pid, {}).get(slot.day_index):
                    continue  # cheap early exit for the most common block
                if state.blocker(self.people[pid], rep) is None:
                    candidates.append(pid)
            taken: set[str] = set()
            supply = {
                role: sum(1 for pid in candidates if role in self.people[pid].roles)
                for role in open_posts
            }

            ratio = {
                role: supply[role] / max(1, sum(gap for _, gap in entries))
                for role, entries in open_posts.items()
            }
            yesterday = slot.day_index - 1
            partner_site: dict[str, str] = {}
            for role in sorted(open_posts, key=ratio.__getitem__):
                entries = open_posts[role]
                pool = [
                    pid for pid in candidates if pid not in taken and role in self.people[pid].roles
                ]
                noise = {pid: self.rng.random() for pid in pool}

                def key(
                    pid: str,
                    role: str = role,
                    noise: dict[str, float] = noise,
                    i: int = i,
                    day: int = slot.day_index,
                ) -> tuple[float, ...]:
                    load = (state.load(pid) + 1) / self.capacity[pid]
                    if self.day_wish.get(pid, {}).get(day, 0) > 0:
                        load += 2.0  # asked not to work that day: after everybody else
                    if role in self.scarce:
                        return ((pid, i) not in self.plan, load, noise[pid])
                    # keep holders of scarce skills for the slots the plan reserved them for
                    later = self.planned.get(pid, ())
                    reserved = len(later) - bisect.bisect_right(later, i)
                    extra = len((self.people[pid].roles & self.scarce) - {role})
                    return (load + 0.3 * extra + (1.0 if reserved else 0.0), noise[pid])

                pool.sort(key=key)
                for pid in pool:
                    if not entries:
                        break
                    person = self.people[pid]
                    entry = self._choose(person, entries, state, yesterday, partner_site)
                    if entry is None:
                        continue
                    shift = entry[0]
                    state.add(pid, shift, role)
                    taken.add(pid)
                    partner_site[pid] = shift.site
                    placed += 1
                    entry[1] -= 1
                    if entry[1] == 0:
                        entries.remove(entry)
        return placed

    def repair(self, state: RosterState) -> int:
        """Fill holes by ejection chains of length one; return the net posts gained.

        For each unfilled post, try each qualified, available person who is blocked only by one
        of their own assignments: move them onto the hole and refill the post they left from
        everyone else. Kept only when that refill succeeds, so coverage never drops.
        """
        index = self.index
        people_of_slot = self.people_of_slot
        pinned = {(a.person, a.shift) for a in self.problem.pins}
        gained = 0
        # a check of the roster follows (and the end's): neither runs past the limit
        deadline = self.until(REPAIR_SHARE, floor=0.5)
        holes = [
            (s, d.role)
            for s in self.problem.shifts
            for d in s.demands
            if self.target(s.id, d) > state.filled[(s.id, d.role)]
        ]
        self.rng.shuffle(holes)
        for shift, role in holes:
            demand = shift.demand(role)
            assert demand is not None
            target = self.target(shift.id, demand)
            i = index.slot_of[shift.id]
            for pid in people_of_slot.get(i, ()):
                if state.filled[(shift.id, role)] >= target or self.elapsed() > deadline:
                    break
                person = self.people[pid]
                if state.static_block(person, shift, role) is not None:
                    continue
                if state.blocker(person, shift) is None:
                    state.add(pid, shift, role)
                    gained += 1
                    continue
                day = state.day_of(shift)
                near = sorted(
                    (
                        self.shifts[sid]
                        for sid in state.held.get(pid, {})
                        if abs(state.day_of(self.shifts[sid]) - day) < 7
                        and (pid, sid) not in pinned
                    ),
                    key=lambda s: abs(state.day_of(s) - day),
                )
                for other in near:
                    old_role = state.remove(pid, other)
                    if state.blocker(person, shift) is None:
                        state.add(pid, shift, role)
                        if self._refill(state, other, old_role, exclude=pid):
                            gained += 1
                            break
                        state.remove(pid, shift)
                    state.add(pid, other, old_role)
        return gained

    def replan(self, state: RosterState) -> int:
        """Re-plan each scarce skill with holes over the whole horizon; return the posts gained.

        A skill's posts are re-planned slot by slot by :func:`solver.scarce.replan_role` (its
        holders' weeks chained by caps and rest, which the repair's single moves cannot
        untangle), from the roster as it is. The plan is placed (:meth:`_place`), the posts its
        holders gave up are refilled (:meth:`fill`, :meth:`repair`), and the result is kept
        only when it fills more posts than before. Bounded by ``REPLAN_SHARE`` of the
        remaining time (the search stops early once a search round finds nothing better).
        """
        if self.filled(state) >= self.cover_bound:
            return 0
        holes: dict[str, int] = defaultdict(int)
        for s in self.problem.shifts:
            for d in s.demands:
                if d.role in self.scarce:
                    holes[d.role] += max(0, self.target(s.id, d) - state.filled[(s.id, d.role)])
        roles = sorted((r for r, n in holes.items() if n), key=lambda r: (-holes[r], r))
        # each role's search gets its share of the holes' share of the time
        # after it: placing the plan, the repair, a check and the end's
        budget = REPLAN_SHARE * (self.remaining() - 2 * self.finish_seconds())
        total = sum(holes.values())
        gained = 0
        for role in roles:
            # a search that ran long leaves the next roles what is still there
            share = min(
                budget * holes[role] / total,
                REPLAN_SHARE * (self.remaining() - 2 * self.finish_seconds()),
            )
            if self.stop() or share < REPLAN_MIN_SECONDS:
                continue  # a few holes of a widely held skill: not worth building its model
            goal = coverage_bound(self.problem, self.index, {role})
            plan = replan_role(
                self.problem,
                self.index,
                state,
                role,
                share,
                workers=self.workers,
                seed=self.seed,
                stop=self.stop,
                goal=goal,
            )
            if plan is None or self.stop():
                continue
            before = state.assignments()
            filled = self.filled(state)
            self._place(state, plan)
            self.repair(state)
            if self.filled(state) > filled:
                gained += self.filled(state) - filled
                self.plan = {(p, i) for p, i in self.plan if p not in plan.slots}
                self.plan |= {(p, i) for p, slots in plan.slots.items() for i in slots}
                continue
            for a in state.assignments():
                state.remove(a.person, self.shifts[a.shift])
            for a in before:
                state.add(a.person, self.shifts[a.shift], a.role)
        return gained

    def _place(self, state: RosterState, plan: Plan) -> None:
        """Put the plan's holders on their planned slots in the plan's role, then refill the
        open posts of every slot.

        A holder whose slots change gives up their posts of that role off the plan first (pins
        aside); a planned slot they are blocked from by another assignment of theirs is taken
        when giving up the nearest of those in general roles clears it.
        """
        role = plan.role
        pinned = {(a.person, a.shift) for a in self.problem.pins}
        kept_site: dict[tuple[str, int], str] = {}
        todo: list[tuple[int, str]] = []
        for pid, slots in plan.slots.items():
            held = state.held.get(pid, {})
            now = {self.index.slot_of[sid]: sid for sid, r in held.items() if r == role}
            if now.keys() == slots:
                continue
            for i, sid in now.items():
                if (pid, sid) in pinned:
                    continue
                state.remove(pid, self.shifts[sid])
                kept_site[(pid, i)] = sid
            todo += [(i, pid) for i in slots]
        for i, pid in sorted(todo):
            person = self.people[pid]
            entries: list[Entry] = [
                [shift, self.target(shift.id, demand) - state.filled[(shift.id, role)]]
                for shift in self.index.slots[i].shifts
                if (demand := shift.demand(role)) is not None
                and state.filled[(shift.id, role)] < self.target(shift.id, demand)
                and state.static_block(person, shift, role) is None
            ]
            if not entries:
                continue
            same = [e for e in entries if e[0].id == kept_site.get((pid, i))]
            entry = same[0] if same else self._choose(person, entries, state, -1, {})
            if entry is not None:
                self._make_room(state, person, entry[0], role, pinned)
        self.fill(state, range(len(self.index.slots)))

    def _make_room(
        self,
        state: RosterState,
        person: Person,
        shift: Shift,
        role: str,
        pinned: set[tuple[str, str]],
    ) -> bool:
        """Give ``person`` the post (``shift``, ``role``), giving up the fewest of their own
        other assignments within a week of it (general roles first, nearest first) that block
        it (never a post of a scarce skill); False (and nothing changed) when that does not
        clear it."""
        pid = person.id
        if state.blocker(person, shift) is None:
            state.add(pid, shift, role)
            return True
        day = state.day_of(shift)
        mine = [
            self.shifts[sid]
            for sid, held in state.held.get(pid, {}).items()
            if held not in self.scarce
            and (pid, sid) not in pinned
            and abs(state.day_of(self.shifts[sid]) - day) < WEEK_DAYS
        ]
        mine.sort(key=lambda s: (abs(state.day_of(s) - day), s.start))
        given_up: list[tuple[Shift, str]] = []
        for other in mine:
            given_up.append((other, state.remove(pid, other)))
            if state.blocker(person, shift) is None:
                state.add(pid, shift, role)
                # take back what did not need giving up
                for back, held in given_up[:-1]:
                    if state.blocker(person, back) is None:
                        state.add(pid, back, held)
                return True
        for back, held in given_up:
            state.add(pid, back, held)
        return False

    def _refill(self, state: RosterState, shift: Shift, role: str, exclude: str) -> bool:
        """Give the post (shift, role) to the least-loaded person who can take it."""
        best: tuple[float, str] | None = None
        for pid in self.people_of_slot.get(self.index.slot_of[shift.id], ()):
            person = self.people[pid]
            if pid == exclude or role not in person.roles or shift.id not in person.available:
                continue
            load = state.load(pid) / self.capacity[pid]
            if best is not None and load >= best[0]:
                continue
            if (
                state.static_block(person, shift, role) is None
                and state.blocker(person, shift) is None
            ):
                best = (load, pid)
        if best is None:
            return False
        state.add(best[1], shift, role)
        return True

    def _choose(
        self,
        person: Person,
        entries: list[Entry],
        state: RosterState,
        yesterday: int,
        partner_site: dict[str, str],
    ) -> Entry | None:
        """The open post (entry) a person should take: preferred site, continuity, partner."""
        wanted: list[str] = []
        if person.partner is not None and person.partner in partner_site:
            wanted.append(partner_site[person.partner])
        for s in state.on_day.get(person.id, {}).get(yesterday, ()):
            wanted.append(s.site)
        fallback = None
        for entry in entries:
            shift = entry[0]
            if shift.id not in person.available:
                continue
            if shift.site in person.preferred_sites or shift.site in wanted:
                return entry
            if fallback is None:
                fallback = entry
                if not person.preferred_sites and not wanted:
                    return entry
        return fallback

    # -- improvement ------------------------------------------------------------------------

    def clusters(self) -> list[list[str]]:
        sites = sorted({s.site for s in self.problem.shifts})
        return [sites[i : i + CLUSTER_SITES] for i in range(0, len(sites), CLUSTER_SITES)]

    def improve(self, state: RosterState, objective: float) -> float:
        clusters = self.clusters()
        cluster_of = {site: n for n, group in enumerate(clusters) for site in group}
        horizon = len(self.problem.days)
        shifts_at: dict[tuple[str, int], list[Shift]] = defaultdict(list)
        for s in self.problem.shifts:
            shifts_at[(s.site, state.day_of(s))].append(s)
        budget = min(max(self.time_limit * 0.03, SUB_SOLVE_SECONDS[0]), SUB_SOLVE_SECONDS[1])
        window = min(WINDOW_DAYS, horizon)
        tried_holes: set[tuple[str, str]] = set()
        if self.problem.baseline:
            # Re-solving: only the holes the change opened are worth disturbing the roster for;
            # the baseline's own holes were already searched when it was made.
            held: dict[tuple[str, str], int] = defaultdict(int)
            for a in self.problem.baseline:
                held[(a.shift, a.role)] += 1
            tried_holes = {
                (s.id, d.role)
                for s in self.problem.shifts
                for d in s.demands
                if held[(s.id, d.role)] < d.min
            }
        balanced = False
        # the end keeps time for its checks of the whole roster (see _run)
        while self.remaining() > budget * 0.5 + 0.3 + self.finish_seconds() and not self.stop():
            holes = [
                (s.id, d.role)
                for s in self.problem.shifts
                for d in s.demands
                if self.target(s.id, d) > state.filled[(s.id, d.role)]
                and (s.id, d.role) not in tried_holes
            ]
            if holes and self.filled(state) >= self.cover_bound:
                holes = []  # as many posts as any roster can fill: the rest cannot be filled
            if holes:
                shift_id, role = self.rng.choice(holes)
                tried_holes.add((shift_id, role))
                shift = self.shifts[shift_id]
                group = clusters[cluster_of[shift.site]]
                centre = state.day_of(shift)
                first = min(max(0, centre - window // 2), max(0, horizon - window))
            elif self.problem.baseline:
                break  # re-solving: only the holes' neighbourhoods may change
            elif not balanced:
                # every hole searched: even out the loads before the free search goes on
                balanced = True
                if self.remaining() < 2 * self.check_seconds + self.finish_seconds():
                    continue  # no time for its two checks
                before = self.timed_check(state)
                objective = float(self._balanced(state, before).objective)
                continue
            else:
                group = self.rng.choice(clusters)
                first = self.rng.randrange(max(1, horizon - window + 1))
            days = range(first, min(horizon, first + window))
            free = [s for site in group for d in days for s in shifts_at.get((site, d), ())]
            if not free:
                continue
            delta = self.resolve(
                state, free, min(budget, max(0.2, self.remaining() - 0.3 - self.finish_seconds()))
            )
            if delta < 0:
                objective += delta
                self.report(objective, state)
        return objective

    def resolve(self, state: RosterState, free: list[Shift], budget: float) -> float:
        """Re-solve the posts of ``free`` with everyone else fixed; apply it if it is better.

        Returns the change in objective (negative when the neighbourhood was replaced).
        """
        problem = self.problem
        free_ids = {s.id for s in free}
        freed = [
            (pid, sid, role)
            for s in free
            for pid in self._holders(state, s)
            for sid, role in ((s.id, state.held[pid][s.id]),)
        ]
        members = {pid for pid, _, _ in freed}
        slots = {self.index.slot_of[s.id] for s in free}
        extra: list[tuple[float, str]] = []
        seen: set[str] = set()
        sites = {s.site for s in free}
        for i in slots:
            for pid in self.people_of_slot.get(i, ()):
                if pid in members or pid in seen:
                    continue
                seen.add(pid)
                person = self.people[pid]
                load = state.load(pid) / self.capacity[pid]
                if load >= 1:
                    continue
                bonus = -0.5 if person.preferred_sites & sites else 0.0
                extra.append((load + bonus + 0.1 * self.rng.random(), pid))
        extra.sort()
        members |= {pid for _, pid in extra[:EXTRA_CANDIDATES]}
        # partners of members, so that keeping pairs together is judged correctly
        members |= {p for p in (self.people[pid].partner for pid in list(members)) if p is not None}
        pinned = {(a.person, a.shift) for a in problem.pins}
        outside: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        sub_pins: list[Assignment] = []
        for pid in members:
            for sid, role in state.held.get(pid, {}).items():
                if sid in free_ids:
                    if (pid, sid) in pinned:
                        sub_pins.append(Assignment(pid, sid, role))
                    continue
                outside[sid][role] += 1
                sub_pins.append(Assignment(pid, sid, role))
        shifts = list(free)
        for sid, roles in outside.items():
            original = self.shifts[sid]
            shifts.append(
                replace(
                    original,
                    demands=tuple(Demand(r, 0, n, 0, 0) for r, n in sorted(roles.items())),
                )
            )
        sub_people = []
        for pid in sorted(members):
            person = self.people[pid]
            own = {sid for sid, _ in state.held.get(pid, {}).items() if sid not in free_ids}
            # No more than a fair share (or what they already hold): keeps the sub-model small
            # and its search off loading anybody far above their skill set's share.
            fair = max(state.load(pid), self.fair_share(pid))
            own_cap = problem.limit(person, "max_shifts")
            sub_people.append(
                replace(
                    person,
                    max_shifts=fair if own_cap is None else min(int(own_cap), fair),
                    # fair load is measured against the whole problem's capacity
                    fair_capacity=self.fair_cap[pid],
                    available=frozenset((person.available & free_ids) | own),
                    partner=person.partner if person.partner in members else None,
                    requests=tuple(
                        r
                        for r in person.requests
                        if r.shift is None or r.shift in free_ids or r.shift in own
                    ),
                )
            )
        incumbent = [Assignment(pid, sid, role) for pid, sid, role in freed]
        rules = problem.rules
        if problem.baseline:
            # Re-solving: a change must pay for itself in cover or leads, not in comfort.
            comfort = (
                rules.weight_fair_load,
                rules.weight_fair_nights,
                rules.weight_preferred_site,
                rules.weight_partner_apart,
                rules.weight_site_change,
                rules.weight_requests,
            )
            rules = replace(rules, weight_baseline_change=max(comfort) + 1)
        sub = Problem(
            shifts=tuple(shifts),
            people=tuple(sub_people),
            rules=rules,
            pins=tuple(sub_pins),
            baseline=tuple(incumbent),
            first_day=problem.first_day,
            last_day=problem.last_day,
            cover_cap=problem.cover_cap,
            caps={k: n for k, n in problem.caps.items() if k[0] in free_ids},
        )
        chosen = {(a.person, a.shift, a.role) for a in (*incumbent, *sub_pins)}
        self.sub_solves += 1
        values = _improve_neighbourhood(sub, chosen, budget, self.workers, self.seed, self.stop)
        if values is None:
            return 0.0
        delta, triples = values
        new = [(pid, sid, role) for pid, sid, role in triples if sid in free_ids]
        if not self._fairer_or_fuller(state, free, freed, new):
            return 0.0
        for pid, sid, _ in freed:
            state.remove(pid, self.shifts[sid])
        for pid, sid, role in new:
            state.add(pid, self.shifts[sid], role)
        return delta

    def fair_share(self, pid: str) -> int:
        """A person's fair number of shifts: a little above their skill set's mean share."""
        person = self.people[pid]
        mean = self.mean_share.get(person.roles, 1.0)
        return math.ceil(FAIR_SLACK * mean * self.capacity[pid])

    def _fairer_or_fuller(
        self,
        state: RosterState,
        free: list[Shift],
        old: list[tuple[str, str, str]],
        new: list[tuple[str, str, str]],
    ) -> bool:
        """Whether replacing ``old`` by ``new`` fills more posts or spreads load no worse."""

        def cover(triples: list[tuple[str, str, str]]) -> int:
            count: dict[tuple[str, str], int] = defaultdict(int)
            for _, sid, role in triples:
                count[(sid, role)] += 1
            return sum(min(d.min, count[(s.id, d.role)]) for s in free for d in s.demands)

        if cover(new) > cover(old):
            return True
        change: dict[str, int] = defaultdict(int)
        for pid, _, _ in old:
            change[pid] -= 1
        for pid, _, _ in new:
            change[pid] += 1
        before = sum(self.fair_cost(pid, state.load(pid)) for pid in change)
        after = sum(self.fair_cost(pid, state.load(pid) + n) for pid, n in change.items())
        return after <= before

    def fair_cost(self, pid: str, load: int) -> int:
        """The fair-load rule's cost of ``load`` shifts for the person (0: not counted)."""
        cap = self.fair_cap[pid]
        return sum(step(k, cap) for k in range(1, load + 1)) if cap else 0

    def wish(self, state: RosterState, pid: str, shift: Shift) -> int:
        """What ``pid`` working ``shift`` costs the request rule, given the rest of their
        roster (a day request counts once however many shifts they work that day)."""
        if pid not in self.shift_wish and pid not in self.day_wish:
            return 0
        cost = self.shift_wish[pid].get(shift.id, 0)
        days = self.day_wish[pid]
        if days:
            day = state.day_of(shift)
            weight = days.get(day, 0)
            if weight and all(s.id == shift.id for s in state.on_day.get(pid, {}).get(day, ())):
                cost += weight
        return cost

    def balance(self, state: RosterState, deadline: float | None = None) -> int:
        """Hand shifts from people loaded above their share to people below it; return the
        number of shifts moved.

        Each move gives one assignment, same shift and role, to an eligible person whose next
        shift costs the fair-load and request rules less than the holder's last shift costs
        them: cover never changes and every move lowers those costs (so a coordinator's wish
        to roster someone last is not traded for fair load). Each pass ranks a slot's people
        once by their next shift's fair-load cost and tries them cheapest first, stopping at
        the holder's cost, so a move costs a few candidates, not all the slot's people.
        Bounded by ``BALANCE_SHARE`` of the remaining time, or by ``deadline`` (on
        :meth:`elapsed`), less what the check after it and the end's need.
        """
        weight = self.problem.rules.weight_fair_load
        fair_cap = self.fair_cap
        deadline = self.until(BALANCE_SHARE, floor=0.2) if deadline is None else deadline
        pinned = {(a.person, a.shift) for a in self.problem.pins}

        def next_cost(qid: str) -> int:
            return weight * step(state.load(qid) + 1, fair_cap[qid])

        moved = 0
        improved = True
        while improved and not self.stop():
            improved = False
            ranked: dict[int, list[tuple[int, str]]] = {}
            holders = sorted(
                (pid for pid in state.held if state.load(pid) and fair_cap[pid]),
                key=lambda pid: -state.load(pid) / fair_cap[pid],
            )
            for pid in holders:
                if self.elapsed() > deadline:
                    return moved
                for sid, role in list(state.held[pid].items()):
                    if (pid, sid) in pinned:
                        continue
                    shift = self.shifts[sid]
                    out = weight * step(state.load(pid), fair_cap[pid])
                    out += self.wish(state, pid, shift)
                    i = self.index.slot_of[sid]
                    if i not in ranked:
                        ranked[i] = sorted(
                            (next_cost(q), q) for q in self.people_of_slot.get(i, ()) if fair_cap[q]
                        )
                    for ranked_cost, qid in ranked[i]:
                        if ranked_cost >= out:
                            break  # ranked at the pass's start: a giver may be missed
                        person = self.people[qid]
                        if qid == pid or role not in person.roles or sid not in person.available:
                            continue
                        if next_cost(qid) + self.wish(state, qid, shift) >= out:
                            continue
                        if (
                            state.static_block(person, shift, role) is None
                            and state.blocker(person, shift) is None
                        ):
                            state.remove(pid, shift)
                            state.add(qid, shift, role)
                            moved += 1
                            improved = True
                            break
            if not improved and self.elapsed() < deadline:
                chained = self._chains(state, holders, deadline, pinned)
                moved += chained
                improved = chained > 0
        return moved

    def _chains(
        self,
        state: RosterState,
        holders: list[str],
        deadline: float,
        pinned: set[tuple[str, str]],
    ) -> int:
        """Hand shifts on through one middle person; return the number of chains made.

        A holder ``p``'s shift goes to ``q``, who is blocked from it only by one of their own
        shifts within a week, and that shift goes to ``r``: ``q`` works as much as before,
        ``p`` one shift less and ``r`` one more. Made when that lowers the fair-load and
        request rules' cost, like a single move of :meth:`balance`, for the moves the rest
        and weekly rules leave no single move for. Holders are tried most loaded first, the
        upper half only, until ``deadline``.
        """
        weight = self.problem.rules.weight_fair_load
        fair_cap = self.fair_cap

        def next_cost(qid: str) -> int:
            return weight * step(state.load(qid) + 1, fair_cap[qid])

        ranked: dict[int, list[tuple[int, str]]] = {}
        chains = 0
        for pid in holders[: max(1, len(holders) // 2)]:
            for sid, role in list(state.held.get(pid, {}).items()):
                if self.elapsed() > deadline or self.stop():
                    return chains
                if (pid, sid) in pinned or sid not in state.held.get(pid, {}):
                    continue
                shift = self.shifts[sid]
                out = weight * step(state.load(pid), fair_cap[pid]) + self.wish(state, pid, shift)
                if self._chain(state, pid, shift, role, out, pinned, ranked, next_cost, deadline):
                    chains += 1
        return chains

    def _chain(
        self,
        state: RosterState,
        pid: str,
        shift: Shift,
        role: str,
        out: int,
        pinned: set[tuple[str, str]],
        ranked: dict[int, list[tuple[int, str]]],
        next_cost: Callable[[str], int],
        deadline: float,
    ) -> bool:
        """One chain of :meth:`_chains` for ``pid``'s ``shift`` (made and True, or nothing;
        nothing either once ``deadline`` has passed: a slot may have thousands of people)."""
        day = state.day_of(shift)
        for n, qid in enumerate(self.people_of_slot.get(self.index.slot_of[shift.id], ())):
            if n % 64 == 63 and self.elapsed() > deadline:
                return False
            middle = self.people[qid]
            if qid == pid or state.static_block(middle, shift, role) is not None:
                continue
            if state.blocker(middle, shift) is None:
                continue  # a single move, left to balance
            for tid in list(state.held.get(qid, {})):
                other = self.shifts[tid]
                if (qid, tid) in pinned or abs(state.day_of(other) - day) >= WEEK_DAYS:
                    continue
                i = self.index.slot_of[tid]
                if i not in ranked:
                    people = self.people_of_slot.get(i, ())
                    ranked[i] = sorted((next_cost(r), r) for r in people if self.fair_cap[r])
                budget = out - self.wish(state, qid, shift) + self.wish(state, qid, other)
                if not ranked[i] or ranked[i][0][0] >= budget:
                    continue  # nobody could take the middle person's shift for less
                other_role = state.remove(qid, other)
                if state.blocker(middle, shift) is None:
                    for ranked_cost, rid in ranked[i]:
                        if ranked_cost >= budget:
                            break  # ranked when first asked: a taker may be missed
                        taker = self.people[rid]
                        if rid in (pid, qid) or other_role not in taker.roles:
                            continue
                        if next_cost(rid) + self.wish(state, rid, other) >= budget:
                            continue
                        if (
                            state.static_block(taker, other, other_role) is None
                            and state.blocker(taker, other) is None
                        ):
                            state.remove(pid, shift)
                            state.add(qid, shift, role)
                            state.add(rid, other, other_role)
                            return True
                state.add(qid, other, other_role)
        return False

    @staticmethod
    def _holders(state: RosterState, shift: Shift) -> list[str]:
        return sorted(state.by_shift.get(shift.id, ()))

    # -- reporting --------------------------------------------------------------------------

    def filled(self, state: RosterState) -> int:
        return sum(
            min(d.min, state.filled[(s.id, d.role)]) for s in self.problem.shifts for d in s.demands
        )

    def report(self, objective: float, state: RosterState) -> None:
        if objective < self.best_seen - 1e-9:
            self.best_seen = objective
            self.time_to_best = self.elapsed()
            if self.on_progress is not None:
                self.on_progress(self.time_to_best, objective, self.bound, self.filled(state))

    def run(self) -> Solution:
        if self.on_progress is None:
            return self._run()
        beat = Heartbeat(self.on_progress, self.elapsed)
        self.on_progress = beat
        with beat:
            return self._run()

    def _run(self) -> Solution:
        problem = self.problem
        weights = [
            problem.rules.weight_shortfall if d.under_weight is None else d.under_weight
            for s in problem.shifts
            for d in s.demands
        ]
        state = self.construct()
        # what one check of the whole roster costs: the final balance needs two, the end one
        first = self.timed_check(state)
        state = self._repair(state, first)
        report = self.timed_check(state) if not first.ok else first
        self.time_to_first = self.elapsed()
        # the first roster is reported before the coverage bound's max-flow is run
        self.report(report.objective, state)
        bound = coverage_bound(problem, self.index)
        self.cover_bound = bound
        self.bound = float(min(weights, default=0) * max(0, self.posts - bound))
        if not self.stop() and self.repair(state):
            report = self.timed_check(state)
            self.report(report.objective, state)
        if not problem.baseline and not self.stop() and self.replan(state):
            report = self.timed_check(state)
            self.report(report.objective, state)
        if not problem.baseline and self.remaining() > self.finish_seconds() + 1.0:
            # even out the loads now (then one check of the whole roster): the search below may
            # run to the limit without reaching its own balance, and it only accepts changes
            # that keep loads as even
            report = self._balanced(state, report)
        shares: dict[frozenset[str], list[float]] = defaultdict(list)
        for person in problem.people:
            if self.index.person_slots.get(person.id):
                shares[person.roles].append(state.load(person.id) / self.capacity[person.id])
        self.mean_share = {roles: sum(v) / len(v) for roles, v in shares.items()}
        if self.remaining() > 1.0 + self.finish_seconds() and not self.stop():
            self.improve(state, float(report.objective))
            # the check before the balance, its moves and fill (at most BALANCE_SHARE of what
            # is left) and the checks after them and at the end (see until())
            if (
                not problem.baseline
                and self.remaining() > self.check_seconds + 2 * self.finish_seconds() + 0.5
            ):
                self._balanced(state, self.timed_check(state))
        final = self.final_check(state)
        assert final.ok, f"solve_large built a roster that check rejects: {final.violations[:3]}"
        return Solution(
            status="FEASIBLE",
            assignments=tuple(state.assignments()),
            objective=final.objective,
            bound=int(self.bound),
            breakdown=final.breakdown,
            unfilled=tuple(
                UnfilledPost(shift=s, role=r, missing=m) for (s, r), m in final.unfilled.items()
            ),
            wall_time=self.elapsed(),
            time_to_best=self.time_to_best,
            time_to_first=self.time_to_first,
        )

    def _balanced(self, state: RosterState, report: CheckReport) -> CheckReport:
        """Balance loads (:meth:`balance`) and fill the holes the people who handed shifts on
        now fit; keep the result when check scores it no worse (a move may cost a preferred
        site or a partner's company), else undo it."""
        if self.stop():
            return report
        before = state.assignments()
        # the moves and the fill share one deadline, kept clear of the check after them and
        # the end's
        deadline = self.until(BALANCE_SHARE, floor=0.2)
        if not self.balance(state, deadline):
            return report
        if self.filled(state) < self.cover_bound:
            # whoever handed a shift on may now fit a hole
            self.fill(state, range(len(self.index.slots)), deadline)
        checked = self.last_checked, self.last_report
        after = self.timed_check(state)
        if after.ok and after.objective <= report.objective:
            self.report(after.objective, state)
            return after
        for a in state.assignments():
            state.remove(a.person, self.shifts[a.shift])
        for a in before:
            state.add(a.person, self.shifts[a.shift], a.role)
        # the roster is back to the one checked before (final_check compares them)
        self.last_checked, self.last_report = checked
        return report

    def _repair(self, state: RosterState, report: CheckReport) -> RosterState:
        """Drop any assignment a violation names (a safety net: construction should not need it)."""
        if report.ok:
            return state
        pinned = {(a.person, a.shift) for a in self.problem.pins}
        for v in report.violations:
            if v.person is None:
                continue
            for sid in v.shifts:
                if (v.person, sid) not in pinned and sid in state.held.get(v.person, {}):
                    state.remove(v.person, self.shifts[sid])
        return state
