"""Publishing a period's draft as an immutable, numbered version, what changed against the
previous version (who moved where), and the notifications that tell volunteers.

The draft stays as the working copy after publishing, so the next draft starts from the
version just published. Published rosters are never changed afterwards (see
`scheduler.services.editing.ensure_editable`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import format_date
from sqlalchemy import Select, except_, exists, func, insert, select, union_all
from sqlalchemy.orm import selectinload

from scheduler.extensions import db
from scheduler.i18n import lazy_gettext as _l
from scheduler.models import (
    Assignment,
    PlanningPeriod,
    Role,
    Roster,
    ShiftResponse,
    Site,
    UnfilledPost,
    User,
    Volunteer,
)
from scheduler.models.base import MAX_ID, utcnow
from scheduler.models.responses import CANCELLED_BY_VOLUNTEER
from scheduler.models.rosters import PUBLISHED, SOURCE_HAND
from scheduler.services import audit
from scheduler.services.coverage import Count, Coverage, coverage_sites, held_in, roster_coverage
from scheduler.services.duty import cancelled
from scheduler.services.errors import ServiceError
from scheduler.services.lookups import current_draft, latest_published
from scheduler.services.notifications import notify
from scheduler.services.reminders import sync_reminders
from scheduler.services.robots import queue_site_rosters
from scheduler.services.rosters import solving

__all__ = [
    "NothingChanged",
    "PublishError",
    "RosterDiff",
    "Slot",
    "VersionNotFound",
    "changed_people",
    "diff",
    "draft_summary",
    "publish",
    "published_or_latest",
    "published_version",
    "repeats",
    "summary",
    "versions",
]


class PublishError(ServiceError):
    """Why the draft cannot be published (nothing was written)."""


class NothingChanged(PublishError):
    """The draft holds exactly the posts of the latest version: publishing it again would make
    an identical version and tell nobody anything."""

    def __init__(self, version: int) -> None:
        super().__init__(
            _l(
                "Nothing changed since version %(number)d: there is nothing to publish.",
                number=version,
            )
        )
        self.version = version


@dataclass(frozen=True, order=True)
class Slot:
    """One post a volunteer holds: local date, shift kind, site and role."""

    day: date
    shift: str
    site_id: int
    role_id: int


@dataclass
class PersonChange:
    """One volunteer's posts gained and lost between two rosters."""

    volunteer_id: int
    user_id: int
    name: str
    added: list[Slot] = field(default_factory=list)
    removed: list[Slot] = field(default_factory=list)
    held_before: int = 0  # posts held in the old roster
    held_after: int = 0  # posts held in the new roster

    @property
    def kind(self) -> str:
        """ "new" (had no post before), "removed" (has none now) or "moved" (both)."""
        if not self.held_before:
            return "new"
        if not self.held_after:
            return "removed"
        return "moved"


@dataclass
class RosterDiff:
    """What `new` changes against the last published version (`base_version` None: none yet)."""

    base_version: int | None
    changes: list[PersonChange]
    sites: dict[int, Site]
    roles: dict[int, Role]

    @property
    def added(self) -> int:
        """Posts newly held, over everyone."""
        return sum(len(c.added) for c in self.changes)

    @property
    def removed(self) -> int:
        """Posts no longer held, over everyone."""
        return sum(len(c.removed) for c in self.changes)

    @property
    def empty(self) -> bool:
        """Nothing changed."""
        return not self.changes

    def people(self, kind: str) -> list[PersonChange]:
        """The changes of one kind ("new", "moved", "removed"), by name."""
        return [c for c in self.changes if c.kind == kind]

    def by_site_day(self) -> dict[tuple[int, date], tuple[int, int]]:
        """(posts added, posts removed) per (site id, day)."""
        counts: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0])
        for change in self.changes:
            for slot in change.added:
                counts[(slot.site_id, slot.day)][0] += 1
            for slot in change.removed:
                counts[(slot.site_id, slot.day)][1] += 1
        return {key: (a, r) for key, (a, r) in counts.items()}


