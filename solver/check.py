"""An independent validator and scorer for rosters.

Plain Python over the assignments, written without reference to the CP-SAT model: every hard
rule is re-checked and every soft term recomputed. The app re-checks every hand edit with it,
and :func:`solver.solve` asserts that it accepts each roster it returns.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from solver.model import Assignment, Person, Problem, Shift, Solution

__all__ = ["CheckReport", "Violation", "check"]


@dataclass(frozen=True)
class Violation:
    """One broken hard rule: a short code, who, which shifts, and the reason in words."""

    rule: str
    person: str | None
    shifts: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class CheckReport:
    """Every hard-rule violation and every soft term of a roster.

    ``breakdown`` maps each soft term to its weighted value and ``objective`` is their sum, on
    the same scale as the solver's objective. ``unfilled`` maps (shift, role) to the number of
    people missing below the minimum head count.
    """

    violations: tuple[Violation, ...]
    breakdown: dict[str, int]
    objective: int
    unfilled: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the roster breaks no hard rule."""
        return not self.violations


def check(problem: Problem, roster: Solution | Iterable[Assignment]) -> CheckReport:
    """Validate a roster against every hard rule of ``problem`` and score its soft goals."""
    assignments = tuple(roster.assignments if isinstance(roster, Solution) else roster)
    checker = _Checker(problem, assignments)
    checker.run()
    breakdown = {name: value for name, value in checker.breakdown.items() if value}
    return CheckReport(
        violations=tuple(checker.violations),
        breakdown=breakdown,
        objective=sum(breakdown.values()),
        unfilled=checker.unfilled,
    )


