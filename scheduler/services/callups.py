"""Call-ups (集结号): choose a part of the pool by the filters it already has, preview whom it
reaches and how many SMS the message costs each person, send it through the outbox, explain
it on a public page, and count its funnel from recorded events.

The audience is structured data (`Audience`), kept on the sent call-up. It only ever reaches
the people the period may draw on who are in the sender's scope (services.scope). Its
filters narrow that pool (district, work unit, skill, training: each ANDed; several values
of one filter are alternatives); its groups say whom among those to reach, any of (none
ticked: all of them): people with no availability for the period yet; imported people who
have not claimed their account; and people (with a skill) whose availability does not cover a shift
on some dates yet (`Gap`). Compose and preview write nothing; `send` writes the call-up, one
recipient row and one outbox notification per person in one transaction."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from babel.dates import format_skeleton
from flask_babel import force_locale, get_locale, gettext, pgettext
from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from scheduler.extensions import db
from scheduler.i18n import lazy_gettext as _l
from scheduler.i18n import localized_name
from scheduler.labels import SHIFT_LABELS
from scheduler.models import (
    SHIFT_KINDS,
    Availability,
    CallUp,
    CallUpEvent,
    CallUpRecipient,
    District,
    Notification,
    PlanningPeriod,
    Role,
    Site,
    Skill,
    User,
    Volunteer,
    VolunteerSkill,
    WorkUnit,
)
from scheduler.models.accounts import IMPORTED_PASSWORD_HASH
from scheduler.models.callups import LOGGED_IN, MAX_CALLUP_MESSAGE, OPENED, REGISTERED
from scheduler.models.notifications import FAILED, SENT
from scheduler.models.sites import SHIFT_HOURS
from scheduler.services import audit, scope, senders
from scheduler.services.availability import Offer, default_start
from scheduler.services.errors import ServiceError
from scheduler.services.notifications import notify

KIND = "callup"  # the outbox kind (services.delivery renders it with `render_callup`)
SAMPLE_SIZE = 5
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{22,64}")
TRAINED_ANY, TRAINED_YES, TRAINED_NO = "", "yes", "no"
SITES_IN_MESSAGE = 3

# What each role of the default catalogue does, for the public page (a renamed or new role
# shows its requirements only).
ROLE_DUTIES = {
    "site_lead": _l(
        "Leads the shift at the site: knows the flow, signs people in, calls anyone late."
    ),
    "code_checker": _l("Checks everyone's health code and travel code."),
    "temperature": _l("Takes everyone's temperature at the entrance."),
    "registrar": _l("Scans and registers the people who come through."),
    "queue_marshal": _l("Keeps the queue in order and people spaced apart."),
    "sampler": _l("Helps the sampling team take swabs (a verified medical qualification)."),
    "disinfection": _l("Disinfects the site and the equipment."),
    "logistics": _l("Brings and hands out supplies, meals and protective equipment."),
}


class CallUpError(ServiceError):
    """Why a call-up was not sent (nothing was written)."""


# The audience -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gap:
    """People (with `skill_id`, if given) whose availability does not yet cover the `shift`
    on every date from `first` to `last`; `role_id` is the role the call is for."""

    shift: str
    first: date
    last: date
    skill_id: int | None = None
    role_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "shift": self.shift,
            "first": self.first.isoformat(),
            "last": self.last.isoformat(),
            "skill_id": self.skill_id,
            "role_id": self.role_id,
        }


@dataclass(frozen=True)
class Audience:
    """Whom a call-up reaches (see the module docstring)."""

    district_ids: tuple[int, ...] = ()
    work_unit_ids: tuple[int, ...] = ()
    skill_ids: tuple[int, ...] = ()
    trained: str = TRAINED_ANY
    no_availability: bool = False
    unclaimed: bool = False
    gap: Gap | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "district_ids": list(self.district_ids),
            "work_unit_ids": list(self.work_unit_ids),
            "skill_ids": list(self.skill_ids),
            "trained": self.trained,
            "no_availability": self.no_availability,
            "unclaimed": self.unclaimed,
            "gap": self.gap.to_json() if self.gap else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Audience:
        gap = data.get("gap")
        return cls(
            district_ids=tuple(data.get("district_ids") or ()),
            work_unit_ids=tuple(data.get("work_unit_ids") or ()),
            skill_ids=tuple(data.get("skill_ids") or ()),
            trained=data.get("trained") or TRAINED_ANY,
            no_availability=bool(data.get("no_availability")),
            unclaimed=bool(data.get("unclaimed")),
            gap=Gap(
                shift=gap["shift"],
                first=date.fromisoformat(gap["first"]),
                last=date.fromisoformat(gap["last"]),
                skill_id=gap.get("skill_id"),
                role_id=gap.get("role_id"),
            )
            if gap
            else None,
        )


@dataclass(frozen=True)
class Person:
    """One person the audience reaches, as the preview shows them."""

    user_id: int
    name: str
    phone: str  # scope.phone_seen_by the user asking: in full for staff, else 138****5678
    had_availability: bool


def _has_availability(period: PlanningPeriod) -> Any:
    return (
        exists()
        .where(
            Availability.volunteer_id == Volunteer.id,
            Availability.day.between(period.start_date, period.end_date),
        )
        .correlate(Volunteer)
    )


def _gap_starts(period: PlanningPeriod, shift: str) -> list[int]:
    """The local start hours of `shift` at the period's sites that run it (the default
    pattern's when none does)."""
    sites = db.session.scalars(
        select(Site).where(Site.id.in_([s.id for s in period.sites]), Site.archived_at.is_(None))
    )
    index = SHIFT_KINDS.index(shift)
    starts = {
        (site.first_shift_hour + SHIFT_HOURS * index) % 24
        for site in sites
        if shift in site.shift_kinds
    }
    return sorted(starts) or [default_start(shift)]


