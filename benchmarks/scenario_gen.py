"""A seeded generator of realistic volunteer call-ups for :mod:`benchmarks.scenario`.

The shape follows the product brief: highway checkpoints run 24/7 in three 8-hour shifts (night
00-08, day 08-16, evening 16-24, Asia/Shanghai) with 4-6 posts per shift including a site lead;
community testing sites run day and evening only and need samplers, who must hold a medical
qualification. Sites belong to districts; volunteers belong to a district and a work unit, say
when they can serve per (date, shift time) with a few realistic patterns (full-timers, weekday
evenings, weekends, scattered), a share refuse nights, some sign up with a partner, and each
states a weekly cap of 3-5 shifts.

Availability is given per time slot, not per site, so a volunteer available on a slot is
available at every site that runs a shift in it (that is what the app's planning bridge does).

Everything is drawn from ``random.Random(seed)`` in a fixed order: the same size and seed give
the same problem.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone

from solver.model import Availability, Demand, Person, Problem, Shift, SlotTable

__all__ = ["SIZES", "Scenario", "generate"]

# size -> (volunteers, sites, days)
SIZES: dict[str, tuple[int, int, int]] = {
    "XS": (40, 2, 7),
    "S": (200, 6, 7),
    "M": (1_000, 20, 14),
    "L": (3_000, 60, 14),
    "XL": (10_000, 200, 14),
}

TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
FIRST_DAY = date(2022, 4, 11)  # a Monday
# kind -> (start hour, code used in shift ids)
SHIFT_TIMES = {"night": (0, "N"), "day": (8, "D"), "evening": (16, "E")}

LEAD = "lead"
SAMPLER = "sampler"
GENERAL_ROLES = ("code_check", "temperature", "registrar", "marshal")
CHECKPOINT_SHARE = 0.45


@dataclass(frozen=True)
class Scenario:
    """A generated problem plus the facts the solver does not need (districts, work units)."""

    problem: Problem
    size: str
    seed: int
    site_district: dict[str, str]
    person_district: dict[str, str]
    person_unit: dict[str, str]

    @property
    def posts(self) -> int:
        """Posts to fill: the sum of every demand's minimum head count."""
        return sum(d.min for s in self.problem.shifts for d in s.demands)


def _shift(site: str, day: date, kind: str, demands: tuple[Demand, ...]) -> Shift:
    hour, code = SHIFT_TIMES[kind]
    start = datetime(day.year, day.month, day.day, hour, tzinfo=TZ)
    return Shift(
        id=f"{site}/{day:%m%d}/{code}",
        site=site,
        start=start,
        end=start + timedelta(hours=8),
        kind=kind,
        demands=demands,
    )


