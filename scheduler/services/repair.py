"""Repairing drop-outs: when volunteers cancel published shifts, a minimal-change re-solve of
the draft fills the holes, and the coordinator publishes the proposed moves as a new version.

A repair is an ordinary solve run (`scheduler.services.rosters.start_run`, same job path) with
`minimal_change`: the job hands the draft and its holes (`scheduler.planning.repair_holes`:
posts the draft lost since the last published version, and open urgent requests) to
`solver.solve_repair`, which fills only the holes, moves only people who can fill one, and
only when that fills it. `scheduler.planning.build_problem` never offers a volunteer the
(day, shift) slot they cancelled, so nobody is put back on it.

The confirm page (`proposal`) says for every change why it is made, in words: whose place a
newcomer takes, where a moved volunteer goes and who takes their place, why someone is taken
off. A change that takes a volunteer off a shift they were already told (the latest published
version) needs the coordinator's tick: `publish_repair` refuses to publish unticked ones, and
`needs_approval` keeps the ordinary publish button from publishing them past the repair page.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import date

from flask import current_app
from sqlalchemy import select

import solver
from scheduler.extensions import db
from scheduler.i18n import lazy_gettext as _l
from scheduler.models import (
    Assignment,
    PlanningPeriod,
    Role,
    Roster,
    Site,
    SolveRun,
    User,
)
from scheduler.planning import PlanningError, build_problem, person_id, shift_id
from scheduler.services import audit, lookups, my_shifts, publishing, rosters
from scheduler.services.demand import demand_of, urgent_extra
from scheduler.services.editing import RULE_LABELS
from scheduler.services.errors import ServiceError
from scheduler.services.publishing import RosterDiff, Slot
from scheduler.services.rosters import RosterError

# Short by default: filling a few holes against a fixed baseline is a small search.
DEFAULT_REPAIR_TIME_LIMIT = 20

__all__ = [
    "DEFAULT_REPAIR_TIME_LIMIT",
    "RepairChange",
    "RepairError",
    "RepairProposal",
    "needs_approval",
    "proposal",
    "publish_repair",
    "repair_time_limit",
    "start_repair",
]


class RepairError(ServiceError):
    """Why the repair cannot be published as it stands (nothing was written)."""


def repair_time_limit() -> int:
    """Seconds a repair run may search (config REPAIR_TIME_LIMIT, default 20)."""
    return int(current_app.config.get("REPAIR_TIME_LIMIT", DEFAULT_REPAIR_TIME_LIMIT))


def start_repair(period: PlanningPeriod, user: User | None) -> SolveRun:
    """Record a queued minimal-change run of all the period's active sites to fill the holes
    volunteers left in the latest published version, and commit; the caller hands it to
    scheduler.jobs.submit. Raises RosterError when there is no hole or a run is active."""
    if not my_shifts.cancelled_posts(period):
        raise RosterError(_l("No volunteer has cancelled a published shift: nothing to repair."))
    site_ids = [s.id for s in rosters.active_sites(period)]
    return rosters.start_run(
        period,
        site_ids,
        repair_time_limit(),
        user,
        minimal_change=True,
        audit_action=audit.REPAIR_START,
    )


# Why a post needed the person who takes it (RepairChange.fills).
FILLS_CANCELLED = "cancelled"  # `other` cancelled it
FILLS_LEFT = "left"  # `other` was moved from it to fill another hole
FILLS_VACATED = "vacated"  # `other` was taken off it (see their own line)
FILLS_URGENT = "urgent"  # an open urgent request asks for more people there
FILLS_OPEN = "open"  # the post was still open
# Why someone leaves a post (RepairChange.leaves).
LEAVES_CANCELLED = "cancelled"  # they cancelled it themselves
LEAVES_MOVED = "moved"  # moved to the post they gain on the same line
LEAVES_FEWER = "fewer"  # the post now needs fewer people than were told
LEAVES_RULE = "rule"  # the post breaks a rule for them now (availability, skills, ...)
LEAVES_DRAFT = "draft"  # taken off the draft since the last version, not by the repair


@dataclass
class RepairChange:
    """One volunteer's change: a post gained, a post lost, or both (a move), and why."""

    volunteer_id: int
    name: str
    added: Slot | None = None
    removed: Slot | None = None
    fills: str | None = None  # FILLS_*: why the added post needed someone
    fills_other: str | None = None  # the name FILLS_CANCELLED/LEFT/VACATED refers to
    leaves: str | None = None  # LEAVES_*: why they lose the removed post
    cancel_reason: str | None = None  # their own words, for LEAVES_CANCELLED
    rule: str | None = None  # the broken rule in words, for LEAVES_RULE
    need: int = 0  # for LEAVES_FEWER: the post's head count now ...
    told_count: int = 0  # ... and how many were told they had it
    taken_by: list[str] = field(default_factory=list)  # who takes the removed post

    @property
    def told(self) -> bool:
        """They lose a post they were told was theirs (and did not cancel): needs a tick."""
        return self.removed is not None and self.leaves != LEAVES_CANCELLED

    @property
    def key(self) -> str:
        """Names this change in the confirm form's ticks."""
        slot = self.removed or self.added
        assert slot is not None
        return (
            f"{self.volunteer_id}:{slot.site_id}:{slot.day.isoformat()}:{slot.shift}:{slot.role_id}"
        )