def _gap_volunteers(period: PlanningPeriod, gap: Gap, candidates: dict[int, int]) -> set[int]:
    """Of `candidates` (volunteer id -> user id), the users whose offered hours miss the
    gap's shift on at least one of its dates (at none of the period's patterns for it)."""
    if not candidates:
        return set()
    days = [gap.first + timedelta(days=i) for i in range((gap.last - gap.first).days + 1)]
    starts = _gap_starts(period, gap.shift)
    cells: dict[int, list[tuple[date, int]]] = {}
    # The day before the first date too: a span starting at 23:00 runs into it.
    stmt = select(Availability.volunteer_id, Availability.day, Availability.start_hour).where(
        Availability.day.between(gap.first - timedelta(days=1), gap.last)
    )
    if gap.skill_id is not None:
        stmt = stmt.where(
            Availability.volunteer_id.in_(
                select(VolunteerSkill.volunteer_id).where(VolunteerSkill.skill_id == gap.skill_id)
            )
        )
    rows = db.session.execute(stmt)
    for volunteer_id, day, hour in rows:
        cells.setdefault(volunteer_id, []).append((day, hour))
    missing = set()
    for volunteer_id, user_id in candidates.items():
        offer = Offer(cells.get(volunteer_id, ()))
        if not all(any(offer.covers(day, h) for h in starts) for day in days):
            missing.add(user_id)
    return missing