def versions(period_id: int) -> list[Roster]:
    """Every published version of the period, newest first."""
    return list(
        db.session.scalars(
            select(Roster)
            .where(Roster.period_id == period_id, Roster.status == PUBLISHED)
            .order_by(Roster.version.desc())
        )
    )


def published_version(period_id: int, version: int) -> Roster | None:
    """One published version of the period."""
    return db.session.scalar(
        select(Roster).where(
            Roster.period_id == period_id,
            Roster.status == PUBLISHED,
            Roster.version == version,
        )
    )


class VersionNotFound(ServiceError):
    """The period has nothing published, or not the version asked for."""


def published_or_latest(
    period: PlanningPeriod, version: int | None = None
) -> tuple[Roster, Roster]:
    """(published `version` of the period, or its latest when None; the latest). Raises
    VersionNotFound when nothing is published or there is no such version."""
    latest = latest_published(period.id)
    if latest is None:
        raise VersionNotFound(_l("Nothing is published yet for %(name)s.", name=period.name))
    if version is None or version == latest.version:
        return latest, latest
    roster = published_version(period.id, version) if 1 <= version <= MAX_ID else None
    if roster is None:
        raise VersionNotFound(
            _l(
                "%(name)s has no published version %(version)d (the latest is %(latest)d).",
                name=period.name,
                version=version,
                latest=latest.version,
            )
        )
    return roster, latest


def _slots(roster_id: int | None) -> dict[int, set[Slot]]:
    held: dict[int, set[Slot]] = defaultdict(set)
    if roster_id is None:
        return held
    for vid, day, kind, site_id, role_id in db.session.execute(
        select(
            Assignment.volunteer_id,
            Assignment.day,
            Assignment.shift,
            Assignment.site_id,
            Assignment.role_id,
        ).where(Assignment.roster_id == roster_id)
    ):
        held[vid].add(Slot(day, kind, site_id, role_id))
    return held


def diff(old: Roster | None, new: Roster) -> RosterDiff:
    """Who gained and who lost which posts between `old` (None: nothing published) and `new`,
    grouped by volunteer, sorted by name (a fixed number of queries)."""
    before, after = _slots(old.id if old else None), _slots(new.id)
    moved: dict[int, tuple[list[Slot], list[Slot]]] = {}
    for vid in set(before) | set(after):
        added = sorted(after.get(vid, set()) - before.get(vid, set()))
        removed = sorted(before.get(vid, set()) - after.get(vid, set()))
        if added or removed:
            moved[vid] = (added, removed)
    people = {
        vid: (user_id, name, pinyin)
        for vid, user_id, name, pinyin in db.session.execute(
            select(Volunteer.id, User.id, User.name, User.name_pinyin)
            .join(User, User.id == Volunteer.user_id)
            .where(Volunteer.id.in_(list(moved)))
        )
    }
    changes = [
        PersonChange(
            vid,
            people[vid][0],
            people[vid][1],
            added,
            removed,
            held_before=len(before.get(vid, ())),
            held_after=len(after.get(vid, ())),
        )
        for vid, (added, removed) in moved.items()
        if vid in people
    ]
    changes.sort(key=lambda c: (people[c.volunteer_id][2] or c.name, c.volunteer_id))
    site_ids = {s.site_id for c in changes for s in (*c.added, *c.removed)}
    role_ids = {s.role_id for c in changes for s in (*c.added, *c.removed)}
    sites = {s.id: s for s in db.session.scalars(select(Site).where(Site.id.in_(site_ids)))}
    roles = {r.id: r for r in db.session.scalars(select(Role).where(Role.id.in_(role_ids)))}
    return RosterDiff(old.version if old else None, changes, sites, roles)


def draft_diff(period: PlanningPeriod) -> RosterDiff | None:
    """What publishing the draft now would change (None when there is no draft)."""
    draft = current_draft(period.id)
    if draft is None:
        return None
    return diff(latest_published(period.id), draft)


