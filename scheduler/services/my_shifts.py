"""A volunteer's published shifts: what /me lists, confirming and cancelling them, and the
cancelled posts coordinators must refill.

Only the latest published version of each period counts; drafts are never shown. Answers are
stored as ShiftResponse rows keyed by the post (volunteer, site, day, shift), so they survive
republishing. Published rows are never written: cancelling frees the post in the draft and
reports the hole (`cancelled_posts`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, selectinload

from scheduler.extensions import db
from scheduler.i18n import lazy_gettext as _l
from scheduler.models import (
    COORDINATOR,
    Assignment,
    PlanningPeriod,
    Role,
    Roster,
    ShiftResponse,
    Site,
    User,
    Volunteer,
)
from scheduler.models.base import utcnow
from scheduler.models.json_rows import json_rows
from scheduler.models.responses import (
    CANCELLED_BY_VOLUNTEER,
    CONFIRMED,
    FROM_COORDINATOR,
    FROM_VOLUNTEER,
    MAX_REASON_LENGTH,
)
from scheduler.models.sites import shift_window
from scheduler.services import audit, scope
from scheduler.services.errors import ServiceError
from scheduler.services.lookups import current_draft, latest_published_rosters
from scheduler.services.notifications import notify
from scheduler.services.phones import national
from scheduler.services.reminders import withdraw_post

VOLUNTEER_CANCELLED = "volunteer_cancelled"
# Who reported a cancellation (in the notification payload).
MAX_UNAVAILABLE_DAYS = 92  # a coordinator marks at most about a quarter at once


class ShiftError(ServiceError):
    """Why a confirm or cancel was refused (a translatable message)."""


class ShiftNotFound(LookupError):
    """No published shift of this volunteer has that id (someone else's, a draft, stale)."""


class Contact(NamedTuple):
    """Someone to call: a name, the full phone number (for the `tel:` link) and the number as
    it is dialled in China (shown)."""

    name: str
    phone: str
    national: str


def _contact(name: str, phone: str) -> Contact:
    return Contact(name, phone, national(phone))


class CardSite(NamedTuple):
    """The site of a shift card: what the card shows and links to."""

    id: int
    name: str
    address: str


class CardRole(NamedTuple):
    """The volunteer's role on a shift card (the `localized` filter picks a name)."""

    name_zh: str
    name_en: str
    is_lead: bool


@dataclass
class ShiftCard:
    """One of the volunteer's shifts as /me shows it."""

    assignment_id: int
    period_name: str
    site: CardSite
    day: date
    kind: str
    role: CardRole
    start: datetime  # aware, in the site's zone
    end: datetime
    leads: list[Contact] = field(default_factory=list)  # the shift's lead(s), phones in full
    teammates: list[str] = field(default_factory=list)  # names only
    # Only when this volunteer leads the shift: the team's numbers, to call someone late.
    team_contacts: list[Contact] = field(default_factory=list)
    i_lead: bool = False
    status: str | None = None  # None, "confirmed" or "cancelled"
    reason: str | None = None
    can_cancel: bool = False  # before the cutoff
    can_confirm: bool = False
    ended: bool = False
    # Finds `coordinators` when they are first read: most cards have a lead and are not past
    # the cut-off, so they never show them and /me never looks them up.
    find_coordinators: Callable[[], list[Contact]] | None = field(
        default=None, repr=False, compare=False
    )
    _coordinators: list[Contact] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def coordinators(self) -> list[Contact]:
        """Whom to call when the shift has no lead or it is too late to cancel online: the
        period's coordinator on duty, else the active coordinators whose scope holds it."""
        if self._coordinators is None:
            find = self.find_coordinators
            self._coordinators = find() if find is not None else []
        return self._coordinators

    @property
    def span(self) -> str:
        """'08:00–16:00' in the site's local time."""
        end = "24:00" if self.end.hour == 0 and self.end.date() > self.start.date() else None
        return f"{self.start:%H:%M}–{end or format(self.end, '%H:%M')}"


@dataclass
class MyShifts:
    upcoming: list[ShiftCard]
    past: list[ShiftCard]  # finished, and cancelled ones


def cutoff_hours() -> int:
    """Hours before a shift's start after which a volunteer can no longer cancel it."""
    return int(current_app.config.get("CANCEL_CUTOFF_HOURS", 12))


# /me's statements, built once (every volunteer opens /me, again and again on the night):
# building them costs more CPU than running them. Values are bound parameters.
_RESPONSES = select(ShiftResponse).where(ShiftResponse.volunteer_id == bindparam("volunteer"))

# The others on one of my shifts (same roster, site, day and shift), as a JSON list per shift
# (models.json_rows): a correlated subquery, so PostgreSQL looks each crew up by the post's
# unique index whatever its statistics say. A self-join was planned as a loop over the whole
# roster while the statistics still described the table as it was before a publish wrote
# thousands of rows (170 ms instead of 0.4 ms); a correlated subquery is always run per row.
_other = aliased(Assignment)
_other_role = aliased(Role)
_other_volunteer = aliased(Volunteer)
_other_user = aliased(User)
_CREW = (
    select(
        json_rows(
            _other_role.is_lead,
            _other_role.sort_order,
            _other_user.name_pinyin,
            _other_user.name,
            _other_user.phone,
        )
    )
    .select_from(_other)
    .join(_other_role, _other_role.id == _other.role_id)
    .join(_other_volunteer, _other_volunteer.id == _other.volunteer_id)
    .join(_other_user, _other_user.id == _other_volunteer.user_id)
    .where(
        _other.roster_id == Assignment.roster_id,
        _other.site_id == Assignment.site_id,
        _other.day == Assignment.day,
        _other.shift == Assignment.shift,
        _other.volunteer_id != Assignment.volunteer_id,
    )
    .correlate(Assignment)
    .scalar_subquery()
)
# The period's coordinator on duty, if it names one.
_contact_user = aliased(User)
# My published shifts, as rows with what their cards show of the site, role and period, my
# answer to the post, the period's coordinator on duty and the crew: one statement however
# many sites, days and periods, and no objects (loading Assignment, Site, Role and period
# objects cost several times the CPU of plain columns).
_MINE = (
    select(
        Assignment.id,
        Assignment.roster_id,
        Assignment.site_id,
        Assignment.day,
        Assignment.shift,
        Site.name,
        Site.address,
        Site.timezone,
        Site.first_shift_hour,
        Role.name_zh,
        Role.name_en,
        Role.is_lead,
        PlanningPeriod.name,
        PlanningPeriod.organisation_id,
        _contact_user.name,
        _contact_user.phone,
        _contact_user.active,
        ShiftResponse.status,
        ShiftResponse.reason,
        _CREW,
    )
    .join(Site, Site.id == Assignment.site_id)
    .join(Role, Role.id == Assignment.role_id)
    .join(Roster, Roster.id == Assignment.roster_id)
    .join(PlanningPeriod, PlanningPeriod.id == Roster.period_id)
    .outerjoin(_contact_user, _contact_user.id == PlanningPeriod.contact_id)
    # My answer to the post, if any (one per volunteer, site, day and shift).
    .outerjoin(
        ShiftResponse,
        (ShiftResponse.volunteer_id == Assignment.volunteer_id)
        & (ShiftResponse.site_id == Assignment.site_id)
        & (ShiftResponse.day == Assignment.day)
        & (ShiftResponse.shift == Assignment.shift),
    )
    .where(
        Assignment.volunteer_id == bindparam("volunteer"),
        Assignment.roster_id.in_(latest_published_rosters()),
    )
)


class Mine(NamedTuple):
    """One of the volunteer's published shifts as `_MINE` reads it."""

    id: int
    roster_id: int
    site_id: int
    day: date
    shift: str
    site_name: str
    site_address: str
    timezone: str
    first_shift_hour: int
    role_zh: str
    role_en: str
    i_lead: bool
    period_name: str
    period_node: int | None  # the period's node of the union tree (its scope)
    contact_name: str | None  # the period's coordinator on duty, if any
    contact_phone: str | None
    contact_active: bool | None
    status: str | None  # my answer: None, "confirmed" or "cancelled"
    reason: str | None
    crew: list[list[Any]]  # CrewMember fields, one list per other volunteer on the post


def _responses(volunteer_id: int) -> dict[tuple[int, date, str], ShiftResponse]:
    return {
        (r.site_id, r.day, r.shift): r
        for r in db.session.scalars(_RESPONSES, {"volunteer": volunteer_id})
    }


def my_shifts(volunteer: Volunteer, now: datetime | None = None) -> MyShifts:
    """The volunteer's shifts in the latest published version of every period: upcoming (not
    yet ended, not cancelled) first by start, then past and cancelled ones, latest first.
    Changes not flushed yet are not seen (every caller has committed before)."""
    now = now or utcnow()
    # A Core statement on the session's connection (no autoflush): the ORM adds nothing to
    # rows but CPU.
    found: Iterable[Any] = db.session.connection().execute(_MINE, {"volunteer": volunteer.id})
    mine = [Mine(*row) for row in found]
    if not mine:
        return MyShifts([], [])
    coordinators = _Coordinators()
    cutoff = timedelta(hours=cutoff_hours())
    upcoming: list[ShiftCard] = []
    past: list[ShiftCard] = []
    for a in mine:
        card = _card(a, [CrewMember(*other) for other in a.crew])
        card.find_coordinators = partial(coordinators, a)
        card.status, card.reason = a.status, a.reason
        card.ended = ended = card.end <= now
        open_ = not ended and card.status != CANCELLED_BY_VOLUNTEER
        card.can_cancel = open_ and now <= card.start - cutoff
        card.can_confirm = open_ and card.status is None and now < card.start
        (upcoming if open_ else past).append(card)
    upcoming.sort(key=lambda c: c.start)
    past.sort(key=lambda c: c.start, reverse=True)
    return MyShifts(upcoming, past)


class _Coordinators:
    """The coordinators to call about a period's shifts (`ShiftCard.coordinators`), looked up
    for the first card that shows them and shared by the cards of the same union: a memo of
    one `my_shifts` answer, never kept beyond it."""

    def __init__(self) -> None:
        self.known: dict[int | None, list[Contact]] = {}

    def __call__(self, shift: Mine) -> list[Contact]:
        name, phone = shift.contact_name, shift.contact_phone
        if shift.contact_active and name is not None and phone is not None:
            return [_contact(name, phone)]
        if shift.period_node not in self.known:
            self.known[shift.period_node] = _coordinators_at(shift.period_node)
        return self.known[shift.period_node]


class CrewMember(NamedTuple):
    """Someone else on one of the volunteer's shifts: what the card shows of them."""

    is_lead: bool
    sort_order: int
    name_pinyin: str
    name: str
    phone: str


def _card(a: Mine, crew: list[CrewMember]) -> ShiftCard:
    start, end = shift_window(a.first_shift_hour, a.timezone, a.day, a.shift)
    card = ShiftCard(
        assignment_id=a.id,
        period_name=a.period_name,
        site=CardSite(a.site_id, a.site_name, a.site_address),
        day=a.day,
        kind=a.shift,
        role=CardRole(a.role_zh, a.role_en, a.i_lead),
        start=start,
        end=end,
        i_lead=a.i_lead,
    )
    for other in sorted(crew, key=lambda o: (o.sort_order, o.name_pinyin, o.name, o.phone)):
        if other.is_lead:
            card.leads.append(_contact(other.name, other.phone))
        else:
            card.teammates.append(other.name)
            if card.i_lead:
                card.team_contacts.append(_contact(other.name, other.phone))
    return card


def own_shift(volunteer: Volunteer, assignment_id: int) -> Assignment:
    """The volunteer's own assignment in a latest published version, or ShiftNotFound."""
    assignment = db.session.scalar(
        select(Assignment).where(
            Assignment.id == assignment_id,
            Assignment.volunteer_id == volunteer.id,
            Assignment.roster_id.in_(latest_published_rosters()),
        )
    )
    if assignment is None:
        raise ShiftNotFound(assignment_id)
    return assignment


def shift_card(volunteer: Volunteer, assignment_id: int, now: datetime | None = None) -> ShiftCard:
    """One of the volunteer's published shifts as a card (ShiftNotFound when not theirs)."""
    own_shift(volunteer, assignment_id)
    shifts = my_shifts(volunteer, now)
    return next(c for c in shifts.upcoming + shifts.past if c.assignment_id == assignment_id)


def coordinator_contacts(period: PlanningPeriod) -> list[Contact]:
    """The active coordinators whose scope holds the period (scope.staff_covering), to call
    about a shift when the period names no coordinator on duty -- not every coordinator in
    the city: a district's coordinators' numbers are not handed to another district's
    volunteers."""
    return _coordinators_at(period.organisation_id)


def _coordinators_at(node: int | None) -> list[Contact]:
    """`coordinator_contacts` of a period of the union tree's node `node`."""
    users = scope.staff_contacts_covering_node(node, roles=(COORDINATOR,))
    return [_contact(u.name, u.phone) for u in sorted(users, key=lambda u: (u.name_pinyin, u.id))]


def _answer(volunteer_id: int, a: Assignment) -> ShiftResponse:
    answer = db.session.scalar(
        select(ShiftResponse).where(
            ShiftResponse.volunteer_id == volunteer_id,
            ShiftResponse.site_id == a.site_id,
            ShiftResponse.day == a.day,
            ShiftResponse.shift == a.shift,
        )
    )
    if answer is None:
        answer = ShiftResponse(
            volunteer_id=volunteer_id, site_id=a.site_id, day=a.day, shift=a.shift
        )
        db.session.add(answer)
    return answer


def confirm(volunteer: Volunteer, assignment_id: int, now: datetime | None = None) -> None:
    """Confirm one of the volunteer's upcoming published shifts (commits)."""
    now = now or utcnow()
    a = own_shift(volunteer, assignment_id)
    start, _end = a.site.shift_window(a.day, a.shift)
    answer = _answer(volunteer.id, a)
    if answer.status == CANCELLED_BY_VOLUNTEER:
        db.session.rollback()
        raise ShiftError(
            _l("You have cancelled this shift. Call your coordinator to take it back.")
        )
    if now >= start:
        db.session.rollback()
        raise ShiftError(_l("This shift has already started."))
    answer.status, answer.reason, answer.updated_at = CONFIRMED, None, now
    _commit_answer()


def _commit_answer() -> None:
    """Commit; a first answer saved meanwhile from another window collides on the unique
    post key and is reported instead of failing."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ShiftError(
            _l("Your answer was just saved from another window: reload the page.")
        ) from None


def cancel(
    volunteer: Volunteer, assignment_id: int, reason: str, now: datetime | None = None
) -> None:
    """Cancel one of the volunteer's published shifts with a reason, up to the cutoff before
    it starts. Frees the post in the period's draft (published versions stay as they are),
    and notifies the coordinators covering its period and the shift's lead. Commits once."""
    now = now or utcnow()
    reason = " ".join((reason or "").split())
    if not reason:
        raise ShiftError(_l("Please say why you cancel."))
    if len(reason) > MAX_REASON_LENGTH:
        raise ShiftError(_l("At most %(num)d characters.", num=MAX_REASON_LENGTH))
    a = own_shift(volunteer, assignment_id)
    start, _end = a.site.shift_window(a.day, a.shift)
    if now > start - timedelta(hours=cutoff_hours()):
        raise ShiftError(
            _l("It is too late to cancel online: please call your site lead or a coordinator.")
        )
    answer = _answer(volunteer.id, a)
    if answer.status == CANCELLED_BY_VOLUNTEER:
        db.session.rollback()
        raise ShiftError(_l("You have already cancelled this shift."))
    answer.status, answer.reason, answer.updated_at = CANCELLED_BY_VOLUNTEER, reason, now
    answer.source = FROM_VOLUNTEER
    _free_post(volunteer, a, reason, source=FROM_VOLUNTEER, now=now)
    _commit_answer()


def _free_post(
    volunteer: Volunteer,
    a: Assignment,
    reason: str,
    source: str,
    skip_user_id: int | None = None,
    now: datetime | None = None,
) -> None:
    """Take the volunteer off this post in the period's draft (published versions stay as
    they are), withdraw their reminders of it, and notify the coordinators covering the
    period and the shift's lead, except `skip_user_id` (the coordinator who recorded it);
    `source` says who reported the cancellation (the volunteer, or a coordinator). A shift
    starting within the cut-off is flagged urgent in the notification (`late`). No commit."""
    start, _end = a.site.shift_window(a.day, a.shift)
    late = start <= (now or utcnow()) + timedelta(hours=cutoff_hours())
    withdraw_post(volunteer.id, a.site_id, a.day, a.shift)
    draft = current_draft(a.roster.period_id)
    if draft is not None:
        draft.touch()
        db.session.execute(
            delete(Assignment).where(
                Assignment.roster_id == draft.id,
                Assignment.volunteer_id == volunteer.id,
                Assignment.site_id == a.site_id,
                Assignment.day == a.day,
                Assignment.shift == a.shift,
            )
        )
    # The coordinators whose scope holds the period, not the city's: the notice carries the
    # volunteer's name, the site and the reason (scope.staff_covering).
    recipients = set(scope.staff_covering(a.roster.period, roles=(COORDINATOR,)))
    recipients |= set(
        db.session.scalars(
            select(Volunteer.user_id)
            .join(Assignment, Assignment.volunteer_id == Volunteer.id)
            .join(Role, Role.id == Assignment.role_id)
            .where(
                Assignment.roster_id == a.roster_id,
                Assignment.site_id == a.site_id,
                Assignment.day == a.day,
                Assignment.shift == a.shift,
                Role.is_lead.is_(True),
                Assignment.volunteer_id != volunteer.id,
            )
        )
    )
    recipients.discard(skip_user_id)
    for user_id in sorted(recipients):
        notify(
            user_id,
            VOLUNTEER_CANCELLED,
            volunteer_id=volunteer.id,
            volunteer_name=volunteer.user.name,
            site_id=a.site_id,
            site_name=a.site.name,
            day=a.day.isoformat(),
            shift=a.shift,
            role_id=a.role_id,
            reason=reason,
            source=source,
            **({"late": True, "cutoff_hours": cutoff_hours()} if late else {}),
        )


def mark_unavailable(
    volunteer: Volunteer,
    first: date,
    last: date,
    reason: str,
    by: User,
    now: datetime | None = None,
) -> int:
    """A coordinator records a drop-out reported by phone: every shift of the volunteer in the
    latest published versions from `first` to `last` that has not started yet is cancelled
    for them (no volunteer cutoff; source coordinator), freed in the drafts, and the shift's
    lead and the other coordinators are notified, so the holes show and Repair fills them.
    Returns how many shifts were cancelled. Commits once; refuses a bad range or reason."""
    now = now or utcnow()
    reason = " ".join((reason or "").split())
    if not reason:
        raise ShiftError(_l("Please say why."), field="reason")
    if len(reason) > MAX_REASON_LENGTH:
        raise ShiftError(_l("At most %(num)d characters.", num=MAX_REASON_LENGTH), field="reason")
    if last < first:
        raise ShiftError(_l("The last day cannot be before the first day."), field="last_day")
    if (last - first).days >= MAX_UNAVAILABLE_DAYS:
        raise ShiftError(
            _l("At most %(num)d days at a time.", num=MAX_UNAVAILABLE_DAYS), field="last_day"
        )
    shifts = db.session.scalars(
        select(Assignment)
        .where(
            Assignment.volunteer_id == volunteer.id,
            Assignment.roster_id.in_(latest_published_rosters()),
            Assignment.day.between(first, last),
        )
        .options(selectinload(Assignment.site), selectinload(Assignment.roster))
        .order_by(Assignment.day, Assignment.id)
    ).all()
    answers = _responses(volunteer.id)
    cancelled = 0
    for a in shifts:
        start, _end = a.site.shift_window(a.day, a.shift)
        if start <= now:
            continue
        answer = answers.get((a.site_id, a.day, a.shift))
        if answer is not None and answer.status == CANCELLED_BY_VOLUNTEER:
            continue
        if answer is None:
            answer = _answer(volunteer.id, a)
        answer.status, answer.reason, answer.updated_at = CANCELLED_BY_VOLUNTEER, reason, now
        answer.source = FROM_COORDINATOR
        _free_post(volunteer, a, reason, source=FROM_COORDINATOR, skip_user_id=by.id, now=now)
        cancelled += 1
    audit.record(
        audit.VOLUNTEER_UNAVAILABLE,
        object_type="volunteer",
        object_id=volunteer.id,
        summary=volunteer.user.name,
        details={"first": first, "last": last, "reason": reason, "shifts_cancelled": cancelled},
        actor=by,
        volunteer_id=volunteer.id,
        district_id=volunteer.district_id,
    )
    _commit_answer()
    return cancelled


def cancel_upcoming(
    volunteer: Volunteer,
    reason: str,
    now: datetime | None = None,
    by: User | None = None,
) -> int:
    """Cancel every shift of the volunteer in the latest published versions that has not
    started yet -- the cut-off does not apply, the volunteer is leaving (their account is
    deleted or deactivated: scheduler.services.profile.leave_rosters) -- through the same
    steps as `cancel`: the answer is recorded, the post is freed in the draft, every
    coordinator and the shift's lead are notified (except `by`, the admin who closed the
    account: then the answer's source is a coordinator's), and a shift inside the cut-off is
    flagged urgent. Returns how many were cancelled. No commit."""
    source = FROM_VOLUNTEER if by is None else FROM_COORDINATOR
    now = now or utcnow()
    answers = _responses(volunteer.id)
    cancelled = 0
    for a in db.session.scalars(
        select(Assignment)
        .where(
            Assignment.volunteer_id == volunteer.id,
            Assignment.roster_id.in_(latest_published_rosters()),
        )
        .options(selectinload(Assignment.site), selectinload(Assignment.roster))
        .order_by(Assignment.day, Assignment.id)
    ).all():
        start, _end = a.site.shift_window(a.day, a.shift)
        answer = answers.get((a.site_id, a.day, a.shift))
        if start <= now or (answer is not None and answer.status == CANCELLED_BY_VOLUNTEER):
            continue
        if answer is None:
            answer = answers[(a.site_id, a.day, a.shift)] = _answer(volunteer.id, a)
        answer.status, answer.reason, answer.updated_at = CANCELLED_BY_VOLUNTEER, reason, now
        answer.source = source
        _free_post(volunteer, a, reason, source=source, skip_user_id=by.id if by else None, now=now)
        cancelled += 1
    return cancelled


@dataclass
class CancelledPost:
    """A post of the latest published version whose volunteer cancelled: a hole to refill;
    `urgent` when it starts within the cancel cut-off."""

    assignment: Assignment
    response: ShiftResponse
    urgent: bool = False


def cancelled_posts(period: PlanningPeriod, now: datetime | None = None) -> list[CancelledPost]:
    """The period's published posts that their volunteer has cancelled, by start: the holes
    the coordinator's review and repair should show (urgent when they start within the
    cut-off and have not started)."""
    rows = db.session.execute(
        select(Assignment, ShiftResponse)
        .join(
            ShiftResponse,
            (ShiftResponse.volunteer_id == Assignment.volunteer_id)
            & (ShiftResponse.site_id == Assignment.site_id)
            & (ShiftResponse.day == Assignment.day)
            & (ShiftResponse.shift == Assignment.shift),
        )
        .join(Roster, Roster.id == Assignment.roster_id)
        .where(
            Roster.period_id == period.id,
            Assignment.roster_id.in_(latest_published_rosters()),
            ShiftResponse.status == CANCELLED_BY_VOLUNTEER,
        )
        .options(
            selectinload(Assignment.site),
            selectinload(Assignment.role),
            selectinload(Assignment.volunteer).selectinload(Volunteer.user),
        )
    ).all()
    now = now or utcnow()
    cutoff = timedelta(hours=cutoff_hours())
    posts = []
    for a, r in rows:
        start, _end = a.site.shift_window(a.day, a.shift)
        posts.append(CancelledPost(a, r, urgent=now < start <= now + cutoff))
    posts.sort(key=lambda p: p.assignment.site.shift_window(p.assignment.day, p.assignment.shift))
    return posts