def audience_people(
    period: PlanningPeriod, audience: Audience, user: User | None = None
) -> list[Person]:
    """Everyone the audience reaches: active volunteers the period may draw on, in `user`'s
    scope (None: an internal caller, no limit), sorted by name (pinyin)."""
    stmt = (
        select(
            User.id,
            Volunteer.id,
            User.name,
            User.phone,
            User.password_hash,
            _has_availability(period).label("has_availability"),
            Volunteer.organisation_id,
        )
        .join(Volunteer, Volunteer.user_id == User.id)
        .where(User.active.is_(True), Volunteer.id.in_(scope.eligible_volunteer_ids(period)))
    )
    stmt = scope.restrict(stmt, Volunteer.organisation_id, user)
    if audience.district_ids:
        stmt = stmt.where(Volunteer.district_id.in_(audience.district_ids))
    if audience.work_unit_ids:
        stmt = stmt.where(Volunteer.work_unit_id.in_(audience.work_unit_ids))
    if audience.skill_ids:
        stmt = stmt.where(
            exists().where(
                VolunteerSkill.volunteer_id == Volunteer.id,
                VolunteerSkill.skill_id.in_(audience.skill_ids),
            )
        )
    if audience.trained == TRAINED_YES:
        stmt = stmt.where(Volunteer.trained_at.is_not(None))
    elif audience.trained == TRAINED_NO:
        stmt = stmt.where(Volunteer.trained_at.is_(None))
    gap = audience.gap
    gap_skill: set[int] | None = None
    if gap is not None and gap.skill_id is not None:
        gap_skill = set(
            db.session.scalars(
                select(VolunteerSkill.volunteer_id).where(VolunteerSkill.skill_id == gap.skill_id)
            )
        )
    rows = list(db.session.execute(stmt.order_by(User.name_pinyin, User.name, User.id)))
    grouped = audience.no_availability or audience.unclaimed or gap is not None
    in_gap: set[int] = set()
    if gap is not None:
        candidates = {
            volunteer_id: user_id
            for user_id, volunteer_id, *_ in rows
            if gap_skill is None or volunteer_id in gap_skill
        }
        in_gap = _gap_volunteers(period, gap, candidates)
    people = []
    for user_id, _volunteer_id, name, phone, password_hash, has_availability, node in rows:
        if grouped and not (
            (audience.no_availability and not has_availability)
            or (audience.unclaimed and password_hash == IMPORTED_PASSWORD_HASH)
            or user_id in in_gap
        ):
            continue
        shown = scope.phone_seen_by(user, phone, node)
        people.append(Person(user_id, name, shown, bool(has_availability)))
    return people


# The message --------------------------------------------------------------------------------


def _day(day: date) -> str:
    return format_skeleton("MMMd", day, locale=str(get_locale()))


def _dates(first: date, last: date) -> str:
    return _day(first) if first == last else f"{_day(first)}–{_day(last)}"


def _site_names(sites: list[Site]) -> str:
    names = [s.name for s in sites]
    if len(names) <= SITES_IN_MESSAGE:
        return gettext("、").join(names) if names else ""
    return gettext(
        "%(names)s and %(n)d more sites",
        names=gettext("、").join(names[:SITES_IN_MESSAGE]),
        n=len(names) - SITES_IN_MESSAGE,
    )


def default_message(
    period: PlanningPeriod,
    locale: str,
    url: str,
    role: Role | None = None,
    gap: Gap | None = None,
) -> str:
    """The message a call-up starts from, in `locale`: the period, its sites, the dates and
    the link; for a gap, the role, the shift and its dates, and only the sites that need
    that role on that shift."""
    sites = sorted((s for s in period.sites if s.archived_at is None), key=lambda s: s.name)
    with force_locale(locale):
        if gap is not None:
            if role is not None:
                sites = [
                    s
                    for s in sites
                    if gap.shift in s.shift_kinds and s.demand_for(gap.shift).get(role.id)
                ] or sites
            return gettext(
                "Call-up: %(sites)s need %(role)s on %(shift)s shifts, %(dates)s. If you can "
                "help, sign up and say when you can serve: %(url)s",
                sites=_site_names(sites) or period.name,
                role=localized_name(role)
                if role is not None
                else pgettext("call-up", "volunteers"),
                shift=str(SHIFT_LABELS[gap.shift]),
                dates=_dates(gap.first, gap.last),
                url=url,
            )
        return gettext(
            "Call-up: volunteers wanted for %(period)s (%(dates)s) at %(sites)s. See the posts, "
            "sign up and say when you can serve: %(url)s",
            period=period.name,
            dates=_dates(period.start_date, period.end_date),
            sites=_site_names(sites) or "—",
            url=url,
        )