def generate(size: str, seed: int = 0, days: int | None = None) -> Scenario:
    """Build the scenario of ``size`` (a key of :data:`SIZES`) for ``seed``; ``days``
    replaces the size's horizon (a long call-up: 90 days and more)."""
    volunteers, site_count, day_count = SIZES[size]
    if days is None:
        rng = random.Random(f"muster-scenario/{size}/{seed}")
    else:
        if days < 1:
            raise ValueError("days must be positive")
        day_count = days
        rng = random.Random(f"muster-scenario/{size}/{seed}/{days}")
    horizon = [FIRST_DAY + timedelta(days=i) for i in range(day_count)]
    districts = [f"d{i:02d}" for i in range(max(2, round(site_count / 5)))]

    # Sites: checkpoints (24/7) and testing sites (day + evening), spread over districts.
    sites: list[tuple[str, str, str]] = []  # (id, kind, district)
    checkpoints = max(1, round(site_count * CHECKPOINT_SHARE))
    for i in range(site_count):
        district = districts[i % len(districts)]
        if i < checkpoints:
            sites.append((f"{district}-cp{i:03d}", "checkpoint", district))
        else:
            sites.append((f"{district}-ts{i:03d}", "testing", district))
    sites.sort()
    shifts: list[Shift] = []
    for site_id, kind, _ in sites:
        if kind == "checkpoint":
            staff = {k: rng.randint(3, 5) for k in SHIFT_TIMES}  # plus the lead: 4-6 posts
            for day in horizon:
                for shift_kind in SHIFT_TIMES:
                    fewer = shift_kind == "night" and staff["night"] > 3
                    n = staff[shift_kind] - int(fewer)
                    roles = _spread(n, ("code_check", "temperature", "registrar"))
                    demands = (Demand(LEAD, 1), *(Demand(r, c) for r, c in roles if c))
                    shifts.append(_shift(site_id, day, shift_kind, demands))
        else:
            samplers = rng.randint(1, 2)
            others = rng.randint(2, 4)
            for day in horizon:
                for shift_kind in ("day", "evening"):
                    extra = 1 if day.weekday() >= 5 and shift_kind == "day" else 0
                    roles = _spread(others + extra, ("code_check", "registrar", "marshal"))
                    demands = (
                        Demand(LEAD, 1),
                        Demand(SAMPLER, samplers),
                        *(Demand(r, c) for r, c in roles if c),
                    )
                    shifts.append(_shift(site_id, day, shift_kind, demands))
    by_slot: dict[tuple[date, str], list[str]] = {}
    for s in shifts:
        assert s.day is not None
        by_slot.setdefault((s.day, s.kind), []).append(s.id)
    # availability is kept per slot and expanded lazily (solver.model.Availability)
    table = SlotTable(by_slot)
    sites_of_district: dict[str, list[str]] = {}
    for site_id, _, district in sites:
        sites_of_district.setdefault(district, []).append(site_id)

    units = [f"u{i:03d}" for i in range(max(3, volunteers // 40))]
    people: list[Person] = []
    person_district: dict[str, str] = {}
    person_unit: dict[str, str] = {}
    pairs: list[tuple[int, int]] = []
    previous: list[tuple[date, str]] = []
    for i in range(volunteers):
        pid = f"v{i:05d}"
        district = rng.choice(districts)
        person_district[pid] = district
        person_unit[pid] = rng.choice(units)
        person_roles = set(GENERAL_ROLES)
        if rng.random() < 0.15:
            person_roles.add(LEAD)
        if rng.random() < 0.08:
            person_roles.add(SAMPLER)
        accepts_nights = rng.random() >= 0.35
        if pairs and pairs[-1][1] == i:
            # the second of a pair mostly shares the first one's availability
            pattern = [slot for slot in previous if rng.random() < 0.9]
        else:
            pattern = _pattern(rng, horizon, accepts_nights)
            if rng.random() < 0.05 and i + 1 < volunteers:
                pairs.append((i, i + 1))
        previous = pattern
        if not accepts_nights:
            pattern = [slot for slot in pattern if slot[1] != "night"]
        available = Availability(table, pattern)
        preferred: frozenset[str] = frozenset()
        if rng.random() < 0.6 and sites_of_district.get(district):
            local = sites_of_district[district]
            preferred = frozenset(rng.sample(local, min(len(local), rng.randint(1, 3))))
        people.append(
            Person(
                id=pid,
                roles=frozenset(person_roles),
                available=available,
                preferred_sites=preferred,
                accepts_nights=accepts_nights,
                weekly_cap=rng.randint(3, 5),
            )
        )
    for a, b in pairs:
        people[a] = replace(people[a], partner=people[b].id)
        people[b] = replace(people[b], partner=people[a].id)
    problem = Problem(shifts=tuple(shifts), people=tuple(people))
    return Scenario(
        problem=problem,
        size=size,
        seed=seed,
        site_district={s: d for s, _, d in sites},
        person_district=person_district,
        person_unit=person_unit,
    )


def _spread(count: int, roles: tuple[str, ...]) -> list[tuple[str, int]]:
    """``count`` posts over ``roles`` round-robin, as (role, head count)."""
    heads = dict.fromkeys(roles, 0)
    for i in range(count):
        heads[roles[i % len(roles)]] += 1
    return list(heads.items())


def _pattern(rng: random.Random, days: list[date], nights: bool) -> list[tuple[date, str]]:
    """One volunteer's available (day, shift kind) slots."""
    draw = rng.random()
    slots: list[tuple[date, str]] = []
    if draw < 0.2:  # full-timer: most days, day and evening, nights if accepted
        for day in days:
            if rng.random() < 0.85:
                slots += [(day, "day"), (day, "evening")]
                if nights and rng.random() < 0.7:
                    slots.append((day, "night"))
    elif draw < 0.5:  # weekday evenings plus a weekend day now and then
        for day in days:
            if day.weekday() < 5 and rng.random() < 0.85:
                slots.append((day, "evening"))
            elif day.weekday() >= 5 and rng.random() < 0.4:
                slots.append((day, rng.choice(("day", "evening"))))
    elif draw < 0.75:  # weekends
        for day in days:
            if day.weekday() >= 5:
                slots += [(day, "day"), (day, "evening")]
                if nights and rng.random() < 0.5:
                    slots.append((day, "night"))
    else:  # scattered: a random share of the grid
        share = rng.uniform(0.2, 0.5)
        for day in days:
            for kind in SHIFT_TIMES:
                if rng.random() < share:
                    slots.append((day, kind))
    return slots