@dataclass
class SiteLine:
    """One site on the publish and version pages: posts added / removed per day, and how
    many of its posts the roster fills (services.coverage)."""

    site: Site
    days: list[tuple[date, int, int]]  # day, posts added, posts removed
    count: Count


@dataclass
class Summary:
    """What the top of the publish page (and of a version page) says: the roster's coverage,
    what it changes against the previous version per site and day, and who is new, moved,
    removed. `unchanged_since` is the version it repeats exactly (nothing to publish)."""

    diff: RosterDiff
    coverage: Coverage
    days: list[date]
    sites: list[SiteLine]
    unchanged_since: int | None = None


def summary(period: PlanningPeriod, old: Roster | None, new: Roster) -> Summary:
    """`new` against `old` (None: nothing published before) for the top of the pages."""
    changes = diff(old, new)
    coverage = roster_coverage(period, held_in(new.id))
    per_day = changes.by_site_day()
    per_site = coverage.by_site()
    days = period.days
    lines = [
        SiteLine(
            site,
            [(day, *per_day.get((site.id, day), (0, 0))) for day in days],
            per_site.get(site.id, Count()),
        )
        for site in coverage_sites(period, coverage, extra=changes.sites.values())
    ]
    unchanged = (
        old.version
        if old is not None and new.status != PUBLISHED and repeats(new, changes)
        else None
    )
    return Summary(changes, coverage, days, lines, unchanged)


def draft_summary(period: PlanningPeriod) -> Summary | None:
    """What publishing the draft now would do (None when there is no draft)."""
    draft = current_draft(period.id)
    if draft is None:
        return None
    return summary(period, latest_published(period.id), draft)


def changed_people(old: Roster | None, new: Roster) -> int:
    """How many volunteers gain or lose a post between `old` and `new`: the size of `diff`
    in two set differences done by the database (for the dashboard, which only counts)."""

    def posts(roster_id: int) -> Select[*tuple[Any, ...]]:
        return select(
            Assignment.volunteer_id,
            Assignment.day,
            Assignment.shift,
            Assignment.site_id,
            Assignment.role_id,
        ).where(Assignment.roster_id == roster_id)

    if old is None:
        moved = posts(new.id).subquery()
    else:
        # Each EXCEPT as its own subquery: SQLite takes no parenthesised compound selects.
        gained = except_(posts(new.id), posts(old.id)).subquery()
        lost = except_(posts(old.id), posts(new.id)).subquery()
        moved = union_all(select(gained.c.volunteer_id), select(lost.c.volunteer_id)).subquery()
    return db.session.scalar(select(func.count(func.distinct(moved.c.volunteer_id)))) or 0


def repeats(draft: Roster, changes: RosterDiff | int) -> bool:
    """Whether publishing `draft` would only repeat the latest version, given what it changes
    against it (a diff, or the count of `changed_people`): nobody gains or loses a post, and
    nobody who cancelled a post is on it again (putting them back is a change: their
    cancellation goes and they are told the shift is theirs, see `publish`)."""
    if (len(changes.changes) if isinstance(changes, RosterDiff) else changes) > 0:
        return False
    return not db.session.scalar(
        select(exists().where(Assignment.roster_id == draft.id, cancelled(Assignment)))
    )


def draft_revision(period: PlanningPeriod) -> int | None:
    """The revision of the period's draft (None when there is none): read it before the diff
    a coordinator reviews, and publish with it (`publish(..., revision=)`)."""
    draft = current_draft(period.id)
    return draft.revision if draft is not None else None