@dataclass
class RepairProposal:
    """What publishing the repaired draft changes against the latest version, line by line."""

    diff: RosterDiff
    changes: list[RepairChange]

    @property
    def told(self) -> list[RepairChange]:
        """The changes that need the coordinator's tick."""
        return [c for c in self.changes if c.told]

    @property
    def digest(self) -> str:
        """A short fingerprint of every change: the confirm form sends it back, so a draft
        that changed after the page was shown is not published unseen."""
        lines = sorted(f"{c.volunteer_id}|{c.added}|{c.removed}" for c in self.changes)
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:20]


def proposal(period: PlanningPeriod) -> RepairProposal | None:
    """The draft's changes against the latest published version, each with its reason
    (None when there is no draft). A fixed number of queries, plus one problem build when a
    removal is not explained by a cancellation, a move or a lower head count."""
    diff = publishing.draft_diff(period)
    if diff is None:
        return None
    cancelled = {
        (c.assignment.volunteer_id, c.assignment.site_id, c.assignment.day, c.assignment.shift): c
        for c in my_shifts.cancelled_posts(period)
    }
    extra = urgent_extra(period.id)
    changes: list[RepairChange] = []
    for change in diff.changes:
        added, removed = sorted(change.added), sorted(change.removed)
        # A volunteer who loses one post and gains another has moved (their own cancellation
        # is never a move: the cancelled slot is not offered to them again).
        own = [s for s in removed if (change.volunteer_id, s.site_id, s.day, s.shift) in cancelled]
        others = [s for s in removed if s not in own]
        for slot in own:
            answer = cancelled[(change.volunteer_id, slot.site_id, slot.day, slot.shift)]
            changes.append(
                RepairChange(
                    change.volunteer_id,
                    change.name,
                    removed=slot,
                    leaves=LEAVES_CANCELLED,
                    cancel_reason=answer.response.reason,
                )
            )
        for gained, lost in zip(added, others, strict=False):
            changes.append(
                RepairChange(
                    change.volunteer_id,
                    change.name,
                    added=gained,
                    removed=lost,
                    leaves=LEAVES_MOVED,
                )
            )
        for gained in added[len(others) :]:
            changes.append(RepairChange(change.volunteer_id, change.name, added=gained))
        for lost in others[len(added) :]:
            changes.append(RepairChange(change.volunteer_id, change.name, removed=lost))

    leaving: dict[Slot, list[RepairChange]] = defaultdict(list)
    coming: dict[Slot, list[RepairChange]] = defaultdict(list)
    for c in changes:
        if c.removed is not None:
            leaving[c.removed].append(c)
        if c.added is not None:
            coming[c.added].append(c)
    for slot, newcomers in coming.items():
        leavers = [
            c
            for c in leaving.get(slot, [])
            if c.volunteer_id not in {n.volunteer_id for n in newcomers}
        ]
        for i, c in enumerate(newcomers):
            if i < len(leavers):
                other = leavers[i]
                c.fills_other = other.name
                c.fills = {LEAVES_CANCELLED: FILLS_CANCELLED, LEAVES_MOVED: FILLS_LEFT}.get(
                    other.leaves or "", FILLS_VACATED
                )
            elif extra.get((slot.site_id, slot.day, slot.shift), Counter())[slot.role_id]:
                c.fills = FILLS_URGENT
            else:
                c.fills = FILLS_OPEN
    for slot, leavers in leaving.items():
        for c in leavers:
            c.taken_by = [n.name for n in coming.get(slot, []) if n.volunteer_id != c.volunteer_id]
    _why_removed(period, [c for c in changes if c.removed and c.leaves is None])
    changes.sort(key=lambda c: (not c.told, c.removed or c.added, c.name))
    return RepairProposal(diff, changes)


