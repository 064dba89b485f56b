"""What a post is, and when it is filled: the one definition every count of a roster uses
(the run's status, the draft review, the publish page, the version page, the exports and the
dashboard), so they can never disagree.

- A **need** is one role on one shift of one site: (site, local date, shift kind, role), with
  a head count (the site's demand plus what open urgent requests add, `demand.demand_of`).
- A **post** is one head of a need: a need for 2 code checkers is 2 posts.
- A post is **filled** by one person assigned to that role on that shift. People beyond the
  head count fill no post: they are counted apart, as **over the head count**, never as
  filled, and never hide a post left empty elsewhere.
- **Unfilled** = posts − filled. A roster's assignments = filled + over the head count.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import Assignment, PlanningPeriod, Site
from scheduler.services.demand import demand_of, urgent_extra
from scheduler.services.duty import cancelled

__all__ = [
    "Count",
    "Coverage",
    "NeedKey",
    "coverage_sites",
    "held_in",
    "held_of",
    "roster_coverage",
]

NeedKey = tuple[int, date, str, int]  # site id, local date, shift kind, role id


@dataclass(frozen=True)
class Count:
    """Posts (heads needed) and people holding them, for one need or summed over many."""

    needed: int = 0
    held: int = 0
    filled: int = 0

    @property
    def unfilled(self) -> int:
        """Posts nobody holds."""
        return self.needed - self.filled

    @property
    def surplus(self) -> int:
        """People above the head count (they fill no post)."""
        return self.held - self.filled

    def __add__(self, other: Count) -> Count:
        return Count(self.needed + other.needed, self.held + other.held, self.filled + other.filled)


def _count(needed: int, held: int) -> Count:
    return Count(needed, held, min(needed, held))


@dataclass
class Coverage:
    """Every need of a roster with its count, and sums over them."""

    needs: dict[NeedKey, Count] = field(default_factory=dict)

    @property
    def total(self) -> Count:
        return sum(self.needs.values(), Count())

    @property
    def posts(self) -> int:
        return self.total.needed

    @property
    def filled(self) -> int:
        return self.total.filled

    @property
    def unfilled(self) -> int:
        return self.total.unfilled

    @property
    def surplus(self) -> int:
        return self.total.surplus

    @property
    def short_needs(self) -> int:
        """Needs (role on a shift) with at least one post unfilled."""
        return sum(1 for c in self.needs.values() if c.unfilled)

    def by_shift(self) -> dict[tuple[int, date, str], Count]:
        """Counts per (site id, day, shift kind)."""
        out: dict[tuple[int, date, str], Count] = defaultdict(Count)
        for (site_id, day, kind, _role), c in self.needs.items():
            out[(site_id, day, kind)] += c
        return dict(out)

    def by_site_day(self) -> dict[tuple[int, date], Count]:
        """Counts per (site id, day)."""
        out: dict[tuple[int, date], Count] = defaultdict(Count)
        for (site_id, day, _kind, _role), c in self.needs.items():
            out[(site_id, day)] += c
        return dict(out)

    def by_site(self) -> dict[int, Count]:
        """Counts per site id."""
        out: dict[int, Count] = defaultdict(Count)
        for (site_id, _day, _kind, _role), c in self.needs.items():
            out[site_id] += c
        return dict(out)


def held_in(roster_id: int | None, *, without_cancelled: bool = False) -> Counter[NeedKey]:
    """People per need in a roster, in one grouped query; `without_cancelled` leaves out the
    shifts their volunteer has cancelled (a published version as it stands now)."""
    if roster_id is None:
        return Counter()
    query = (
        select(
            Assignment.site_id,
            Assignment.day,
            Assignment.shift,
            Assignment.role_id,
            func.count(),
        )
        .where(Assignment.roster_id == roster_id)
        .group_by(Assignment.site_id, Assignment.day, Assignment.shift, Assignment.role_id)
    )
    if without_cancelled:
        query = query.where(~cancelled(Assignment))
    return Counter({(s, d, k, r): n for s, d, k, r, n in db.session.execute(query)})


def held_of(rows: Iterable[Assignment]) -> Counter[NeedKey]:
    """People per need in rows already loaded (an export's rows)."""
    return Counter((a.site_id, a.day, a.shift, a.role_id) for a in rows)


def roster_coverage(
    period: PlanningPeriod,
    held: Counter[NeedKey],
    site_ids: Iterable[int] | None = None,
) -> Coverage:
    """The needs of `period` (its active sites, or `site_ids` among them, on every day and
    shift they run, with open urgent requests) against `held` (`held_in` / `held_of`).
    People on a role or site the period no longer asks for count as over the head count."""
    wanted = set(site_ids) if site_ids is not None else None
    sites = [
        s for s in period.sites if s.archived_at is None and (wanted is None or s.id in wanted)
    ]
    chosen = {s.id for s in sites}
    extra = urgent_extra(period.id, chosen)
    needs: dict[NeedKey, Count] = {}
    for site in sites:
        for day in period.days:
            for kind in site.shift_kinds:
                for role_id, n in demand_of(site, day, kind, extra).items():
                    key = (site.id, day, kind, role_id)
                    needs[key] = _count(n, held.get(key, 0))
    for key, n in held.items():
        if key not in needs and (wanted is None or key[0] in wanted):
            needs[key] = _count(0, n)
    return Coverage(needs)


def coverage_sites(
    period: PlanningPeriod, coverage: Coverage, extra: Iterable[Site] = ()
) -> list[Site]:
    """The sites a coverage speaks of (the period's and any other holding people) and
    `extra`, by name."""
    known = {s.id: s for s in extra}
    ids = {key[0] for key in coverage.needs} | known.keys()
    known.update({s.id: s for s in period.sites})
    missing = ids - known.keys()
    if missing:
        known.update(
            {s.id: s for s in db.session.scalars(select(Site).where(Site.id.in_(missing)))}
        )
    return sorted((known[i] for i in ids), key=lambda s: (s.name, s.id))
