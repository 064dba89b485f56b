"""The volunteer pool as coordinators see it: search, filter, sort and page through thousands of
volunteers in SQL, one volunteer's full record, and the coordinator's sign-offs (training done,
qualifications verified)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Exists, Select, and_, exists, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from scheduler.extensions import db
from scheduler.models import (
    SHIFT_KINDS,
    Availability,
    DayOff,
    District,
    PlanningPeriod,
    User,
    Volunteer,
    VolunteerSkill,
    WorkUnit,
)
from scheduler.models.accounts import name_sort_key
from scheduler.models.base import utcnow
from scheduler.services import audit, scope
from scheduler.services.availability import period_starts, starts_of_kind
from scheduler.services.lookups import open_periods
from scheduler.services.phones import InvalidPhone, normalize_mobile

SORTS = ("name", "work_unit", "district")
MAX_QUERY_LENGTH = 100


@dataclass
class PoolQuery:
    """What the coordinator asked for; every field is optional."""

    text: str = ""
    skill_id: int | None = None
    district_id: int | None = None
    trained: bool | None = None
    # "open": has any availability in an open period; "slot": offered hours of that shift
    # kind on that day (a span starting in its hours, see availability.kind_of_start).
    availability: str = ""
    day: date | None = None
    shift: str | None = None
    sort: str = "name"
    page: int = 1


@dataclass
class PoolPage:
    """One page of results."""

    volunteers: list[Volunteer]
    total: int
    page: int
    pages: int
    per_page: int

    @property
    def first_index(self) -> int:
        return 0 if not self.total else (self.page - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.page * self.per_page)


def _open_availability_exists() -> Exists:
    return exists().where(
        Availability.volunteer_id == Volunteer.id,
        select(PlanningPeriod.id)
        .where(
            PlanningPeriod.is_open.is_(True),
            Availability.day.between(PlanningPeriod.start_date, PlanningPeriod.end_date),
        )
        .exists(),
    )


def _filtered(query: PoolQuery, user: Any = None) -> Select[Volunteer]:
    stmt = select(Volunteer).join(Volunteer.user).where(User.active.is_(True))
    if user is not None:
        stmt = scope.restrict(stmt, Volunteer.organisation_id, user)
    text = " ".join((query.text or "").split())[:MAX_QUERY_LENGTH]
    if text:
        conditions = [
            User.name.icontains(text, autoescape=True),
            Volunteer.work_unit.has(WorkUnit.name.icontains(text, autoescape=True)),
        ]
        digits = "".join(ch for ch in text if ch.isdigit())
        # Digits (with spaces, dashes or a +) are a phone fragment: "5678", "138 0013".
        if digits and all(ch.isdigit() or ch in " +-" for ch in text):
            conditions.append(User.phone.contains(digits, autoescape=True))
        stmt = stmt.where(or_(*conditions))
    if query.skill_id is not None:
        stmt = stmt.where(
            exists().where(
                VolunteerSkill.volunteer_id == Volunteer.id,
                VolunteerSkill.skill_id == query.skill_id,
            )
        )
    if query.district_id is not None:
        stmt = stmt.where(Volunteer.district_id == query.district_id)
    if query.trained is True:
        stmt = stmt.where(Volunteer.trained_at.is_not(None))
    elif query.trained is False:
        stmt = stmt.where(Volunteer.trained_at.is_(None))
    if query.availability == "open":
        stmt = stmt.where(_open_availability_exists())
    elif query.availability == "slot" and query.day is not None and query.shift in SHIFT_KINDS:
        stmt = stmt.where(
            exists().where(
                Availability.volunteer_id == Volunteer.id,
                Availability.day == query.day,
                Availability.start_hour.in_(starts_of_kind(query.shift)),
            )
        )
    return stmt


@lru_cache(maxsize=4096)
def _group_key(name: str) -> str:
    """Pinyin key of a work unit or district name (few distinct names, so cached)."""
    return name_sort_key(name)


def _page_ids_by_group(stmt: Select[Volunteer], sort: str, offset: int, limit: int) -> list[int]:
    """Ids of one page sorted by work unit or district name in pinyin order, then by name.
    Chinese collation is not portable across SQLite and PostgreSQL, so the (small) id/name
    tuples of the filtered set are sorted here and only the page's volunteers are loaded."""
    relation, model = (
        (Volunteer.work_unit, WorkUnit) if sort == "work_unit" else (Volunteer.district, District)
    )
    rows = db.session.execute(
        stmt.outerjoin(relation).with_only_columns(
            Volunteer.id, model.name, User.name_pinyin, User.name
        )
    )
    ordered = sorted(
        rows,
        key=lambda row: (row[1] is None, _group_key(row[1] or ""), row[2], row[3], row[0]),
    )
    return [row[0] for row in ordered[offset : offset + limit]]


def search_pool(query: PoolQuery, per_page: int, user: Any = None) -> PoolPage:
    """Filter, sort (names by pinyin) and page the pool: one count, one page query and the
    eager loads for that page, however large the pool."""
    stmt = _filtered(query, user)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, query.page), pages)
    offset = (page - 1) * per_page
    options = (
        joinedload(Volunteer.user),
        joinedload(Volunteer.work_unit),
        joinedload(Volunteer.district),
        selectinload(Volunteer.skills).joinedload(VolunteerSkill.skill),
    )
    if query.sort in ("work_unit", "district"):
        ids = _page_ids_by_group(stmt, query.sort, offset, per_page)
        loaded = {
            v.id: v
            for v in db.session.scalars(
                select(Volunteer).options(*options).where(Volunteer.id.in_(ids))
            ).unique()
        }
        volunteers = [loaded[i] for i in ids if i in loaded]
    else:
        # name_pinyin is indexed: ORDER BY ... LIMIT stays cheap at 10,000 volunteers.
        stmt = stmt.order_by(User.name_pinyin, User.name, Volunteer.id).options(*options)
        volunteers = list(db.session.scalars(stmt.limit(per_page).offset(offset)).unique())
    return PoolPage(volunteers=volunteers, total=total, page=page, pages=pages, per_page=per_page)