def new_token() -> str:
    """The public page's name: 128 random bits, URL-safe."""
    return secrets.token_urlsafe(16)


# Preview and send ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """What the coordinator sees before sending."""

    count: int
    sample: list[Person]
    segments: int
    characters: int


def preview(
    period: PlanningPeriod, audience: Audience, message: str, user: User | None = None
) -> Preview:
    people = audience_people(period, audience, user)
    return Preview(
        count=len(people),
        sample=people[:SAMPLE_SIZE],
        segments=senders.sms_segments(message),
        characters=len(message),
    )


def send(
    period: PlanningPeriod,
    audience: Audience,
    message: str,
    *,
    locale: str,
    token: str,
    by: User,
) -> CallUp:
    """Send the call-up: the call-up row, then per person a recipient row and an outbox
    notification (kind "callup"), committed together. Refused, writing nothing, when the
    message is empty or too long, the token malformed or already used (sent twice), or the
    audience reaches nobody."""
    message = message.strip()
    if not message:
        raise CallUpError(_l("Write the message."), field="message")
    if len(message) > MAX_CALLUP_MESSAGE:
        raise CallUpError(
            _l("The message is too long (at most %(n)d characters).", n=MAX_CALLUP_MESSAGE),
            field="message",
        )
    if not TOKEN_PATTERN.fullmatch(token or ""):
        raise CallUpError(_l("This form is out of date. Open “Send a call-up” again."))
    if db.session.scalar(select(CallUp.id).where(CallUp.token == token)) is not None:
        raise CallUpError(_l("This call-up has already been sent."))
    people = audience_people(period, audience, by)
    if not people:
        raise CallUpError(
            _l("Nobody matches these filters, so nothing was sent. Widen the audience.")
        )
    callup = CallUp(
        period_id=period.id,
        token=token,
        message=message,
        audience=audience.to_json(),
        locale=locale,
        created_by_id=by.id,
    )
    db.session.add(callup)
    try:
        db.session.flush()
        notes = [(p, notify(p.user_id, KIND, callup_id=callup.id)) for p in people]
        db.session.flush()
        audit.record(
            audit.CALLUP_SEND,
            object_type="callup",
            object_id=callup.id,
            summary=period.name,
            details={"recipients": len(people), "audience": audience.to_json()},
            period_id=period.id,
            actor=by,
        )
        db.session.add_all(
            CallUpRecipient(
                callup_id=callup.id,
                user_id=p.user_id,
                notification_id=note.id,
                had_availability=p.had_availability,
            )
            for p, note in notes
        )
        db.session.commit()
    except IntegrityError as error:  # the same form sent twice at once: one of them wins
        db.session.rollback()
        raise CallUpError(_l("This call-up has already been sent.")) from error
    return callup


def render_callup(notification: Notification) -> tuple[str, str]:
    """Subject and text of a call-up's outbox message: the coordinator's own text (it
    carries the link)."""
    callup_id = (notification.payload or {}).get("callup_id")
    callup = db.session.get(CallUp, callup_id) if isinstance(callup_id, int) else None
    if callup is None:
        return gettext("A message from Muster"), gettext("You have a new message in Muster.")
    return gettext("Call-up: %(period)s", period=callup.period.name), callup.message


# Lists, the public page and the funnel ------------------------------------------------------


def callups_of(period: PlanningPeriod) -> list[tuple[CallUp, int]]:
    """The period's call-ups, newest first, with how many people each was sent to."""
    counts = (
        select(CallUpRecipient.callup_id, func.count().label("n"))
        .group_by(CallUpRecipient.callup_id)
        .subquery()
    )
    rows = db.session.execute(
        select(CallUp, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.callup_id == CallUp.id)
        .where(CallUp.period_id == period.id)
        .order_by(CallUp.sent_at.desc(), CallUp.id.desc())
    )
    return [(callup, int(n)) for callup, n in rows]