def publish(
    period: PlanningPeriod,
    by: User | None,
    *,
    revision: int | None = None,
    audit_action: str = audit.PUBLISH,
) -> tuple[Roster, RosterDiff]:
    """Copy the draft into the next published version (1, 2, ...) with its unfilled posts, and
    queue a "shift_new" / "shift_removed" notification per post gained or lost by each
    volunteer compared with the previous version, the reminders before each post (moved
    or withdrawn where the version changes them, services.reminders), and the shift list of
    each changed site that has a group robot (services.robots). The draft stays as the
    working copy.

    Refused (PublishError, nothing written) while a run of the period is queued or running
    (it would rewrite the draft under the coordinator's eyes), when `revision` -- the draft
    revision the coordinator reviewed; the publish form carries it -- is not the draft's
    revision any more, and while the draft holds a post its volunteer cancelled that no
    coordinator knowingly gave back to them (see `_unacknowledged_cancellations`).

    Raises NothingChanged when the draft holds exactly the posts of the latest version.

    Flushes; the caller commits. The draft row is locked (FOR UPDATE on PostgreSQL) so no
    change slips in between the revision check and the copy. Two publishes racing for the
    same number collide on the (period, version) unique constraint: the loser's transaction
    fails as a whole."""
    draft = current_draft(period.id)
    if draft is None:
        raise PublishError(_l("There is no draft to publish: generate a roster first."))
    if solving(period.id):
        raise PublishError(
            _l("A roster is being generated for this period: publish when it has finished.")
        )
    current = db.session.scalar(
        select(Roster.revision).where(Roster.id == draft.id).with_for_update()
    )
    if revision is not None and revision != current:
        raise PublishError(_l("The draft changed — review it again."))
    kept_back = _unacknowledged_cancellations(period, draft)
    if kept_back:
        a = kept_back[0]
        raise PublishError(
            _l(
                "%(name)s cancelled their shift on %(day)s at %(site)s, but the draft still "
                "has them on it: take them off that post, or assign them again by hand "
                "(confirming the warning), then publish.",
                name=a.volunteer.user.name,
                day=format_date(a.day, "short"),
                site=a.site.name,
            )
        )
    previous = latest_published(period.id)
    changes = diff(previous, draft)
    if previous is not None and repeats(draft, changes):
        assert previous.version is not None
        raise NothingChanged(previous.version)
    number = (
        db.session.scalar(
            select(func.max(Roster.version)).where(
                Roster.period_id == period.id, Roster.status == PUBLISHED
            )
        )
        or 0
    ) + 1
    now = utcnow()
    version = Roster(
        period_id=period.id,
        status=PUBLISHED,
        version=number,
        created_from_run_id=draft.created_from_run_id,
        created_at=now,
        updated_at=now,
        published_at=now,
        published_by_id=by.id if by is not None else None,
    )
    db.session.add(version)
    db.session.flush()
    audit.record(
        audit_action,
        object_type="roster",
        object_id=version.id,
        summary=audit.Summary("version", {"name": period.name, "number": number}),
        details={
            "version": number,
            "base_version": changes.base_version,
            "posts_added": changes.added,
            "posts_removed": changes.removed,
            "people_changed": len(changes.changes),
        },
        actor=by,
        period_id=period.id,
    )
    rows = [
        {
            "roster_id": version.id,
            "site_id": a.site_id,
            "day": a.day,
            "shift": a.shift,
            "role_id": a.role_id,
            "volunteer_id": a.volunteer_id,
            "slot": a.slot,
            "pinned": a.pinned,
            "source": a.source,
            "rule_override": a.rule_override,
            "override_note": a.override_note,
        }
        for a in db.session.scalars(select(Assignment).where(Assignment.roster_id == draft.id))
    ]
    if rows:
        db.session.execute(insert(Assignment), rows)
    posts = [
        {
            "roster_id": version.id,
            "site_id": p.site_id,
            "day": p.day,
            "shift": p.shift,
            "role_id": p.role_id,
            "missing": p.missing,
            "reasons": p.reasons,
        }
        for p in db.session.scalars(select(UnfilledPost).where(UnfilledPost.roster_id == draft.id))
    ]
    if posts:
        db.session.execute(insert(UnfilledPost), posts)
    cancelled = _cancelled_answers(period)
    told_new = set()
    for change in changes.changes:
        for kind, slots in (("shift_new", change.added), ("shift_removed", change.removed)):
            for slot in slots:
                key = (change.volunteer_id, slot.site_id, slot.day, slot.shift)
                if kind == "shift_removed" and key in cancelled:
                    continue  # they cancelled it themselves: no need to tell them
                if kind == "shift_new":
                    told_new.add(key)
                _notify_slot(change.user_id, kind, slot, number)
    # A cancelled post is in the draft again only because a coordinator put its volunteer
    # back knowingly (checked above): the old answer would hide the shift from them, so it
    # goes, and they are told the shift is theirs.
    for a in db.session.scalars(select(Assignment).where(Assignment.roster_id == version.id)):
        key = (a.volunteer_id, a.site_id, a.day, a.shift)
        answer = cancelled.get(key)
        if answer is not None:
            db.session.delete(answer)
            if key in told_new:
                continue
            user_id = db.session.execute(
                select(Volunteer.user_id).where(Volunteer.id == a.volunteer_id)
            ).scalar_one()
            _notify_slot(user_id, "shift_new", Slot(a.day, a.shift, a.site_id, a.role_id), number)
    # Each site whose shifts changed posts its new shift list to its group robot, if it has one.
    queue_site_rosters(version, {site_id for site_id, _day in changes.by_site_day()})
    db.session.flush()
    sync_reminders(period, now=now)
    return version, changes