# One volunteer ------------------------------------------------------------------------------


@dataclass
class PeriodAvailability:
    """A volunteer's availability in one open period, as a grid of dates x shifts."""

    period: PlanningPeriod
    days: list[date]
    cells: set[tuple[date, int]] = field(default_factory=set)  # (date, start hour)
    days_off: set[date] = field(default_factory=set)
    starts: tuple[int, ...] = ()  # the columns: the period's spans and any other offered


@dataclass
class VolunteerRecord:
    """Everything the volunteer detail page shows."""

    volunteer: Volunteer
    availability: list[PeriodAvailability]
    partner: User | None


def get_volunteer(volunteer_id: int) -> Volunteer | None:
    """A volunteer with account, organisation and skills loaded, or None."""
    return db.session.scalar(
        select(Volunteer)
        .options(
            joinedload(Volunteer.user),
            joinedload(Volunteer.work_unit),
            joinedload(Volunteer.district),
            selectinload(Volunteer.skills).joinedload(VolunteerSkill.skill),
        )
        .where(Volunteer.id == volunteer_id)
    )


def resolve_partner(phone: str | None) -> User | None:
    """The registered user whose number is the partner's, if any."""
    if not phone:
        return None
    try:
        e164 = normalize_mobile(phone)
    except InvalidPhone:
        return None
    return db.session.scalar(
        select(User).options(joinedload(User.volunteer)).where(User.phone == e164)
    )


def volunteer_record(volunteer: Volunteer) -> VolunteerRecord:
    """The volunteer's availability in every open period (two queries in all) and partner."""
    periods = open_periods()
    grids = [PeriodAvailability(period=p, days=p.days) for p in periods]
    if periods:
        first = min(p.start_date for p in periods)
        last = max(p.end_date for p in periods)
        rows = db.session.execute(
            select(Availability.day, Availability.start_hour).where(
                Availability.volunteer_id == volunteer.id,
                Availability.day.between(first, last),
            )
        )
        cells = {(day, hour) for day, hour in rows}
        days_off = set(
            db.session.scalars(
                select(DayOff.day).where(
                    DayOff.volunteer_id == volunteer.id, DayOff.day.between(first, last)
                )
            )
        )
        for grid in grids:
            grid.cells = {(d, h) for d, h in cells if grid.period.covers(d)}
            grid.days_off = {d for d in days_off if grid.period.covers(d)}
            grid.starts = tuple(
                sorted(set(period_starts(grid.period)) | {h for _, h in grid.cells})
            )
    return VolunteerRecord(
        volunteer=volunteer, availability=grids, partner=resolve_partner(volunteer.partner_phone)
    )


# Sign-offs ----------------------------------------------------------------------------------


def set_trained(volunteer: Volunteer, done: bool, at: datetime | None = None) -> None:
    """Record that the volunteer completed the pre-duty training (培训上岗), or undo it.
    Marking again keeps the first date."""
    before = audit.snapshot(volunteer, ("trained_at",))
    if done and volunteer.trained_at is None:
        volunteer.trained_at = at or utcnow()
    elif not done:
        volunteer.trained_at = None
    after = audit.snapshot(volunteer, ("trained_at",))
    if after != before:
        _record(audit.VOLUNTEER_TRAINED, volunteer, before=before, after=after)
    db.session.commit()


def set_verified(entry: VolunteerSkill, verifier: User, verified: bool) -> None:
    """A coordinator confirms (or withdraws) a declared qualification, so it starts (or stops)
    counting for roles that require it. Only qualifications need verifying."""
    if not entry.skill.is_qualification:
        raise ValueError("only qualifications are verified")
    before = audit.snapshot(entry, ("verified_at", "verified_by_id"))
    if verified:
        entry.verified_at = utcnow()
        entry.verified_by_id = verifier.id
    else:
        entry.verified_at = None
        entry.verified_by_id = None
    _record(
        audit.SKILL_VERIFIED,
        entry.volunteer,
        before=before,
        after=audit.snapshot(entry, ("verified_at", "verified_by_id")),
        details={"skill": entry.skill.code},
        actor=verifier,
    )
    db.session.commit()


def _record(action: str, volunteer: Volunteer, **kwargs: Any) -> None:
    audit.record(
        action,
        object_type="volunteer",
        object_id=volunteer.id,
        summary=volunteer.user.name,
        volunteer_id=volunteer.id,
        district_id=volunteer.district_id,
        **kwargs,
    )


def get_volunteer_skill(volunteer_id: int, skill_id: int) -> VolunteerSkill | None:
    """A volunteer's declared skill, with the skill loaded."""
    return db.session.scalar(
        select(VolunteerSkill)
        .options(joinedload(VolunteerSkill.skill))
        .where(
            and_(VolunteerSkill.volunteer_id == volunteer_id, VolunteerSkill.skill_id == skill_id)
        )
    )


def verifier_names(volunteer: Volunteer) -> dict[int, str]:
    """Names of the coordinators who verified the volunteer's skills, by user id."""
    ids = {s.verified_by_id for s in volunteer.skills if s.verified_by_id}
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.name).where(User.id.in_(ids)))
    # (not dict(rows): a Result has .keys(), so dict() would treat it as a mapping)
    return {row.id: row.name for row in rows}
