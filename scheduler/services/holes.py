"""The holes of a roster in a coordinator's terms: how many posts any roster could fill at all
with the people who said they can come (the solver's max-flow coverage bound, so a newcomer can
tell a short pool from a weak roster), and the unfilled posts grouped by role × shift × run of
consecutive days, each group one call-up's worth of need ("采样 · 白班 · 12月9–14日: 11 short")."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Protocol

from flask import current_app

from scheduler.models import SHIFT_KINDS, PlanningPeriod
from scheduler.planning import PlanningError, PlanningMap, build_problem
from scheduler.services.lookups import current_draft
from solver import Problem
from solver.flow import coverage_bound

__all__ = [
    "FILLABLE_TTL",
    "Hole",
    "HoleGroup",
    "fillable",
    "fillable_of",
    "group_holes",
    "shown_fillable",
]

# How long a period's figure is reused for the same draft revision. Building the problem and
# its max-flow takes ~0.1 s on the demo (300 volunteers) but ~1.1 s with 3,000 and ~3 s for
# the flow alone at 10,000: the review, publish and version pages share one computation. A
# change of availability or of the pool does not bump the draft's revision, hence the time
# limit: such a change shows within this many seconds.
FILLABLE_TTL = 60.0
_CACHE_KEY = "muster.fillable"
_lock = threading.Lock()


def fillable_of(problem: Problem, mapping: PlanningMap) -> int:
    """The most posts of the solved sites any roster of `problem` (built by
    scheduler.planning.build_problem) could fill: the max-flow coverage bound over the solved
    shifts, at most their posts. Shifts that only carry other sites' kept rows are left out:
    their head count is what they hold, and none of it is a post of the solved sites."""
    if mapping.fixed_shifts:
        problem = replace(
            problem,
            shifts=tuple(s for s in problem.shifts if s.id not in mapping.fixed_shifts),
            pins=(),
            baseline=(),
        )
    return min(coverage_bound(problem), mapping.posts_total)


def fillable(period: PlanningPeriod) -> int | None:
    """The most posts of `period` (all its active sites) any roster could fill with the
    volunteers available now, or None when it has no active site. Reused per draft revision
    for FILLABLE_TTL seconds (in this process, per app)."""
    draft = current_draft(period.id)
    key = (period.id, draft.id if draft is not None else None, draft.revision if draft else 0)
    cache: dict[tuple[int, int | None, int], tuple[float, int | None]]
    cache = current_app.extensions.setdefault(_CACHE_KEY, {})
    now = time.monotonic()
    with _lock:
        hit = cache.get(key)
    if hit is not None and now - hit[0] < FILLABLE_TTL:
        return hit[1]
    try:
        problem, mapping = build_problem(period)
    except PlanningError:
        value = None
    else:
        value = fillable_of(problem, mapping)
    with _lock:
        for old in [k for k in cache if k[0] == period.id]:
            del cache[old]
        cache[key] = (now, value)
    return value


def shown_fillable(bound: int | None, filled: int, total: int) -> int | None:
    """The fillable figure a page shows beside "filled X of Y": the bound, never below what
    the roster fills (a hand edit may overrule a rule the bound keeps) nor above its posts."""
    return None if bound is None else min(total, max(filled, bound))


class Hole(Protocol):
    """Posts nobody holds on one role of one shift (services.rosters.UnfilledLine)."""

    @property
    def role_id(self) -> int: ...
    @property
    def shift(self) -> str: ...
    @property
    def day(self) -> date: ...
    @property
    def missing(self) -> int: ...


@dataclass(frozen=True)
class HoleGroup:
    """Posts missing in one role on one shift kind over consecutive days (all sites)."""

    role_id: int
    shift: str
    first: date
    last: date
    missing: int

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def _kind_order(kind: str) -> int:
    return SHIFT_KINDS.index(kind) if kind in SHIFT_KINDS else len(SHIFT_KINDS)


def group_holes(holes: Iterable[Hole]) -> list[HoleGroup]:
    """Unfilled posts grouped by role × shift kind × run of consecutive days (a day without a
    hole in that role and shift ends a run), summed over sites; the largest first, then by
    first day, shift and role. Every missing post is in exactly one group."""
    per: dict[tuple[int, str], Counter[date]] = defaultdict(Counter)
    for hole in holes:
        if hole.missing > 0:
            per[(hole.role_id, hole.shift)][hole.day] += hole.missing
    groups: list[HoleGroup] = []
    for (role_id, kind), by_day in per.items():
        days = sorted(by_day)
        start = days[0]
        for prev, day in zip(days, [*days[1:], None], strict=True):
            if day is None or day - prev != timedelta(days=1):
                run = [d for d in days if start <= d <= prev]
                groups.append(HoleGroup(role_id, kind, start, prev, sum(by_day[d] for d in run)))
                if day is not None:
                    start = day
    return sorted(groups, key=lambda g: (-g.missing, g.first, _kind_order(g.shift), g.role_id))
