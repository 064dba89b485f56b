"""Check-in (签到) at a site: the shift's site lead marks who came — present, late or absent —
with times in and out, and adds walk-ins (people not on the roster who came to help).

Who may mark: the lead of the shift (the volunteer whose published, non-cancelled assignment
on that site, day and shift has a lead role) for that shift only, and coordinators and admins
for any shift. A lead may open the whole day of a site they lead a shift at; the other shifts
are read-only for them (phones masked). Everyone else may not open the page. A lead never
records their own attendance (a coordinator does), and their check-in closes
LEAD_EDIT_WINDOW after the shift ends; staff may record any shift at any time (a paper sheet
typed in afterwards).

Phones: staff see everyone's in full; a lead sees in full only the phones of the people
rostered on the shift they lead (to call a late one) while they may mark it — a walk-in's is
masked, so adding someone as a walk-in reveals nothing.

Who is expected comes from scheduler.services.duty.on_duty; records are Attendance rows keyed
by (volunteer, site, day, shift), so they survive republishing. Times are stored in UTC and
typed by the lead as local HH:MM: a typed time is placed on whichever date (the day before,
of, or after the shift's day) puts it nearest the shift's window, so 06:50 at the end of a
23:00–07:00 night shift is the next morning and 23:50 before a 00:00 night shift is the
evening before. Instants are compared and subtracted in UTC (Python compares two datetimes of
the same zone by their wall clocks, which is wrong across a daylight-saving change)."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from scheduler.extensions import db
from scheduler.i18n import lazy_gettext as _l
from scheduler.models import (
    SHIFT_KINDS,
    Assignment,
    Attendance,
    Role,
    Site,
    User,
    Volunteer,
)
from scheduler.models.attendance import ABSENT, LATE, PRESENT
from scheduler.models.base import utcnow
from scheduler.models.sites import span_label
from scheduler.services import scope
from scheduler.services.demand import demand_of, urgent_extra
from scheduler.services.duty import on_duty
from scheduler.services.errors import ServiceError
from scheduler.services.hours import SERVED, UNMARKED, format_hours, local_clock, served_minutes

log = logging.getLogger(__name__)

REMOVE = "remove"  # take a walk-in added by mistake off the list
MARKS = (PRESENT, LATE, ABSENT, REMOVE)
# Check-in opens this long before a shift starts (people arrive early).
OPENS_BEFORE = timedelta(hours=2)
# A lead records their shift until this long after it ends (the next day's corrections);
# later only coordinators and admins change it, e.g. to type in a paper sheet.
LEAD_EDIT_WINDOW = timedelta(hours=24)
# Phones and servers disagree by a minute or two: a time this far ahead of the clock is "now".
CLOCK_SLACK = timedelta(minutes=5)
# "Time out: now" works until this long after the shift's end (someone stayed on); later, a
# sheet entered afterwards, the time out is typed.
OUT_NOW_LIMIT = timedelta(hours=8)
# The index lists yesterday's shifts (an overnight one) until this long after they end.
RECENT = timedelta(hours=8)
MAX_QUERY_LENGTH = 50
WALK_IN_RESULTS = 10
# A lead finds a walk-in by mobile number only by the whole number (a part of it would let
# them read the masked digits one search at a time); staff by any part of it.
MOBILE_DIGITS = 11
_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::\d{2})?\s*$")


class CheckinError(ServiceError):
    """A refused check-in change (nothing written), with a translatable message."""


class NotOnShift(LookupError):
    """The volunteer is neither rostered on the shift nor recorded there, or no such shift."""


class NotAllowed(PermissionError):
    """The user may not open this site's day, or may not mark this shift."""


@dataclass
class Person:
    """One line of a shift's list: someone rostered, or someone recorded there (a walk-in)."""

    volunteer: Volunteer
    role: Role | None
    rostered: bool
    record: Attendance | None = None
    minutes: int | None = None  # served so far (None: still on duty)

    @property
    def status(self) -> str | None:
        return self.record.status if self.record is not None else None

    @property
    def walk_in(self) -> bool:
        return self.record is not None and self.record.walk_in

    @property
    def hours(self) -> str:
        """Hours served so far ('' while on duty)."""
        return "" if self.minutes is None else format_hours(self.minutes)


