"""The rostering problem and its solution, as frozen, validated dataclasses.

Everything the solver, the checker and the app exchange lives here. The types are shaped so
that both the volunteer domain (sites, three 8-hour shifts a day, several posts per shift,
availability) and published nurse-rostering benchmarks (one site, one role, shift types as
kinds, day-based rules) map onto them without special cases.

Conventions:

* A *day* is the local date a shift starts on; a shift crossing midnight belongs to the day it
  starts. Day-based rules (consecutive days, days off, weekends) count these days.
* A limit set to ``None`` on a :class:`Person` means "use the :class:`Rules` default"; a limit
  set to ``None`` on :class:`Rules` means "no limit".
* Weights are non-negative integers; the objective is their weighted sum (lower is better).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from itertools import chain
from types import MappingProxyType
from typing import Any

__all__ = [
    "Assignment",
    "Availability",
    "Demand",
    "Person",
    "Problem",
    "Request",
    "Rules",
    "Shift",
    "SlotTable",
    "Solution",
    "UnfilledPost",
]


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _non_negative(value: int | float | None, name: str, owner: str) -> None:
    if value is not None:
        _require(value >= 0, f"{owner}: {name} must be >= 0, got {value}")


def _unique(ids: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for item in ids:
        _require(item not in seen, f"duplicate {what} id {item!r}")
        seen.add(item)


@dataclass(frozen=True)
class Demand:
    """How many people a shift needs in one role.

    ``min`` is the head count to reach; each missing person costs ``under_weight``. ``max``
    (``None`` means equal to ``min``) is the most that are useful; each person above it costs
    ``over_weight``. A weight of ``None`` uses the rule's default weight.
    """

    role: str
    min: int
    max: int | None = None
    under_weight: int | None = None
    over_weight: int | None = None

    def __post_init__(self) -> None:
        owner = f"demand {self.role!r}"
        _require(bool(self.role), "demand role must be a non-empty string")
        _non_negative(self.min, "min", owner)
        if self.max is not None:
            _require(self.max >= self.min, f"{owner}: max {self.max} < min {self.min}")
        _non_negative(self.under_weight, "under_weight", owner)
        _non_negative(self.over_weight, "over_weight", owner)

    @property
    def upper(self) -> int:
        """The head count above which extra people are over-cover."""
        return self.min if self.max is None else self.max


@dataclass(frozen=True)
class Shift:
    """One shift at one site: a time interval with a head count per role.

    ``kind`` is a free label ("night", "day", "evening", or a benchmark's shift type id) that
    per-kind limits, night rules and forbidden successions refer to. ``day`` defaults to the
    local date of ``start`` (in ``start``'s own time zone). ``site_priority`` multiplies the
    default shortfall weight of the shift's demands, so busier sites are staffed first.
    """

    id: str
    site: str
    start: datetime
    end: datetime
    kind: str
    demands: tuple[Demand, ...]
    site_priority: int = 1
    day: date | None = None

    def __post_init__(self) -> None:
        owner = f"shift {self.id!r}"
        _require(bool(self.id), "shift id must be a non-empty string")
        for name, moment in (("start", self.start), ("end", self.end)):
            _require(
                moment.tzinfo is not None and moment.utcoffset() is not None,
                f"{owner}: {name} must be a timezone-aware datetime",
            )
        _require(self.start < self.end, f"{owner}: start must be before end")
        object.__setattr__(self, "demands", tuple(self.demands))
        _unique((d.role for d in self.demands), f"{owner}: demand role")
        _non_negative(self.site_priority, "site_priority", owner)
        if self.day is None:
            object.__setattr__(self, "day", self.start.date())

    @cached_property
    def minutes(self) -> int:
        """Length of the shift in whole minutes (computed once: the searches ask often)."""
        return int((self.end - self.start) / timedelta(minutes=1))

    @property
    def roles(self) -> frozenset[str]:
        """The roles this shift has a demand for."""
        return frozenset(d.role for d in self.demands)

    def demand(self, role: str) -> Demand | None:
        """The demand for ``role``, or ``None`` when the shift has none."""
        return next((d for d in self.demands if d.role == role), None)


@dataclass(frozen=True)
class Request:
    """A wish to work (``on=True``) or not to work (``on=False``) a shift or a whole day.

    Exactly one of ``shift`` and ``day`` is set. An ungranted request costs ``weight``.
    """

    on: bool
    weight: int
    shift: str | None = None
    day: date | None = None

    def __post_init__(self) -> None:
        _require(
            (self.shift is None) != (self.day is None),
            "request must name exactly one of shift or day",
        )
        _non_negative(self.weight, "weight", "request")


class SlotTable:
    """Shift ids grouped by time slot (say a day and a shift kind): the slots a volunteer
    offers are the same at every site, so the shifts of a slot are listed once here and shared
    by every person's :class:`Availability`."""

    __slots__ = ("by_ids", "shifts_of", "slot_of")

    def __init__(self, shifts_of: Mapping[Any, Iterable[str]]) -> None:
        self.shifts_of: dict[Hashable, frozenset[str]] = {
            slot: frozenset(ids) for slot, ids in shifts_of.items()
        }
        self.slot_of: dict[str, Hashable] = {
            sid: slot for slot, ids in self.shifts_of.items() for sid in ids
        }
        # a slot's shift ids -> the slot (isdisjoint with a whole slot is one look-up)
        self.by_ids: dict[frozenset[str], Hashable] = {
            ids: slot for slot, ids in self.shifts_of.items()
        }


class Availability(AbstractSet[str]):
    """The shift ids a person is available for, kept as the slots of a shared
    :class:`SlotTable` (plus ``extra`` shift ids, less ``excluded`` ones) and expanded only
    when iterated: a thousand people available on a third of 90 days' slots at 20 sites are
    millions of set entries as frozensets. Behaves as a read-only set of shift ids; set
    operations return frozensets."""

    __slots__ = ("_len", "excluded", "extra", "slots", "table")

    def __init__(
        self,
        table: SlotTable,
        slots: Iterable[Hashable],
        *,
        extra: Iterable[str] = (),
        excluded: Iterable[str] = (),
    ) -> None:
        self.table = table
        self.slots = frozenset(slot for slot in slots if slot in table.shifts_of)
        self.extra = frozenset(extra)
        self.excluded = frozenset(excluded) - self.extra
        self._len: int | None = None

    def __contains__(self, shift_id: object) -> bool:
        if shift_id in self.extra:
            return True
        # any object may be asked about; a non-str simply is not a member
        slot = self.table.slot_of.get(shift_id)  # type: ignore[call-overload]
        return slot is not None and slot in self.slots and shift_id not in self.excluded

    def __iter__(self) -> Iterator[str]:
        shifts_of = self.table.shifts_of
        every = chain.from_iterable([shifts_of[slot] for slot in self.slots])
        if not self.extra and not self.excluded:
            return every  # the common case, iterated in C
        skip = self.excluded | self.extra
        return chain(self.extra, (shift_id for shift_id in every if shift_id not in skip))

    def __len__(self) -> int:
        if self._len is None:
            if not self.extra and not self.excluded:
                shifts_of = self.table.shifts_of
                self._len = sum(len(shifts_of[slot]) for slot in self.slots)
            else:
                self._len = sum(1 for _ in self)
        return self._len

    def isdisjoint(self, other: Iterable[object]) -> bool:
        slot = self.table.by_ids.get(other) if isinstance(other, frozenset) else None
        if slot is not None:  # the shifts of one slot: one look-up
            if slot in self.slots and not self.excluded.issuperset(other):
                return False
            return self.extra.isdisjoint(other)
        return not any(shift_id in self for shift_id in other)

    @classmethod
    # Set operators build a plain frozenset (the slot table is not theirs to share).
    def _from_iterable(cls, it: Iterable[str]) -> frozenset[str]:  # type: ignore[override]
        return frozenset(it)

    __hash__ = AbstractSet._hash

    def __repr__(self) -> str:
        return f"Availability({len(self.slots)} slots, {len(self)} shifts)"


@dataclass(frozen=True)
class Person:
    """Someone who can be rostered, with their availability, wishes and personal limits.

    ``available`` is hard: the person is only placed on these shift ids (a frozenset, or an
    :class:`Availability` kept per time slot). ``roles`` are the roles
    they are qualified for. ``weekly_cap`` is their stated capacity (shifts in any 7 days): a
    hard cap and the yardstick for fair load. ``fair_capacity`` is the number of shifts fair
    load is measured against (see :mod:`solver.rules.fairness`); ``None`` computes it from the
    caps and the days they are available (a sub-problem passes the whole problem's value).
    Every limit left at ``None`` falls back to the :class:`Rules` default.
    """

    id: str
    roles: frozenset[str]
    available: AbstractSet[str]
    days_off: frozenset[date] = frozenset()
    requests: tuple[Request, ...] = ()
    preferred_sites: frozenset[str] = frozenset()
    partner: str | None = None
    accepts_nights: bool = True
    weekly_cap: int | None = None
    max_shifts_by_kind: Mapping[str, int] = field(default_factory=dict)
    max_shifts_in_7_days: int | None = None
    max_shifts: int | None = None
    min_minutes: int | None = None
    max_minutes: int | None = None
    max_consecutive_days: int | None = None
    min_consecutive_days: int | None = None
    min_consecutive_days_off: int | None = None
    max_weekends: int | None = None
    max_nights_in_7_days: int | None = None
    min_rest_hours: float | None = None
    fair_capacity: int | None = None

    def __post_init__(self) -> None:
        owner = f"person {self.id!r}"
        _require(bool(self.id), "person id must be a non-empty string")
        object.__setattr__(self, "roles", frozenset(self.roles))
        if not isinstance(self.available, Availability):
            object.__setattr__(self, "available", frozenset(self.available))
        object.__setattr__(self, "days_off", frozenset(self.days_off))
        object.__setattr__(self, "requests", tuple(self.requests))
        object.__setattr__(self, "preferred_sites", frozenset(self.preferred_sites))
        object.__setattr__(
            self, "max_shifts_by_kind", MappingProxyType(dict(self.max_shifts_by_kind))
        )
        _require(self.partner != self.id, f"{owner}: cannot be their own partner")
        for kind, limit in self.max_shifts_by_kind.items():
            _non_negative(limit, f"max_shifts_by_kind[{kind!r}]", owner)
        for name in (
            "weekly_cap",
            "max_shifts_in_7_days",
            "max_shifts",
            "min_minutes",
            "max_minutes",
            "max_weekends",
            "max_nights_in_7_days",
            "min_rest_hours",
            "fair_capacity",
        ):
            _non_negative(getattr(self, name), name, owner)
        for name in ("max_consecutive_days", "min_consecutive_days", "min_consecutive_days_off"):
            value = getattr(self, name)
            if value is not None:
                _require(value >= 1, f"{owner}: {name} must be >= 1, got {value}")
        if self.min_minutes is not None and self.max_minutes is not None:
            _require(
                self.max_minutes >= self.min_minutes,
                f"{owner}: max_minutes {self.max_minutes} < min_minutes {self.min_minutes}",
            )

    def __hash__(self) -> int:
        return hash(self.id)


@dataclass(frozen=True)
class Rules:
    """Rule defaults for everyone and the weight of every soft goal.

    The defaults are the product brief's: 16 h rest, at most 5 shifts in any 7 days, at most 6
    consecutive working days, at most 3 nights in any 7 days, one shift per day. ``None`` means
    "no limit". Weights are listed in the brief's order of importance.
    """

    max_shifts_per_day: int | None = 1
    min_rest_hours: float = 16.0
    max_shifts_in_7_days: int | None = 5
    max_consecutive_days: int | None = 6
    min_consecutive_days: int | None = None
    min_consecutive_days_off: int | None = None
    max_weekends: int | None = None
    max_nights_in_7_days: int | None = 3
    max_shifts: int | None = None
    min_minutes: int | None = None
    max_minutes: int | None = None
    night_kinds: frozenset[str] = frozenset({"night"})
    # (kind, kind on the next day) pairs that may not follow each other, e.g. ("N", "E").
    forbidden_successions: frozenset[tuple[str, str]] = frozenset()
    # The role whose absence on a shift that asks for it costs ``weight_missing_lead``.
    lead_role: str | None = "lead"
    # Runs of days that touch either end of the horizon are exempt from minimum-run rules
    # (history outside the horizon is unknown).
    weight_shortfall: int = 1000
    weight_missing_lead: int = 500
    weight_over_cover: int = 100
    weight_fair_load: int = 5
    weight_fair_nights: int = 10
    weight_preferred_site: int = 5
    weight_partner_apart: int = 3
    weight_site_change: int = 2
    weight_baseline_change: int = 1
    weight_requests: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "night_kinds", frozenset(self.night_kinds))
        object.__setattr__(
            self, "forbidden_successions", frozenset(tuple(p) for p in self.forbidden_successions)
        )
        for name, value in vars(self).items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                _non_negative(value, name, "rules")
        _require(
            self.max_shifts_per_day is None or self.max_shifts_per_day >= 1,
            "rules: max_shifts_per_day must be >= 1",
        )
        for name in ("max_consecutive_days", "min_consecutive_days", "min_consecutive_days_off"):
            value = getattr(self, name)
            _require(value is None or value >= 1, f"rules: {name} must be >= 1, got {value}")
        for pair in self.forbidden_successions:
            _require(len(pair) == 2, f"rules: forbidden succession {pair!r} must be a pair")


@dataclass(frozen=True)
class Assignment:
    """``person`` works ``shift`` in ``role``."""

    person: str
    shift: str
    role: str


@dataclass(frozen=True)
class Problem:
    """Everything needed to roster one planning period.

    ``pins`` are hard (hand-pinned assignments and self-sign-ups). ``baseline`` is the previous
    roster when re-solving: changing it costs ``Rules.weight_baseline_change`` per dropped
    assignment and it seeds the search. The horizon runs from ``first_day`` to ``last_day``
    (inclusive; by default the first and last shift days).

    Over-cover is soft by default (benchmarks penalise it per person). With ``cover_cap`` a
    demand's upper head count is a hard cap instead (the app: nobody is sent to a post that
    does not need them); ``caps`` adds hard caps on single posts, ``(shift, role) -> most
    people``, which may lie below the minimum (a repair that may only refill what was
    vacated). A cap never falls below the pins on that post, so pins stay feasible; see
    :meth:`cap`.
    """

    shifts: tuple[Shift, ...]
    people: tuple[Person, ...]
    rules: Rules = field(default_factory=Rules)
    pins: tuple[Assignment, ...] = ()
    baseline: tuple[Assignment, ...] = ()
    first_day: date | None = None
    last_day: date | None = None
    cover_cap: bool = False
    caps: Mapping[tuple[str, str], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("shifts", "people", "pins", "baseline"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        _unique((s.id for s in self.shifts), "shift")
        _unique((p.id for p in self.people), "person")
        shifts = {s.id: s for s in self.shifts}
        people = {p.id: p for p in self.people}
        for person in self.people:
            owner = f"person {person.id!r}"
            unknown = sorted(person.available - shifts.keys())
            _require(not unknown, f"{owner}: available names unknown shifts {unknown[:5]}")
            if person.partner is not None:
                _require(
                    person.partner in people,
                    f"{owner}: partner {person.partner!r} is not a person in the problem",
                )
            for request in person.requests:
                if request.shift is not None:
                    _require(
                        request.shift in shifts,
                        f"{owner}: request names unknown shift {request.shift!r}",
                    )
        days: list[date] = []
        for s in self.shifts:
            assert s.day is not None  # Shift.__post_init__ fills it in
            days.append(s.day)
        if self.first_day is None:
            object.__setattr__(self, "first_day", min(days, default=None))
        if self.last_day is None:
            object.__setattr__(self, "last_day", max(days, default=None))
        if days:
            assert self.first_day is not None
            assert self.last_day is not None
            _require(self.first_day <= self.last_day, "first_day must not be after last_day")
            _require(
                self.first_day <= min(days) and max(days) <= self.last_day,
                "every shift day must lie within first_day..last_day",
            )
        for what, assignments in (("pin", self.pins), ("baseline", self.baseline)):
            for a in assignments:
                label = f"{what} {a.person!r}->{a.shift!r}/{a.role!r}"
                _require(a.person in people, f"{label}: unknown person")
                _require(a.shift in shifts, f"{label}: unknown shift")
                _require(shifts[a.shift].demand(a.role) is not None, f"{label}: shift has no role")
        _unique((f"{a.person}\0{a.shift}" for a in self.pins), "pin (person, shift)")
        object.__setattr__(self, "caps", MappingProxyType(dict(self.caps)))
        for (shift_id, role), most in self.caps.items():
            label = f"cap {shift_id!r}/{role!r}"
            _require(shift_id in shifts, f"{label}: unknown shift")
            _require(shifts[shift_id].demand(role) is not None, f"{label}: shift has no role")
            _non_negative(most, "most", label)
        for a in self.pins:
            label = f"pin {a.person!r}->{a.shift!r}/{a.role!r}"
            person = people[a.person]
            _require(a.shift in person.available, f"{label}: person is not available")
            _require(a.role in person.roles, f"{label}: person is not qualified for the role")

    @property
    def days(self) -> tuple[date, ...]:
        """Every day of the horizon, in order."""
        if self.first_day is None or self.last_day is None:
            return ()
        count = (self.last_day - self.first_day).days + 1
        return tuple(self.first_day + timedelta(days=i) for i in range(count))

    def shift(self, shift_id: str) -> Shift:
        """The shift with this id (``KeyError`` when unknown)."""
        return self._shift_index()[shift_id]

    def person(self, person_id: str) -> Person:
        """The person with this id (``KeyError`` when unknown)."""
        return self._person_index()[person_id]

    def cap(self, shift_id: str, role: str) -> int | None:
        """The most people the post (``shift_id``, ``role``) may hold, or ``None`` (no hard cap).

        The demand's upper head count with ``cover_cap``, lowered by an entry in ``caps``, but
        never below the number of pins on the post: a pin kept after the head count was
        lowered widens the cap instead of making the problem infeasible.
        """
        return self._cap_index().get((shift_id, role))

    def _cap_index(self) -> dict[tuple[str, str], int]:
        index = self.__dict__.get("_caps_by_post")
        if index is None:
            pinned: dict[tuple[str, str], int] = {}
            for a in self.pins:
                pinned[(a.shift, a.role)] = pinned.get((a.shift, a.role), 0) + 1
            index = {}
            for shift in self.shifts:
                for demand in shift.demands:
                    key = (shift.id, demand.role)
                    most = demand.upper if self.cover_cap else None
                    if key in self.caps:
                        most = self.caps[key] if most is None else min(most, self.caps[key])
                    if most is not None:
                        index[key] = max(most, pinned.get(key, 0))
            object.__setattr__(self, "_caps_by_post", index)
        return index

    def _shift_index(self) -> dict[str, Shift]:
        index = self.__dict__.get("_shifts_by_id")
        if index is None:
            index = {s.id: s for s in self.shifts}
            object.__setattr__(self, "_shifts_by_id", index)
        return index

    def _available_days(self, person: Person) -> set[date | None]:
        """The days of the shifts ``person`` is available for. An :class:`Availability`
        without excluded shifts is read slot by slot (each slot's days found once per slot
        table), not shift by shift: a year at 50 sites is millions of shift ids. (A shift's
        day is set by Shift.__post_init__; None never occurs.)"""
        shifts = self._shift_index()
        available = person.available
        if not isinstance(available, Availability) or available.excluded:
            return {shifts[s].day for s in available}
        tables = self.__dict__.get("_slot_days")
        if tables is None:
            tables = {}
            object.__setattr__(self, "_slot_days", tables)
        table = available.table
        # keyed by identity; the table is kept in the value so that its id is not reused
        entry = tables.get(id(table))
        if entry is None:
            entry = (table, {})
            tables[id(table)] = entry
        per_slot: dict[Hashable, frozenset[date | None]] = entry[1]
        days: set[date | None] = set()
        for slot in available.slots:
            found = per_slot.get(slot)
            if found is None:
                found = frozenset(shifts[s].day for s in table.shifts_of[slot] if s in shifts)
                per_slot[slot] = found
            days |= found
        days.update(shifts[s].day for s in available.extra)
        return days

    def _person_index(self) -> dict[str, Person]:
        index = self.__dict__.get("_people_by_id")
        if index is None:
            index = {p.id: p for p in self.people}
            object.__setattr__(self, "_people_by_id", index)
        return index

    def limit(self, person: Person, name: str) -> int | float | None:
        """The effective value of limit ``name`` for ``person``: their own, else the rule's."""
        own = getattr(person, name)
        value: int | float | None = own if own is not None else getattr(self.rules, name)
        return value


@dataclass(frozen=True)
class UnfilledPost:
    """``missing`` people short of the minimum head count for ``role`` on ``shift``."""

    shift: str
    role: str
    missing: int


@dataclass(frozen=True)
class Solution:
    """A roster and how good it is.

        ``status`` is CP-SAT's ("OPTIMAL", "FEASIBLE", "INFEASIBLE", "UNKNOWN", "MODEL_INVALID").
        ``objective`` is the weighted sum of ``breakdown`` (term name -> weighted value); ``bound``
        is the best proven lower bound on it. ``unfilled`` lists every post short of its minimum.
    ``time_to_best`` and ``time_to_first`` are the seconds until the returned roster and until the
    first roster were found.
    """

    status: str
    assignments: tuple[Assignment, ...]
    objective: int | None
    bound: int | None
    breakdown: Mapping[str, int]
    unfilled: tuple[UnfilledPost, ...]
    wall_time: float
    time_to_best: float = 0.0
    # seconds until the search held its first roster (None: no roster)
    time_to_first: float | None = None

    @property
    def feasible(self) -> bool:
        """Whether a roster was found (it may still have unfilled posts)."""
        return self.status in ("OPTIMAL", "FEASIBLE")