def by_token(token: str) -> CallUp | None:
    """The call-up a public link names (None for anything else)."""
    if not TOKEN_PATTERN.fullmatch(token or ""):
        return None
    return db.session.scalar(select(CallUp).where(CallUp.token == token))


@dataclass(frozen=True)
class RoleNeed:
    role: Role
    duty: str  # what the role does ('' when the catalogue has no words for it)
    skill: Skill | None
    training: bool


@dataclass(frozen=True)
class SiteShifts:
    site: Site
    shifts: list[tuple[str, str]]  # (kind, local hours)


@dataclass(frozen=True)
class PublicPage:
    """What /c/<token> shows: the period, its sites and shifts, the roles they need."""

    callup: CallUp
    period: PlanningPeriod
    sites: list[SiteShifts]
    roles: list[RoleNeed]
    focus_role: Role | None = None
    gap: Gap | None = None


def public_page(callup: CallUp) -> PublicPage:
    """The public page's content (four small queries, no writes)."""
    period = callup.period
    sites = list(
        db.session.scalars(
            select(Site)
            .where(Site.id.in_([s.id for s in period.sites]), Site.archived_at.is_(None))
            .options(selectinload(Site.demands))
            .order_by(Site.name)
        )
    )
    role_ids = {d.role_id for s in sites for d in s.demands if d.headcount}
    roles = list(
        db.session.scalars(
            select(Role)
            .where(Role.id.in_(role_ids))
            .options(selectinload(Role.required_skill))
            .order_by(Role.sort_order, Role.id)
        )
    )
    shifts = [
        SiteShifts(
            s, [(k, s.shift_span(period.start_date, k)) for k in s.shift_kinds if s.demand_for(k)]
        )
        for s in sites
    ]
    needs = [
        RoleNeed(r, str(ROLE_DUTIES.get(r.code, "")), r.required_skill, r.requires_training)
        for r in roles
    ]
    gap = Audience.from_json(callup.audience or {}).gap
    focus = db.session.get(Role, gap.role_id) if gap is not None and gap.role_id else None
    return PublicPage(callup, period, shifts, needs, focus, gap)


def has_availability(user: User, period: PlanningPeriod) -> bool:
    volunteer = user.volunteer
    if volunteer is None:
        return False
    return (
        db.session.scalar(
            select(Availability.volunteer_id)
            .where(
                Availability.volunteer_id == volunteer.id,
                Availability.day.between(period.start_date, period.end_date),
            )
            .limit(1)
        )
        is not None
    )


def record_open(callup: CallUp) -> None:
    """A browser opened the public page (the caller counts each browser once). Commits."""
    db.session.add(CallUpEvent(callup_id=callup.id, kind=OPENED))
    db.session.commit()


def record_join(callup: CallUp, user: User, registered: bool) -> bool:
    """`user` registered (or logged in) through the public page: recorded once per account,
    with whether they had availability for the period then. Staff are not counted. Commits;
    returns whether an event was written."""
    if user.is_staff:
        return False
    seen = db.session.scalar(
        select(CallUpEvent.id).where(
            CallUpEvent.callup_id == callup.id,
            CallUpEvent.user_id == user.id,
            CallUpEvent.kind.in_((REGISTERED, LOGGED_IN)),
        )
    )
    if seen is not None:
        return False
    db.session.add(
        CallUpEvent(
            callup_id=callup.id,
            user_id=user.id,
            kind=REGISTERED if registered else LOGGED_IN,
            had_availability=has_availability(user, callup.period),
        )
    )
    db.session.commit()
    return True


@dataclass(frozen=True)
class Funnel:
    """A call-up's funnel, each step counted from recorded rows."""

    sent: int
    delivered: int
    failed: int
    opened: int
    registered: int
    logged_in: int
    availability: int  # people in the funnel who had none for the period and have some now

    @property
    def joined(self) -> int:
        return self.registered + self.logged_in