@dataclass
class ShiftCheckin:
    """One shift of a site on a day and who is (or was) there, as one viewer sees it."""

    site: Site
    day: date
    kind: str
    start: datetime  # aware, in the site's zone
    end: datetime
    people: list[Person] = field(default_factory=list)
    marker: bool = False  # the viewer is staff or this shift's lead
    closed: bool = False  # the viewer is its lead and LEAD_EDIT_WINDOW has passed
    staff: bool = False
    viewer_volunteer_id: int | None = None
    out_now_open: bool = True  # "Time out: now" still makes sense (see OUT_NOW_LIMIT)
    not_open: bool = False  # check-in has not opened yet (see OPENS_BEFORE)

    def person(self, volunteer_id: int) -> Person | None:
        return next((p for p in self.people if p.volunteer.id == volunteer_id), None)

    @property
    def can_mark(self) -> bool:
        """The viewer may record this shift now: they lead it (or are staff), it is open
        (OPENS_BEFORE its start) and, for a lead, not yet closed."""
        return self.marker and not self.closed and not self.not_open

    @property
    def opens_at(self) -> str:
        """When check-in opens, as the site's local 'HH:MM' ('22:00 the day before' when
        that is the evening before the shift's date)."""
        return local_clock(self.utc_start - OPENS_BEFORE, self.site.timezone, self.day)

    def may_mark(self, person: Person) -> bool:
        """The viewer may record this person (never a lead their own attendance)."""
        return self.can_mark and (self.staff or person.volunteer.id != self.viewer_volunteer_id)

    def full_phone(self, person: Person) -> bool:
        """The viewer sees the person's phone in full (deliberately outside scope.phone_as_seen:
        see scope's docstring, "Phones"): staff always, a lead only the people
        rostered on the shift they lead until its check-in closes (a walk-in's stays
        masked)."""
        return self.staff or (self.marker and not self.closed and person.rostered)

    @property
    def utc_start(self) -> datetime:
        return self.start.astimezone(UTC)

    @property
    def utc_end(self) -> datetime:
        return self.end.astimezone(UTC)

    @property
    def counts(self) -> dict[str, int]:
        counts = {PRESENT: 0, LATE: 0, ABSENT: 0, UNMARKED: 0}
        for p in self.people:
            counts[p.status or UNMARKED] += 1
        return counts

    @property
    def span(self) -> str:
        """'23:00–07:00 (+1)' in the site's local time."""
        return span_label(self.start, self.end)

    def local(self, moment: datetime | None) -> str:
        """A UTC instant as the site's local HH:MM ('06:50 (+1)' on the next date)."""
        return local_clock(moment, self.site.timezone, self.day)

    def input_value(self, moment: datetime | None) -> str:
        """A UTC instant as the value of a local time input."""
        return "" if moment is None else f"{moment.astimezone(ZoneInfo(self.site.timezone)):%H:%M}"


@dataclass
class SiteDay:
    """A site's shifts on a day, as the viewer may see them."""

    site: Site
    day: date
    shifts: list[ShiftCheckin]
    staff: bool

    @property
    def prev_day(self) -> date:
        return self.day - timedelta(days=1)

    @property
    def next_day(self) -> date:
        return self.day + timedelta(days=1)


def local_today(site: Site, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZoneInfo(site.timezone)).date()


def _led_kinds(user: User, duty: list[Assignment]) -> set[str]:
    volunteer = user.volunteer
    if volunteer is None:
        return set()
    return {a.shift for a in duty if a.volunteer_id == volunteer.id and a.role.is_lead}


def _records(site: Site, day: date, kind: str | None = None) -> list[Attendance]:
    query = (
        select(Attendance)
        .where(Attendance.site_id == site.id, Attendance.day == day)
        .options(
            selectinload(Attendance.volunteer).selectinload(Volunteer.user),
            selectinload(Attendance.volunteer).selectinload(Volunteer.work_unit),
            selectinload(Attendance.role),
            selectinload(Attendance.recorded_by),
        )
    )
    if kind is not None:
        query = query.where(Attendance.shift == kind)
    return list(db.session.scalars(query))


def _lead_closed(shift_end: datetime, now: datetime) -> bool:
    return now > shift_end.astimezone(UTC) + LEAD_EDIT_WINDOW