class _Checker:
    def __init__(self, problem: Problem, assignments: tuple[Assignment, ...]) -> None:
        self.problem = problem
        self.rules = problem.rules
        self.assignments = assignments
        self.shifts = {s.id: s for s in problem.shifts}
        self.people = {p.id: p for p in problem.people}
        self.days = problem.days
        self.day_number = {d: i for i, d in enumerate(self.days)}
        self.violations: list[Violation] = []
        self.breakdown: Counter[str] = Counter()
        self.unfilled: dict[tuple[str, str], int] = {}
        # person -> their valid assignments' shifts, in start order
        self.worked: dict[str, list[Shift]] = defaultdict(list)

    def flag(self, rule: str, person: str | None, shifts: Iterable[str], message: str) -> None:
        self.violations.append(Violation(rule, person, tuple(shifts), message))

    def limit(self, person: Person, name: str) -> int | float | None:
        own = getattr(person, name)
        value: int | float | None = own if own is not None else getattr(self.rules, name)
        return value

    def run(self) -> None:
        self.check_assignments()
        for person in self.problem.people:
            self.check_person(person)
        self.check_pins()
        self.check_caps()
        self.score()

    # -- hard rules -------------------------------------------------------------------------

    def check_assignments(self) -> None:
        seen: set[tuple[str, str]] = set()
        for a in self.assignments:
            shift = self.shifts.get(a.shift)
            person = self.people.get(a.person)
            if shift is None or person is None:
                self.flag("unknown_reference", a.person, [a.shift], "unknown person or shift")
                continue
            if shift.demand(a.role) is None:
                self.flag("unknown_role", a.person, [a.shift], f"shift has no post {a.role}")
                continue
            if (a.person, a.shift) in seen:
                self.flag("double_booked", a.person, [a.shift], "holds two posts on one shift")
                continue
            seen.add((a.person, a.shift))
            if a.shift not in person.available:
                self.flag("not_available", a.person, [a.shift], "not available for this shift")
            if a.role not in person.roles:
                self.flag("not_qualified", a.person, [a.shift], f"not qualified as {a.role}")
            if shift.day in person.days_off:
                self.flag("day_off", a.person, [a.shift], f"works on a day off ({shift.day})")
            if shift.kind in self.rules.night_kinds and not person.accepts_nights:
                self.flag("nights_refused", a.person, [a.shift], "does not accept night shifts")
            self.worked[a.person].append(shift)
        for shifts in self.worked.values():
            shifts.sort(key=lambda s: (s.start, s.id))

    def check_person(self, person: Person) -> None:
        shifts = self.worked.get(person.id, [])
        pid = person.id
        per_day: dict[date, list[Shift]] = defaultdict(list)
        for s in shifts:
            assert s.day is not None
            per_day[s.day].append(s)
        most = self.rules.max_shifts_per_day
        if most is not None:
            for day, those in sorted(per_day.items()):
                if len(those) > most:
                    self.flag(
                        "shifts_per_day",
                        pid,
                        [s.id for s in those],
                        f"{len(those)} shifts on {day}, at most {most} allowed",
                    )
        rest_hours = float(self.limit(person, "min_rest_hours") or 0)
        rest = timedelta(hours=rest_hours)
        for i, first in enumerate(shifts):
            for second in shifts[i + 1 :]:
                if second.start < first.end:
                    self.flag("overlap", pid, [first.id, second.id], "shifts overlap")
                elif second.start < first.end + rest:
                    gap = (second.start - first.end) / timedelta(hours=1)
                    self.flag(
                        "rest",
                        pid,
                        [first.id, second.id],
                        f"only {gap:g} h rest between shifts, at least {rest_hours:g} h needed",
                    )
                else:
                    break
        forbidden = self.rules.forbidden_successions
        if forbidden:
            for first in shifts:
                assert first.day is not None
                for second in per_day.get(first.day + timedelta(days=1), []):
                    if (first.kind, second.kind) in forbidden:
                        self.flag(
                            "succession",
                            pid,
                            [first.id, second.id],
                            f"{second.kind} may not follow {first.kind} on the next day",
                        )
        kinds = Counter(s.kind for s in shifts)
        for kind, cap in person.max_shifts_by_kind.items():
            if kinds[kind] > cap:
                self.flag(
                    "kind_cap",
                    pid,
                    [s.id for s in shifts if s.kind == kind],
                    f"{kinds[kind]} {kind} shifts, at most {cap}",
                )
        max_shifts = self.limit(person, "max_shifts")
        if max_shifts is not None and len(shifts) > max_shifts:
            self.flag("max_shifts", pid, [], f"{len(shifts)} shifts, at most {max_shifts}")
        total = sum(int((s.end - s.start) / timedelta(minutes=1)) for s in shifts)
        low, high = self.limit(person, "min_minutes"), self.limit(person, "max_minutes")
        if high is not None and total > high:
            self.flag("max_minutes", pid, [], f"{total} minutes worked, at most {high}")
        if low is not None and total < low:
            self.flag("min_minutes", pid, [], f"{total} minutes worked, at least {low}")
        self.check_windows(person, shifts)
        self.check_runs(person, set(per_day))
        self.check_weekends(person, set(per_day))

    def check_windows(self, person: Person, shifts: list[Shift]) -> None:
        limits = (self.limit(person, "max_shifts_in_7_days"), person.weekly_cap)
        caps = [c for c in limits if c is not None]
        night_cap = self.limit(person, "max_nights_in_7_days")
        horizon = len(self.days)
        starts = range(max(horizon - 6, 1))
        for cap, rule, label, counted in (
            (min(caps) if caps else None, "seven_day_cap", "shifts", None),
            (night_cap, "nights_7_days", "night shifts", self.rules.night_kinds),
        ):
            if cap is None:
                continue
            for first in starts:
                inside = [
                    s
                    for s in shifts
                    # Shift.day is Optional only for the constructor: __post_init__ sets it
                    if first <= self.day_number[s.day] < first + 7  # type: ignore[index]
                    and (counted is None or s.kind in counted)
                ]
                if len(inside) > cap:
                    self.flag(
                        rule,
                        person.id,
                        [s.id for s in inside],
                        f"{len(inside)} {label} in the 7 days from {self.days[first]}, "
                        f"at most {cap}",
                    )

    def check_runs(self, person: Person, worked_days: set[date]) -> None:
        horizon = len(self.days)
        pattern = [day in worked_days for day in self.days]
        runs: list[tuple[bool, int, int]] = []  # (working, first index, length)
        start = 0
        for i in range(1, horizon + 1):
            if i == horizon or pattern[i] != pattern[start]:
                runs.append((pattern[start], start, i - start))
                start = i
        longest = self.limit(person, "max_consecutive_days")
        min_on = self.limit(person, "min_consecutive_days")
        min_off = self.limit(person, "min_consecutive_days_off")
        for working, first, length in runs:
            inner = first > 0 and first + length < horizon
            when = f"from {self.days[first]}"
            if working and longest is not None and length > longest:
                self.flag(
                    "max_consecutive_days",
                    person.id,
                    [],
                    f"{length} working days in a row {when}, at most {longest}",
                )
            if working and inner and min_on is not None and length < min_on:
                self.flag(
                    "min_consecutive_days",
                    person.id,
                    [],
                    f"only {length} working days in a row {when}, at least {min_on}",
                )
            if not working and inner and min_off is not None and length < min_off:
                self.flag(
                    "min_consecutive_days_off",
                    person.id,
                    [],
                    f"only {length} days off in a row {when}, at least {min_off}",
                )

    def check_weekends(self, person: Person, worked_days: set[date]) -> None:
        cap = self.limit(person, "max_weekends")
        if cap is None:
            return
        worked = {day.isocalendar()[:2] for day in worked_days if day.weekday() >= 5}
        if len(worked) > cap:
            self.flag(
                "max_weekends", person.id, [], f"{len(worked)} weekends worked, at most {cap}"
            )

    def check_pins(self) -> None:
        held = {(a.person, a.shift, a.role) for a in self.assignments}
        for pin in self.problem.pins:
            if (pin.person, pin.shift, pin.role) not in held:
                self.flag("pin_dropped", pin.person, [pin.shift], f"pinned {pin.role} was dropped")

    def check_caps(self) -> None:
        """A capped post (:meth:`solver.model.Problem.cap`) holds no more than its cap."""
        held: Counter[tuple[str, str]] = Counter(
            (a.shift, a.role)
            for a in self.assignments
            if a.shift in self.shifts and a.person in self.people
        )
        for (shift_id, role), n in sorted(held.items()):
            cap = self.problem.cap(shift_id, role)
            if cap is not None and n > cap:
                self.flag(
                    "over_cover",
                    None,
                    [shift_id],
                    f"{n} people on post {role}, at most {cap} needed",
                )

    # -- soft terms -------------------------------------------------------------------------

    def score(self) -> None:
        rules = self.rules
        filled: Counter[tuple[str, str]] = Counter()
        valid = [a for a in self.assignments if a.shift in self.shifts and a.person in self.people]
        for a in valid:
            filled[(a.shift, a.role)] += 1
        for shift in self.problem.shifts:
            for demand in shift.demands:
                n = filled[(shift.id, demand.role)]
                under = max(0, demand.min - n)
                over = max(0, n - demand.upper)
                if under:
                    self.unfilled[(shift.id, demand.role)] = under
                under_w = (
                    rules.weight_shortfall * shift.site_priority
                    if demand.under_weight is None
                    else demand.under_weight
                )
                over_w = (
                    rules.weight_over_cover if demand.over_weight is None else demand.over_weight
                )
                self.breakdown["shortfall"] += under_w * under
                self.breakdown["over_cover"] += over_w * over
            lead = rules.lead_role
            if (
                lead is not None
                and (lead_demand := shift.demand(lead)) is not None
                and lead_demand.min > 0
                and filled[(shift.id, lead)] == 0
            ):
                self.breakdown["missing_lead"] += rules.weight_missing_lead
        on_shift = {(a.person, a.shift) for a in valid}
        working = {
            (person_id, shift.day) for person_id, shifts in self.worked.items() for shift in shifts
        }
        for person in self.problem.people:
            for request in person.requests:
                granted_state = (
                    (person.id, request.shift) in on_shift
                    if request.shift is not None
                    else (person.id, request.day) in working
                )
                if granted_state != request.on:
                    self.breakdown["requests"] += rules.weight_requests * request.weight
        self.score_fairness()
        for person in self.problem.people:
            if person.preferred_sites:
                away = sum(
                    1
                    for s in self.worked.get(person.id, [])
                    if s.site not in person.preferred_sites
                )
                self.breakdown["preferred_site"] += rules.weight_preferred_site * away
        pairs = {frozenset((p.id, p.partner)) for p in self.problem.people if p.partner}
        for pair in pairs:
            one, other = sorted(pair)
            mine = {s.id for s in self.worked.get(one, [])}
            theirs = {s.id for s in self.worked.get(other, [])}
            self.breakdown["partner_apart"] += rules.weight_partner_apart * len(mine ^ theirs)
        for shifts in self.worked.values():
            sites_on: dict[date, set[str]] = defaultdict(set)
            for s in shifts:
                # Shift.day is Optional only for the constructor: __post_init__ sets it
                sites_on[s.day].add(s.site)  # type: ignore[index]
            for day, here in sites_on.items():
                there = sites_on.get(day + timedelta(days=1))
                if there and any(a != b for a in here for b in there):
                    self.breakdown["site_change"] += rules.weight_site_change
        held = {(a.person, a.shift, a.role) for a in valid}
        dropped = sum(1 for a in self.problem.baseline if (a.person, a.shift, a.role) not in held)
        self.breakdown["baseline_change"] += rules.weight_baseline_change * dropped

    def score_fairness(self) -> None:
        rules = self.rules
        if rules.weight_fair_load:
            # The k-th shift of a person costs 50 (2k - 1) / capacity, rounded half up, where
            # capacity is what they offered: the given fair capacity, else the least of their
            # 7-day cap per started week, max shifts and shifts per day on their available days.
            weeks = -(-len(self.days) // 7)
            total = 0
            for person in self.problem.people:
                cap = person.fair_capacity
                if cap is None:
                    open_days = self.problem._available_days(person) - person.days_off
                    caps = [len(open_days) * (rules.max_shifts_per_day or 3)]
                    seven = [
                        c
                        for c in (self.limit(person, "max_shifts_in_7_days"), person.weekly_cap)
                        if c is not None
                    ]
                    if seven:
                        caps.append(int(min(seven)) * weeks)
                    most = self.limit(person, "max_shifts")
                    if most is not None:
                        caps.append(int(most))
                    cap = max(0, min(caps))
                if cap:
                    load = len(self.worked.get(person.id, []))
                    total += sum((100 * (2 * k - 1) + cap) // (2 * cap) for k in range(1, load + 1))
            self.breakdown["fair_load"] += rules.weight_fair_load * total
        if rules.weight_fair_nights and rules.night_kinds:
            nights = [
                sum(1 for s in shifts if s.kind in rules.night_kinds)
                for shifts in self.worked.values()
            ]
            self.breakdown["fair_nights"] += rules.weight_fair_nights * max(nights, default=0)