def _count(stmt: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


def funnel(callup: CallUp) -> Funnel:
    period = callup.period
    recipients = select(CallUpRecipient).where(CallUpRecipient.callup_id == callup.id)
    delivery = dict(
        db.session.execute(
            select(Notification.delivery_status, func.count())
            .join(CallUpRecipient, CallUpRecipient.notification_id == Notification.id)
            .where(CallUpRecipient.callup_id == callup.id)
            .group_by(Notification.delivery_status)
        ).all()
    )
    events = dict(
        db.session.execute(
            select(CallUpEvent.kind, func.count())
            .where(CallUpEvent.callup_id == callup.id)
            .group_by(CallUpEvent.kind)
        ).all()
    )
    # Who had no availability for the period on entering the funnel (sent to, or joined
    # through the page) and has some now.
    newcomers = (
        select(CallUpRecipient.user_id.label("user_id"))
        .where(CallUpRecipient.callup_id == callup.id, CallUpRecipient.had_availability.is_(False))
        .union(
            select(CallUpEvent.user_id.label("user_id")).where(
                CallUpEvent.callup_id == callup.id,
                CallUpEvent.user_id.is_not(None),
                CallUpEvent.had_availability.is_(False),
            )
        )
        .subquery()
    )
    availability = _count(
        select(newcomers.c.user_id)
        .join(Volunteer, Volunteer.user_id == newcomers.c.user_id)
        .where(
            exists().where(
                Availability.volunteer_id == Volunteer.id,
                Availability.day.between(period.start_date, period.end_date),
            )
        )
    )
    return Funnel(
        sent=_count(recipients),
        delivered=int(delivery.get(SENT, 0)),
        failed=int(delivery.get(FAILED, 0)),
        opened=int(events.get(OPENED, 0)),
        registered=int(events.get(REGISTERED, 0)),
        logged_in=int(events.get(LOGGED_IN, 0)),
        availability=availability,
    )


# Describing an audience in words ------------------------------------------------------------


def describe(period: PlanningPeriod, audience: Audience) -> list[str]:
    """The audience as lines a coordinator reads ('District: 崇川区', ...)."""
    lines = []

    def names(model: Any, ids: Iterable[int], attr: str = "name") -> str:
        ids = list(ids)
        rows: Iterable[Any] = (
            db.session.scalars(select(model).where(model.id.in_(ids))) if ids else []
        )
        return "、".join(
            localized_name(r) if attr == "localized" else getattr(r, attr) for r in rows
        )

    if audience.district_ids:
        lines.append(gettext("District: %(names)s", names=names(District, audience.district_ids)))
    if audience.work_unit_ids:
        lines.append(gettext("Work unit: %(names)s", names=names(WorkUnit, audience.work_unit_ids)))
    if audience.skill_ids:
        lines.append(
            gettext("Skill: %(names)s", names=names(Skill, audience.skill_ids, "localized"))
        )
    if audience.trained == TRAINED_YES:
        lines.append(gettext("Training done"))
    elif audience.trained == TRAINED_NO:
        lines.append(gettext("Not trained yet"))
    groups = []
    if audience.no_availability:
        groups.append(gettext("no availability for this period yet"))
    if audience.unclaimed:
        groups.append(gettext("imported, account not claimed yet"))
    if audience.gap is not None:
        gap = audience.gap
        skill = db.session.get(Skill, gap.skill_id) if gap.skill_id else None
        groups.append(
            gettext(
                "%(who)s whose availability does not cover the %(shift)s shift on %(dates)s yet",
                who=gettext("people with %(skill)s", skill=localized_name(skill))
                if skill
                else gettext("people"),
                shift=str(SHIFT_LABELS[gap.shift]),
                dates=_dates(gap.first, gap.last),
            )
        )
    if groups:
        lines.append(gettext("Any of: %(groups)s", groups=gettext("; ").join(groups)))
    if not lines:
        lines.append(gettext("Every active volunteer"))
    return lines