def _build(
    site: Site,
    day: date,
    kinds: list[str],
    duty: list[Assignment],
    records: list[Attendance],
    markable: set[str],
    user: User,
    now: datetime,
) -> list[ShiftCheckin]:
    by_kind: dict[str, list[Assignment]] = defaultdict(list)
    for a in duty:
        by_kind[a.shift].append(a)
    recorded: dict[tuple[str, int], Attendance] = {(r.shift, r.volunteer_id): r for r in records}
    viewer = user.volunteer.id if user.volunteer is not None else None
    shifts = []
    for kind in kinds:
        start, end = site.shift_window(day, kind)
        shift = ShiftCheckin(
            site,
            day,
            kind,
            start,
            end,
            marker=kind in markable,
            closed=not user.is_staff and _lead_closed(end, now),
            staff=user.is_staff,
            viewer_volunteer_id=viewer,
        )
        shift.out_now_open = now <= shift.utc_end + OUT_NOW_LIMIT
        shift.not_open = now < shift.utc_start - OPENS_BEFORE
        seen: set[int] = set()
        for a in by_kind.get(kind, []):
            if a.volunteer_id in seen:
                continue
            seen.add(a.volunteer_id)
            record = recorded.get((kind, a.volunteer_id))
            shift.people.append(Person(a.volunteer, a.role, True, record))
        extra = [r for (k, vid), r in recorded.items() if k == kind and vid not in seen]
        extra.sort(key=lambda r: (r.volunteer.user.name_pinyin, r.volunteer_id))
        shift.people += [Person(r.volunteer, r.role, False, r) for r in extra]
        for p in shift.people:
            if p.record is not None:
                p.minutes = served_minutes(p.record, now)
        shifts.append(shift)
    return shifts


def site_day(site: Site, day: date, user: User, now: datetime | None = None) -> SiteDay:
    """The site's shifts on `day` for `user`: staff see and mark all; a volunteer who leads a
    shift there that day sees all and marks theirs; anyone else gets NotAllowed."""
    now = now or utcnow()
    duty = on_duty(day, site_ids=[site.id])
    markable = set(SHIFT_KINDS) if user.is_staff else _led_kinds(user, duty)
    if not markable:
        raise NotAllowed
    records = _records(site, day)
    present = {a.shift for a in duty} | {r.shift for r in records}
    kinds = [k for k in SHIFT_KINDS if k in site.shift_kinds or k in present]
    shifts = _build(site, day, kinds, duty, records, markable, user, now)
    return SiteDay(site, day, shifts, staff=user.is_staff)


def shift_checkin(
    site: Site, day: date, kind: str, user: User, now: datetime | None = None
) -> ShiftCheckin:
    """One shift, for a change: NotOnShift for an unknown shift kind, NotAllowed unless the
    user is staff or leads it (whether the change is allowed now is the change's business)."""
    if kind not in SHIFT_KINDS:
        raise NotOnShift(kind)
    duty = on_duty(day, site_ids=[site.id])
    allowed = user.is_staff or kind in _led_kinds(user, duty)
    if not allowed:
        raise NotAllowed
    kind_duty = [a for a in duty if a.shift == kind]
    (shift,) = _build(
        site, day, [kind], kind_duty, _records(site, day, kind), {kind}, user, now or utcnow()
    )
    return shift


