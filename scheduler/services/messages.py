"""Ad-hoc messages ("the 小海 checkpoint moves to the east lane tonight") to the people on the
published roster, through the notification outbox (kind "message").

Who can reach whom is decided here, once: a coordinator or admin reaches a shift (site, day,
shift), a site over a date range, or a segment of a period's latest published version
(everyone, or its site leads) of a site or period in their scope (services.scope), and only
the people of their scope on it; the lead of a shift reaches only the people of that shift;
any other account reaches nobody (`NotAllowed`). The recipients are read from
`duty.on_duty` (published, not cancelled), active accounts only, the sender left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext

from scheduler.extensions import db
from scheduler.i18n import lazy_gettext as _l
from scheduler.models import SHIFT_KINDS, Assignment, PlanningPeriod, Site, User
from scheduler.models.notifications import Notification
from scheduler.models.planning import MAX_PERIOD_DAYS
from scheduler.services import audit, scope
from scheduler.services.duty import on_duty
from scheduler.services.errors import ServiceError
from scheduler.services.lookups import latest_published
from scheduler.services.notifications import notify

__all__ = [
    "AUDIENCES",
    "MAX_MESSAGE_LENGTH",
    "MESSAGE",
    "Audience",
    "MessageError",
    "NotAllowed",
    "clean_text",
    "may_message",
    "recipients",
    "render",
    "send",
    "signed",
]

MESSAGE = "message"
MAX_MESSAGE_LENGTH = 500
SHIFT, SITE, PERIOD, PERIOD_LEADS = "shift", "site", "period", "leads"
AUDIENCES = (SHIFT, SITE, PERIOD, PERIOD_LEADS)

# SMS lengths: 160 characters in one GSM-7 message (153 per part of a longer one); 70 when any
# character needs UCS-2, as every Chinese one does (67 per part).


class MessageError(ServiceError):
    """Why a message cannot be sent (nothing was written); `field` names the form field."""


class NotAllowed(Exception):
    """The sender may not message this audience (the view answers 404)."""


@dataclass(frozen=True)
class Audience:
    """Who a message is for: a shift (site, day, shift), a site from `first_day` to
    `last_day`, or a period's published roster (`kind` PERIOD) or its leads (PERIOD_LEADS)."""

    kind: str
    site: Site | None = None
    day: date | None = None
    shift: str | None = None
    first_day: date | None = None
    last_day: date | None = None
    period: PlanningPeriod | None = None


def _leads(user: User, site: Site, day: date, kind: str) -> bool:
    volunteer = user.volunteer
    if volunteer is None:
        return False
    return any(
        a.role.is_lead and a.shift == kind
        for a in on_duty(day, site_ids=[site.id], volunteer_id=volunteer.id)
    )


def may_message(user: User, audience: Audience) -> bool:
    """Staff reach the audiences of their scope; the lead of a shift only that shift; nobody
    else any."""
    if user.is_staff:
        return scope.all_in_scope((o for o in (audience.site, audience.period) if o), user)
    if audience.kind != SHIFT or audience.site is None or audience.day is None:
        return False
    return audience.shift in SHIFT_KINDS and _leads(
        user, audience.site, audience.day, audience.shift or ""
    )


def _rows(audience: Audience) -> list[Assignment]:
    if audience.kind == SHIFT:
        if audience.site is None or audience.day is None or audience.shift not in SHIFT_KINDS:
            raise MessageError(_l("Choose a site, a day and a shift."), "site_id")
        rows = on_duty(audience.day, site_ids=[audience.site.id])
        return [a for a in rows if a.shift == audience.shift]
    if audience.kind == SITE:
        first, last = audience.first_day, audience.last_day
        if audience.site is None or first is None or last is None:
            raise MessageError(_l("Choose a site and the days."), "site_id")
        if last < first:
            raise MessageError(_l("The last day cannot be before the first day."), "last_day")
        if (last - first).days >= MAX_PERIOD_DAYS:
            raise MessageError(
                _l("At most %(num)d days at a time.", num=MAX_PERIOD_DAYS), "last_day"
            )
        return on_duty(first, last, site_ids=[audience.site.id])
    if audience.kind in (PERIOD, PERIOD_LEADS):
        if audience.period is None:
            raise MessageError(_l("Choose a period."), "period_id")
        latest = latest_published(audience.period.id)
        if latest is None:
            raise MessageError(_l("Nothing is published yet for this period."), "period_id")
        rows = on_duty(date.min, date.max, roster=latest)
        if audience.kind == PERIOD_LEADS:
            rows = [a for a in rows if a.role.is_lead]
        return rows
    raise MessageError(_l("Choose who gets the message."), "audience")


def recipients(sender: User, audience: Audience) -> list[User]:
    """The people the message would reach: active accounts on the audience's published posts,
    each once, the sender left out, by pinyin. Raises NotAllowed beyond the sender's reach and
    MessageError for an incomplete audience."""
    if not may_message(sender, audience):
        raise NotAllowed
    visible = scope.node_filter(sender if sender.is_staff else None)
    people: dict[int, User] = {}
    for a in _rows(audience):
        user = a.volunteer.user
        if user.active and user.id != sender.id and visible(a.volunteer.organisation_id):
            people[user.id] = user
    return sorted(people.values(), key=lambda u: (u.name_pinyin or u.name, u.id))


def clean_text(text: str) -> str:
    """The message as sent: surrounding blanks dropped, line breaks kept. Raises MessageError
    for no text or too much."""
    cleaned = "\n".join(line.rstrip() for line in (text or "").strip().splitlines())
    if not cleaned:
        raise MessageError(_l("Write the message first."), "text")
    if len(cleaned) > MAX_MESSAGE_LENGTH:
        raise MessageError(_l("At most %(num)d characters.", num=MAX_MESSAGE_LENGTH), "text")
    return cleaned


def send(sender: User, audience: Audience, text: str) -> list[Notification]:
    """Queue the message for everyone `recipients` finds, in one commit; raises MessageError
    (nothing written) for bad text or nobody to send to, NotAllowed beyond the sender's
    reach."""
    cleaned = clean_text(text)
    people = recipients(sender, audience)
    if not people:
        raise MessageError(_l("Nobody is on the published roster there: nothing was sent."))
    notes = [notify(u.id, MESSAGE, text=cleaned, sender=sender.name) for u in people]
    audit.record(
        audit.MESSAGE_SEND,
        object_type=MESSAGE,
        object_id=None,
        summary=cleaned[:60],
        details={
            "audience": audience.kind,
            "recipients": len(people),
            "day": audience.day,
            "shift": audience.shift,
            "first_day": audience.first_day,
            "last_day": audience.last_day,
        },
        period_id=audience.period.id if audience.period is not None else None,
        site_id=audience.site.id if audience.site is not None else None,
        actor=sender,
    )
    db.session.commit()
    return notes


def signed(text: str, sender_name: str) -> str:
    """The text as each person receives it, in the current locale: signed by its sender (what
    the preview counts SMS parts of)."""
    return gettext("%(text)s — %(name)s", text=text, name=sender_name)


def render(note: Notification) -> tuple[str, str]:
    """Subject and body of a message in the current locale: the text, signed by its sender."""
    payload = note.payload or {}
    name = str(payload.get("sender", ""))
    return (
        gettext("Message from %(name)s", name=name),
        signed(str(payload.get("text", "")), name),
    )
