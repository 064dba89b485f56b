"""Incremental hard-rule bookkeeping for one roster: can this person take this shift?

:class:`RosterState` holds a roster indexed by person (days, shifts, counts) and answers
:meth:`RosterState.blocker` — the first hard rule that stops a person from taking one more
shift given everything they already hold, before or after it — in O(shifts near that day).
The constructive rosters of :mod:`solver.decompose` and the reasons of :mod:`solver.explain`
are built on it. It mirrors :mod:`solver.check` rule by rule for the upper limits; minimum
rules (minimum minutes, minimum runs) are not decided here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from solver.flow import WINDOW_DAYS, seven_day_cap
from solver.model import Assignment, Person, Problem, Shift

__all__ = ["Block", "RosterState"]

# (code, *facts): e.g. ("rest", other_shift_id, gap_hours, needed_hours)
Block = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class _Limits:
    """One person's limits as :meth:`RosterState.blocker` asks them (see Problem.limit)."""

    person: Person
    rest_hours: float
    rest: timedelta
    reach: int
    max_shifts: int | float | None
    max_minutes: int | float | None
    seven: int | None
    night_cap: int | float | None
    longest: int | float | None
    weekends: int | float | None


class RosterState:
    """A roster being built: who holds what, with per-person indices for rule checks."""

    def __init__(self, problem: Problem, assignments: Iterable[Assignment] = ()) -> None:
        self.problem = problem
        self.rules = problem.rules
        self.days = problem.days
        self.day_index = {d: i for i, d in enumerate(self.days)}
        self.horizon = len(self.days)
        self.shifts = problem._shift_index()
        self.people = problem._person_index()
        # person -> day index -> shifts held that day
        self.on_day: dict[str, dict[int, list[Shift]]] = defaultdict(dict)
        # person -> shift id -> role
        self.held: dict[str, dict[str, str]] = defaultdict(dict)
        # shift id -> person -> role
        self.by_shift: dict[str, dict[str, str]] = defaultdict(dict)
        self.filled: dict[tuple[str, str], int] = defaultdict(int)
        self.kind_count: dict[tuple[str, str], int] = defaultdict(int)
        self.minutes: dict[str, int] = defaultdict(int)
        # person -> (ISO year, week) of a weekend -> weekend days worked in it
        self.weekend_days: dict[str, dict[tuple[int, int], int]] = defaultdict(dict)
        self.weekend_of = {
            i: (d.isocalendar()[0], d.isocalendar()[1])
            for i, d in enumerate(self.days)
            if d.weekday() >= 5
        }
        self._seven: dict[str, int | None] = {}
        self._person_limits: dict[str, _Limits] = {}
        for a in assignments:
            self.add(a.person, self.shifts[a.shift], a.role)

    # -- bookkeeping ------------------------------------------------------------------------

    def day_of(self, shift: Shift) -> int:
        assert shift.day is not None
        return self.day_index[shift.day]

    def add(self, person_id: str, shift: Shift, role: str) -> None:
        """Record that ``person_id`` holds ``role`` on ``shift`` (no rule is checked)."""
        day = self.day_of(shift)
        self.on_day[person_id].setdefault(day, []).append(shift)
        self.held[person_id][shift.id] = role
        self.by_shift[shift.id][person_id] = role
        self.filled[(shift.id, role)] += 1
        self.kind_count[(person_id, shift.kind)] += 1
        self.minutes[person_id] += shift.minutes
        week = self.weekend_of.get(day)
        if week is not None:
            worked = self.weekend_days[person_id]
            worked[week] = worked.get(week, 0) + 1

    def remove(self, person_id: str, shift: Shift) -> str:
        """Undo :meth:`add`; returns the role that was held."""
        role = self.held[person_id].pop(shift.id)
        del self.by_shift[shift.id][person_id]
        day = self.day_of(shift)
        those = self.on_day[person_id][day]
        those.remove(shift)
        if not those:
            del self.on_day[person_id][day]
        self.filled[(shift.id, role)] -= 1
        self.kind_count[(person_id, shift.kind)] -= 1
        self.minutes[person_id] -= shift.minutes
        week = self.weekend_of.get(day)
        if week is not None:
            worked = self.weekend_days[person_id]
            worked[week] -= 1
            if not worked[week]:
                del worked[week]
        return role

    def load(self, person_id: str) -> int:
        """Shifts the person holds."""
        return len(self.held.get(person_id, ()))

    def assignments(self) -> list[Assignment]:
        """The roster as assignments, in a stable order."""
        return [
            Assignment(person_id, shift_id, role)
            for person_id in sorted(self.held)
            for shift_id, role in sorted(self.held[person_id].items())
        ]

    def seven_cap(self, person: Person) -> int | None:
        cap = self._seven.get(person.id, -1)
        if cap == -1:
            cap = seven_day_cap(self.problem, person)
            self._seven[person.id] = cap
        return cap

    # -- rules ------------------------------------------------------------------------------

    def static_block(self, person: Person, shift: Shift, role: str) -> Block | None:
        """Rules that never depend on the rest of the roster (availability, skills, ...)."""
        if shift.id not in person.available:
            return ("not_available",)
        if role not in person.roles:
            return ("not_qualified",)
        if shift.day in person.days_off:
            return ("day_off",)
        night = shift.kind in self.rules.night_kinds
        if night and not person.accepts_nights:
            return ("nights_refused",)
        if person.max_shifts_by_kind.get(shift.kind) == 0:
            return ("kind_cap", shift.kind, 0, 0)
        if night and self.problem.limit(person, "max_nights_in_7_days") == 0:
            return ("nights_limit", 0, 0, ())
        return None

    def _limits(self, person: Person) -> _Limits:
        """The person's limits that :meth:`blocker` asks, looked up once per person."""
        entry = self._person_limits.get(person.id)
        if entry is None or entry.person is not person:
            limit = self.problem.limit
            rest_hours = float(limit(person, "min_rest_hours") or 0)
            entry = _Limits(
                person=person,
                rest_hours=rest_hours,
                rest=timedelta(hours=rest_hours),
                reach=2 + int(rest_hours // 24),
                max_shifts=limit(person, "max_shifts"),
                max_minutes=limit(person, "max_minutes"),
                seven=self.seven_cap(person),
                night_cap=limit(person, "max_nights_in_7_days"),
                longest=limit(person, "max_consecutive_days"),
                weekends=limit(person, "max_weekends"),
            )
            self._person_limits[person.id] = entry
        return entry

    def blocker(self, person: Person, shift: Shift) -> Block | None:
        """The first hard rule that stops ``person`` from also working ``shift``, or ``None``.

        Only rules that depend on what the person already holds are checked here; see
        :meth:`static_block` for the others.
        """
        pid = person.id
        limits = self._limits(person)
        mine = self.on_day.get(pid, {})
        day = self.day_of(shift)
        if mine:
            rest = limits.rest
            reach = limits.reach
            forbidden = self.rules.forbidden_successions
            for other_day in range(day - reach, day + reach + 1):
                for s in mine.get(other_day, ()):
                    # s is held on other_day: the days between the two are known
                    if (s.start, s.id) <= (shift.start, shift.id):
                        first, second, gap_days = s, shift, day - other_day
                    else:
                        first, second, gap_days = shift, s, other_day - day
                    if s.id == shift.id or second.start < first.end:
                        return ("busy_elsewhere", s.id)
                    if rest and second.start < first.end + rest:
                        gap = (second.start - first.end) / timedelta(hours=1)
                        return ("rest", s.id, gap, limits.rest_hours)
                    if gap_days == 1 and (first.kind, second.kind) in forbidden:
                        return ("succession", s.id, first.kind, second.kind)
        per_day = self.rules.max_shifts_per_day
        if per_day is not None and len(mine.get(day, ())) >= per_day:
            return ("shifts_per_day", tuple(s.id for s in mine[day]), per_day)
        cap = person.max_shifts_by_kind.get(shift.kind)
        if cap is not None and self.kind_count[(pid, shift.kind)] >= cap:
            return ("kind_cap", shift.kind, self.kind_count[(pid, shift.kind)], cap)
        max_shifts = limits.max_shifts
        if max_shifts is not None:
            held = len(self.held.get(pid, ()))
            if held >= max_shifts:
                return ("max_shifts", held, int(max_shifts))
        max_minutes = limits.max_minutes
        if max_minutes is not None and self.minutes[pid] + shift.minutes > max_minutes:
            return ("max_minutes", self.minutes[pid], int(max_minutes))
        if mine:
            if limits.seven is not None or (
                limits.night_cap is not None and shift.kind in self.rules.night_kinds
            ):
                block = self._windows(person, shift, day, mine)
                if block is not None:
                    return block
            if limits.longest is not None and not mine.get(day):
                block = self._runs(person, day, mine)
                if block is not None:
                    return block
        if limits.weekends is None:
            return None
        return self._weekends(person, shift, mine)

    def _windows(
        self, person: Person, shift: Shift, day: int, mine: dict[int, list[Shift]]
    ) -> Block | None:
        """The 7-day limits over every window of days holding ``day``: each day's count is
        taken once and the windows slide over them."""
        nights = self.rules.night_kinds
        seven = self.seven_cap(person)
        night_cap = self.problem.limit(person, "max_nights_in_7_days")
        if night_cap is not None and shift.kind not in nights:
            night_cap = None
        last_start = max(self.horizon - WINDOW_DAYS, 0)
        starts = range(max(0, day - WINDOW_DAYS + 1), min(day, last_start) + 1)
        if not starts:
            return None
        low = starts.start
        high = starts.stop - 1 + WINDOW_DAYS  # one past the last day of the last window
        held = [mine.get(d, ()) for d in range(low, high)]
        count = night_count = 0
        if seven is not None:
            counts = [len(those) for those in held]
            count = sum(counts[:WINDOW_DAYS])
        if night_cap is not None:
            night_counts = [sum(1 for s in those if s.kind in nights) for those in held]
            night_count = sum(night_counts[:WINDOW_DAYS])
        for first in starts:
            if first > low:  # slide: the day before leaves, the window's last day comes in
                gone = first - 1 - low
                new = first + WINDOW_DAYS - 1 - low
                if seven is not None:
                    count += counts[new] - counts[gone]
                if night_cap is not None:
                    night_count += night_counts[new] - night_counts[gone]
            if seven is not None and count >= seven:
                code = "weekly_cap" if person.weekly_cap == seven else "seven_day_limit"
                return (code, count, seven, self.days[first])
            if night_cap is not None and night_count >= night_cap:
                return ("nights_limit", night_count, int(night_cap), self.days[first])
        return None

    def _runs(self, person: Person, day: int, mine: dict[int, list[Shift]]) -> Block | None:
        longest = self.problem.limit(person, "max_consecutive_days")
        if longest is None or mine.get(day):
            return None
        before = after = 0
        while mine.get(day - before - 1):
            before += 1
        while mine.get(day + after + 1):
            after += 1
        if before + after + 1 > longest:
            return ("consecutive_days", before + after, int(longest))
        return None

    def _weekends(self, person: Person, shift: Shift, mine: dict[int, list[Shift]]) -> Block | None:
        cap = self.problem.limit(person, "max_weekends")
        if cap is None or shift.day is None or shift.day.weekday() < 5:
            return None
        worked = self.weekend_days.get(person.id, {})
        week = shift.day.isocalendar()[:2]
        if week not in worked and len(worked) >= cap:
            return ("weekends", len(worked), int(cap))
        return None