def _check_may_record(shift: ShiftCheckin, volunteer_id: int, user: User, now: datetime) -> None:
    """Refuse a lead recording themselves or a shift whose check-in is closed to them, and
    anyone before check-in opens."""
    if not user.is_staff and user.volunteer is not None and user.volunteer.id == volunteer_id:
        raise CheckinError(
            _l("You cannot record your own attendance: a coordinator records it for you.")
        )
    if now < shift.utc_start - OPENS_BEFORE:
        raise CheckinError(
            _l(
                "Check-in opens %(hours)d hours before the shift starts.",
                hours=int(OPENS_BEFORE.total_seconds() // 3600),
            )
        )
    if not user.is_staff and _lead_closed(shift.end, now):
        raise CheckinError(
            _l(
                "Check-in for this shift closed %(hours)d hours after it ended: "
                "ask a coordinator to correct it.",
                hours=int(LEAD_EDIT_WINDOW.total_seconds() // 3600),
            )
        )


def to_minute(moment: datetime) -> datetime:
    """Times are recorded to the minute, as the lead reads and types them."""
    return moment.replace(second=0, microsecond=0)


def default_time_in(shift: ShiftCheckin, now: datetime) -> datetime:
    """Now, but never before the shift starts (someone marked on arrival, early, serves from
    the start); the start when the shift is over (a sheet entered afterwards). UTC."""
    if now > shift.utc_end:
        return shift.utc_start
    return max(to_minute(now.astimezone(UTC)), shift.utc_start)


def _record_of(shift: ShiftCheckin, volunteer_id: int) -> Attendance | None:
    """The stored record of the volunteer on the shift, read afresh."""
    return db.session.scalar(
        select(Attendance)
        .where(
            Attendance.volunteer_id == volunteer_id,
            Attendance.site_id == shift.site.id,
            Attendance.day == shift.day,
            Attendance.shift == shift.kind,
        )
        .options(selectinload(Attendance.recorded_by), selectinload(Attendance.role))
    )


def _save(created: Attendance | None, shift: ShiftCheckin, volunteer_id: int) -> Attendance | None:
    """Commit. When the insert of `created` loses to a record of the same person made
    meanwhile (someone else, or a double tap), returns that record — the caller applies its
    change to it — and None when all went through. Any other refusal by the database writes
    nothing and is a CheckinError."""
    try:
        db.session.commit()
        return None
    except IntegrityError:
        db.session.rollback()
        existing = _record_of(shift, volunteer_id) if created is not None else None
        if existing is None:
            raise CheckinError(
                _l("This could not be saved: reload the page and try again.")
            ) from None
        return existing


def _person_or_404(shift: ShiftCheckin, volunteer_id: int) -> Person:
    person = shift.person(volunteer_id)
    if person is None:
        raise NotOnShift(volunteer_id)
    return person


def _apply_status(
    record: Attendance, status: str, shift: ShiftCheckin, user: User, now: datetime
) -> None:
    if status == ABSENT and record.walk_in:
        raise CheckinError(_l("A walk-in cannot be absent: remove them from the list instead."))
    if status == ABSENT:
        record.time_in = record.time_out = None
    elif record.status not in SERVED or record.time_in is None:
        record.time_in, record.time_out = default_time_in(shift, now), None
    record.status = status
    record.recorded_by_id = user.id
    record.updated_at = now


def mark(
    shift: ShiftCheckin, volunteer_id: int, status: str, user: User, now: datetime | None = None
) -> Person | None:
    """Mark someone on the shift present, late or absent (or remove a walk-in: returns None).
    Marking present or late records the time in as now (not before the shift starts); absent
    (only once the shift has started) clears the times; switching between present and late
    keeps them. A second tap for the same person — even one racing the first — applies to the
    same record. Commits."""
    now = now or utcnow()
    person = _person_or_404(shift, volunteer_id)
    if status not in MARKS:
        raise CheckinError(_l("Choose present, late or absent."))
    _check_may_record(shift, volunteer_id, user, now)
    record = person.record
    if status == REMOVE:
        if record is None or not record.walk_in:
            raise CheckinError(_l("Only a walk-in can be removed from the list."))
        db.session.delete(record)
        if _save(None, shift, volunteer_id) is None:
            log.info(
                "walk-in removed: volunteer %s from site %s %s %s by user %s",
                volunteer_id,
                shift.site.id,
                shift.day,
                shift.kind,
                user.id,
            )
        shift.people.remove(person)
        return None
    if status == ABSENT and now < shift.utc_start:
        raise CheckinError(_l("Someone can be marked absent only once the shift has started."))
    created = None
    if record is None:
        record = created = Attendance(
            volunteer_id=volunteer_id,
            site_id=shift.site.id,
            day=shift.day,
            shift=shift.kind,
            role_id=person.role.id if person.role is not None else None,
            walk_in=False,
        )
        db.session.add(record)
    _apply_status(record, status, shift, user, now)
    existing = _save(created, shift, volunteer_id)
    if existing is not None:  # recorded meanwhile: apply this tap to that record
        _apply_status(existing, status, shift, user, now)
        _save(None, shift, volunteer_id)
        record = existing
    person.record = record
    person.minutes = served_minutes(record, now)
    return person


def parse_time(text: str | None) -> time | None:
    """'7:05', '07:05' or '07:05:00' -> 07:05; None for anything else."""
    match = _TIME.match(text or "")
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def place_time(shift: ShiftCheckin, clock: time, prefer_later: bool = False) -> datetime:
    """The instant a local HH:MM typed for this shift means (aware, in the site's zone): on
    the day before, of or after the shift's date, whichever lies nearest the shift's window
    (inside it: distance 0), measured in real time. At an exact tie (12 hours from the
    window's middle) the earlier is taken, or the later with `prefer_later` (a time out)."""
    zone = ZoneInfo(shift.site.timezone)
    start, end = shift.utc_start, shift.utc_end
    candidates = [
        datetime.combine(shift.day + timedelta(days=offset), clock, tzinfo=zone)
        for offset in (-1, 0, 1)
    ]

    def distance(moment: datetime) -> timedelta:
        at = moment.astimezone(UTC)
        if at < start:
            return start - at
        if at > end:
            return at - end
        return timedelta(0)

    return min(
        candidates,
        key=lambda m: (distance(m), -m.timestamp() if prefer_later else m.timestamp()),
    )


def _typed_instant(shift: ShiftCheckin, clock: time, field_name: str, later: bool) -> datetime:
    """The typed local time as a UTC instant; refuses a time the clocks skipped (spring
    forward: 02:30 does not exist where clocks jump from 02:00 to 03:00)."""
    placed = place_time(shift, clock, prefer_later=later)
    at = placed.astimezone(UTC)
    if at.astimezone(placed.tzinfo).replace(tzinfo=None) != placed.replace(tzinfo=None):
        raise CheckinError(
            _l(
                "There is no %(time)s on that date: the clocks were put forward. Check the time.",
                time=f"{clock:%H:%M}",
            ),
            field_name,
        )
    return at


def set_times(
    shift: ShiftCheckin,
    volunteer_id: int,
    time_in: str | None,
    time_out: str | None,
    user: User,
    out_now: bool = False,
    now: datetime | None = None,
) -> Person:
    """Correct the time in and out of someone marked present or late: local HH:MM each (an
    empty time out clears it), or the time out as now with `out_now`. Refuses a time in the
    future, a local time that does not exist (daylight saving) or a time out not after the
    time in, writing nothing. Commits."""
    now = now or utcnow()
    person = _person_or_404(shift, volunteer_id)
    _check_may_record(shift, volunteer_id, user, now)
    record = person.record
    if record is None or record.status not in SERVED:
        raise CheckinError(_l("Mark them present or late first."))
    clock_in = parse_time(time_in)
    if clock_in is None:
        if (time_in or "").strip():
            raise CheckinError(_l("Enter the time as hours and minutes, e.g. 07:45."), "time_in")
        raise CheckinError(_l("Enter the time in."), "time_in")
    new_in = _typed_instant(shift, clock_in, "time_in", later=False)
    new_out: datetime | None
    if out_now:
        if now > shift.utc_end + OUT_NOW_LIMIT:
            raise CheckinError(
                _l("This shift ended long ago: type the time out instead."), "time_out"
            )
        new_out = to_minute(now.astimezone(UTC))
    elif (time_out or "").strip():
        clock_out = parse_time(time_out)
        if clock_out is None:
            raise CheckinError(_l("Enter the time as hours and minutes, e.g. 07:45."), "time_out")
        new_out = _typed_instant(shift, clock_out, "time_out", later=True)
    else:
        new_out = None
    if new_in > now + CLOCK_SLACK:
        raise CheckinError(_l("The time in cannot be in the future."), "time_in")
    if new_out is not None:
        if new_out > now + CLOCK_SLACK:
            raise CheckinError(_l("The time out cannot be in the future."), "time_out")
        if new_out <= new_in:
            raise CheckinError(_l("The time out must be after the time in."), "time_out")
    record.time_in, record.time_out = new_in, new_out
    record.recorded_by_id = user.id
    record.updated_at = now
    _save(None, shift, volunteer_id)
    person.minutes = served_minutes(record, now)
    return person


# Walk-ins ---------------------------------------------------------------------------------------


def walk_in_roles(shift: ShiftCheckin) -> list[Role]:
    """Roles a walk-in can take: the ones the post asks for (urgent requests included) first,
    then the rest."""
    extra = urgent_extra(None, [shift.site.id])
    wanted = demand_of(shift.site, shift.day, shift.kind, extra)
    roles = list(db.session.scalars(select(Role).order_by(Role.sort_order, Role.id)))
    return sorted(roles, key=lambda r: (r.id not in wanted, r.is_lead, r.sort_order, r.id))


def _scoped(user: Any) -> list[Any]:
    """Where-clauses keeping a coordinator's walk-in search inside their scope (a site lead
    may add anyone who turns up)."""
    if user is None or not scope.is_scoped(user):
        return []
    ids = scope.visible_org_ids(user)
    return [] if ids is None else [Volunteer.organisation_id.in_(ids)]


def walk_in_candidates(shift: ShiftCheckin, text: str, user: Any = None) -> list[Volunteer]:
    """Active volunteers not on the shift whose name, pinyin ('zhangsan', 'zhang san') or
    mobile number contains `text` (for a lead, a mobile number only as a whole); at most
    WALK_IN_RESULTS, by pinyin. A coordinator (`user`) finds only volunteers in their scope."""
    text = " ".join((text or "").split())[:MAX_QUERY_LENGTH]
    if not text:
        return []
    on_shift = [p.volunteer.id for p in shift.people]
    squashed = text.replace(" ", "").lower()
    conditions = [
        User.name.icontains(text, autoescape=True),
        func.replace(User.name_pinyin, " ", "").contains(squashed, autoescape=True),
    ]
    digits = "".join(ch for ch in text if ch.isdigit())
    if digits and all(ch.isdigit() or ch in " +-" for ch in text):
        if shift.staff:
            conditions.append(User.phone.contains(digits, autoescape=True))
        elif len(digits) >= MOBILE_DIGITS:
            conditions.append(User.phone == "+86" + digits[-MOBILE_DIGITS:])
    query = (
        select(Volunteer)
        .join(User, User.id == Volunteer.user_id)
        .where(User.active.is_(True), or_(*conditions))
        .where(*_scoped(user))
        .options(selectinload(Volunteer.user), selectinload(Volunteer.work_unit))
        .order_by(User.name_pinyin, User.id)
        .limit(WALK_IN_RESULTS)
    )
    if on_shift:
        query = query.where(Volunteer.id.not_in(on_shift))
    return list(db.session.scalars(query))


def add_walk_in(
    shift: ShiftCheckin, volunteer_id: int, role_id: int, user: User, now: datetime | None = None
) -> Person:
    """Add an active volunteer who is not on the shift as a walk-in, present from now (not
    before the shift starts), in the chosen role. Refuses someone already on the shift or
    checked in at an overlapping shift elsewhere, and a lead adding themselves. A double tap
    racing the first adds them once. Commits."""
    now = now or utcnow()
    volunteer = db.session.scalar(
        select(Volunteer)
        .join(User, User.id == Volunteer.user_id)
        .where(Volunteer.id == volunteer_id, User.active.is_(True))
        .options(selectinload(Volunteer.user), selectinload(Volunteer.work_unit))
    )
    if volunteer is None or (scope.is_scoped(user) and not scope.in_scope(volunteer, user)):
        raise CheckinError(_l("Choose a volunteer from the search results."), "volunteer_id")
    _check_may_record(shift, volunteer.id, user, now)
    if shift.person(volunteer.id) is not None:
        raise CheckinError(
            _l("%(name)s is already on this shift.", name=volunteer.user.name), "volunteer_id"
        )
    role = db.session.get(Role, role_id)
    if role is None:
        raise CheckinError(_l("Choose a role."), "role_id")
    clash = _checked_in_elsewhere(shift, volunteer.id)
    if clash is not None:
        raise CheckinError(
            _l(
                "%(name)s is already checked in at %(site)s at that time.",
                name=volunteer.user.name,
                site=clash.site.name,
            ),
            "volunteer_id",
        )
    record = Attendance(
        volunteer_id=volunteer.id,
        site_id=shift.site.id,
        day=shift.day,
        shift=shift.kind,
        role_id=role.id,
        status=PRESENT,
        time_in=default_time_in(shift, now),
        walk_in=True,
        recorded_by_id=user.id,
        updated_at=now,
    )
    db.session.add(record)
    existing = _save(record, shift, volunteer.id)
    if existing is not None:  # added meanwhile (a double tap): that is this walk-in
        if not existing.walk_in:
            raise CheckinError(
                _l("%(name)s is already on this shift.", name=volunteer.user.name),
                "volunteer_id",
            )
        record, role = existing, existing.role
    else:
        log.info(
            "walk-in added: volunteer %s at site %s %s %s by user %s",
            volunteer.id,
            shift.site.id,
            shift.day,
            shift.kind,
            user.id,
        )
    person = Person(volunteer, role, False, record, served_minutes(record, now))
    shift.people.append(person)
    return person


def _checked_in_elsewhere(shift: ShiftCheckin, volunteer_id: int) -> Attendance | None:
    """A record of the volunteer as present or late on another shift overlapping this one."""
    records = db.session.scalars(
        select(Attendance)
        .where(
            Attendance.volunteer_id == volunteer_id,
            Attendance.status.in_(SERVED),
            Attendance.day.between(shift.day - timedelta(days=1), shift.day + timedelta(days=1)),
        )
        .options(selectinload(Attendance.site))
    )
    for record in records:
        if record.site_id == shift.site.id and record.day == shift.day:
            continue  # this very shift (not possible here) or another shift of the same day
        start, end = record.site.shift_window(record.day, record.shift)
        if start.astimezone(UTC) < shift.utc_end and shift.utc_start < end.astimezone(UTC):
            return record
    return None


# The index: today's shifts ----------------------------------------------------------------------


@dataclass
class IndexShift:
    kind: str
    span: str
    people: int
    led: bool  # the viewer leads it


@dataclass
class IndexEntry:
    """A site's day with shifts the viewer can check in."""

    site: Site
    day: date
    today: bool
    shifts: list[IndexShift] = field(default_factory=list)


def todays_shifts(user: User, now: datetime | None = None) -> list[IndexEntry]:
    """For staff, every site in their scope with someone on duty today (the site's local
    today); for anyone
    else, the shifts they lead today. Yesterday's shifts stay listed until RECENT after they
    end (an overnight shift)."""
    now = now or utcnow()
    volunteer = user.volunteer
    if not user.is_staff and volunteer is None:
        return []
    zones = set(db.session.scalars(select(Site.timezone).distinct())) or {"Asia/Shanghai"}
    todays = [now.astimezone(ZoneInfo(zone)).date() for zone in zones]
    first, last = min(todays) - timedelta(days=1), max(todays)
    site_ids = None
    if not user.is_staff:
        assert volunteer is not None
        mine = on_duty(first, last, volunteer_id=volunteer.id)
        site_ids = {a.site_id for a in mine if a.role.is_lead}
        if not site_ids:
            return []
    duty = on_duty(first, last, site_ids=site_ids)
    if user.is_staff:  # a coordinator's sites only (scheduler.services.scope)
        visible = scope.node_filter(user)
        duty = [a for a in duty if visible(a.site.organisation_id)]
    led = _led_kinds_by_site(user, duty)
    grouped: dict[tuple[int, date], dict[str, list[Assignment]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for a in duty:
        grouped[(a.site_id, a.day)][a.shift].append(a)
    entries = []
    for (site_id, day), kinds in grouped.items():
        site = next(iter(kinds.values()))[0].site
        today = local_today(site, now)
        entry = IndexEntry(site, day, today=day == today)
        for kind in SHIFT_KINDS:
            if kind not in kinds:
                continue
            leads = kind in led.get((site_id, day), set())
            if not user.is_staff and not leads:
                continue
            _start, end = site.shift_window(day, kind)
            recent = end.astimezone(UTC) > now - RECENT
            if day != today and not (day == today - timedelta(days=1) and recent):
                continue
            people = len({a.volunteer_id for a in kinds[kind]})
            entry.shifts.append(IndexShift(kind, site.shift_span(day, kind), people, leads))
        if entry.shifts:
            entries.append(entry)
    entries.sort(key=lambda e: (e.day, e.site.name))
    return entries


def _led_kinds_by_site(user: User, duty: list[Assignment]) -> dict[tuple[int, date], set[str]]:
    led: dict[tuple[int, date], set[str]] = defaultdict(set)
    if user.volunteer is not None:
        for a in duty:
            if a.volunteer_id == user.volunteer.id and a.role.is_lead:
                led[(a.site_id, a.day)].add(a.shift)
    return led