def _why_removed(period: PlanningPeriod, changes: list[RepairChange]) -> None:
    """Fill in why each of `changes` loses its post though nobody moved them: the post needs
    fewer people now, a rule forbids it now, or else it was taken off the draft by hand."""
    if not changes:
        return
    latest = lookups.latest_published(period.id)
    told: Counter[tuple[int, date, str, int]] = Counter()
    if latest is not None:
        told = Counter(
            (site, day, kind, role)
            for site, day, kind, role in db.session.execute(
                select(
                    Assignment.site_id, Assignment.day, Assignment.shift, Assignment.role_id
                ).where(Assignment.roster_id == latest.id)
            )
        )
    extra = urgent_extra(period.id)
    sites = {
        s.id: s
        for s in db.session.scalars(
            select(Site).where(Site.id.in_({c.removed.site_id for c in changes if c.removed}))
        )
    }
    rest = []
    for c in changes:
        slot = c.removed
        assert slot is not None
        site = sites.get(slot.site_id)
        need = demand_of(site, slot.day, slot.shift, extra).get(slot.role_id, 0) if site else 0
        held = told[(slot.site_id, slot.day, slot.shift, slot.role_id)]
        if held > need:
            c.leaves, c.need, c.told_count = LEAVES_FEWER, need, held
        else:
            rest.append(c)
    if not rest:
        return
    try:
        problem, _mapping = build_problem(period)
    except PlanningError:
        problem = None
    codes = dict(db.session.execute(select(Role.id, Role.code)).all())
    for c in rest:
        c.leaves = LEAVES_DRAFT
        slot = c.removed
        assert slot is not None
        if problem is None:
            continue
        pid = person_id(c.volunteer_id)
        sid = shift_id(slot.site_id, slot.day, slot.shift)
        try:
            person = problem.person(pid)
            problem.shift(sid)
        except KeyError:
            continue
        alone = replace(problem, people=(replace(person, partner=None),), pins=(), baseline=())
        report = solver.check(alone, [solver.Assignment(pid, sid, codes[slot.role_id])])
        broken = [v for v in report.violations if sid in v.shifts]
        if broken:
            c.leaves = LEAVES_RULE
            c.rule = str(RULE_LABELS.get(broken[0].rule, broken[0].message))


def needs_approval(period: PlanningPeriod) -> bool:
    """Whether the draft holds a repair that takes volunteers off shifts they were told: then
    only `publish_repair`, with each such line ticked, may publish it."""
    draft = lookups.current_draft(period.id)
    if draft is None or draft.created_from_run_id is None:
        return False
    run = db.session.get(SolveRun, draft.created_from_run_id)
    if run is None or not run.minimal_change:
        return False
    latest = lookups.latest_published(period.id)
    if (
        latest is not None
        and latest.published_at is not None
        and run.finished_at is not None
        and latest.published_at >= run.finished_at
    ):
        return False  # that repair is published; later changes are ordinary hand edits
    found = proposal(period)
    return found is not None and bool(found.told)


def publish_repair(
    period: PlanningPeriod,
    by: User | None,
    approved: Collection[str],
    shown: str | None = None,
) -> tuple[Roster, RosterDiff]:
    """Publish the repaired draft as the next version, once every change that takes a
    volunteer off a shift they were told is in `approved` (RepairChange.key). Refuses when
    one is not ticked, or when the draft changed since the page was shown (`shown`, the
    proposal's digest the page carried, differs; or a ticked line is no longer proposed).
    Flushes; the caller commits."""
    found = proposal(period)
    if found is None:
        raise RepairError(_l("There is no draft to publish: generate a roster first."))
    wanted = {c.key for c in found.told}
    ticked = set(approved)
    if ticked - wanted or (shown is not None and shown != found.digest):
        raise RepairError(
            _l("The proposed moves have changed since this page was shown: check them again.")
        )
    missing = wanted - ticked
    if missing:
        raise RepairError(
            _l(
                "Tick each volunteer who was already told their shift and would lose it "
                "(%(num)d not ticked): nothing was published.",
                num=len(missing),
            )
        )
    return publishing.publish(period, by, audit_action=audit.REPAIR_PUBLISH)