def _unacknowledged_cancellations(period: PlanningPeriod, draft: Roster) -> list[Assignment]:
    """Draft posts whose volunteer cancelled that very shift and that no coordinator gave back
    to them knowingly -- a hand edit whose rule warning ("cancelled this shift themselves")
    was confirmed, recorded as a rule override. Cancelling takes the post off the draft and a
    run never puts it back (scheduler.planning), so this is a last guard: publishing such a
    post would silently undo the volunteer's cancellation."""
    cancelled = _cancelled_answers(period)
    if not cancelled:
        return []
    return [
        a
        for a in db.session.scalars(
            select(Assignment)
            .where(Assignment.roster_id == draft.id)
            .options(
                selectinload(Assignment.volunteer).selectinload(Volunteer.user),
                selectinload(Assignment.site),
            )
            .order_by(Assignment.day, Assignment.id)
        )
        if (a.volunteer_id, a.site_id, a.day, a.shift) in cancelled
        and not (a.source == SOURCE_HAND and a.rule_override)
    ]


def _notify_slot(user_id: int, kind: str, slot: Slot, version: int) -> None:
    notify(
        user_id,
        kind,
        site_id=slot.site_id,
        day=slot.day.isoformat(),
        shift=slot.shift,
        role_id=slot.role_id,
        version=version,
    )


def _cancelled_answers(
    period: PlanningPeriod,
) -> dict[tuple[int, int, date, str], ShiftResponse]:
    """Cancellations of shifts in the period, by (volunteer, site, day, shift)."""
    return {
        (r.volunteer_id, r.site_id, r.day, r.shift): r
        for r in db.session.scalars(
            select(ShiftResponse).where(
                ShiftResponse.status == CANCELLED_BY_VOLUNTEER,
                ShiftResponse.day.between(period.start_date, period.end_date),
            )
        )
    }


def roster_rows(roster: Roster) -> list[Assignment]:
    """A roster's assignments for a read-only listing, by day, shift, site and role."""
    rows = list(
        db.session.scalars(
            select(Assignment)
            .where(Assignment.roster_id == roster.id)
            .options(
                selectinload(Assignment.volunteer).selectinload(Volunteer.user),
                selectinload(Assignment.volunteer).selectinload(Volunteer.organisation),
                selectinload(Assignment.site),
                selectinload(Assignment.role),
            )
        )
    )
    order = {"night": 0, "day": 1, "evening": 2}
    rows.sort(
        key=lambda a: (
            a.day,
            order.get(a.shift, 9),
            a.site.name,
            a.role.sort_order,
            a.volunteer.user.name_pinyin or "",
        )
    )
    return rows
