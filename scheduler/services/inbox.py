"""A user's inbox: the notifications addressed to them (the outbox table, read side), newest
first, with what each message refers to resolved for rendering in the reader's language.
Reminders before a shift (services.reminders) are sent, not kept here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ScalarSelect, bindparam, func, select, update

from scheduler.extensions import db, rowcount
from scheduler.models import Notification, Role, ShiftResponse, Site, User
from scheduler.models.base import utcnow
from scheduler.models.responses import CANCELLED_BY_VOLUNTEER
from scheduler.parsing import iso_day
from scheduler.services.duty import ShiftKey, on_duty
from scheduler.services.reminders import REMINDER

INBOX_LIMIT = 100
# Messages that tell the reader about a shift they have: their shift may since have been
# cancelled by them or taken off the roster, which the inbox marks on the message.
SHIFT_NEWS = ("shift_new", "shift_changed")
CANCELLED, REMOVED = "cancelled", "removed"


@dataclass
class Inbox:
    """What the inbox page shows: messages, and the sites and roles their payloads name."""

    notifications: list[Notification]
    unread: int
    sites: dict[int, Site] = field(default_factory=dict)
    roles: dict[int, Role] = field(default_factory=dict)
    # notification id -> CANCELLED (the reader cancelled that shift since) or REMOVED (it is
    # no longer theirs in the published roster); absent while the shift stands.
    since: dict[int, str] = field(default_factory=dict)


def _shift_key(payload: dict[str, Any]) -> ShiftKey | None:
    day = iso_day(payload.get("day")) if isinstance(payload.get("day"), str) else None
    site_id, kind = payload.get("site_id"), payload.get("shift")
    if day is None or not isinstance(site_id, int) or not isinstance(kind, str):
        return None
    return (site_id, day, kind)


def _since(user_id: int, notes: list[Notification]) -> dict[int, str]:
    """What became of the shifts that messages announced (see Inbox.since): two queries
    whatever the number of messages."""
    keyed = {n.id: k for n in notes if n.kind in SHIFT_NEWS and (k := _shift_key(n.payload or {}))}
    user = db.session.get(User, user_id)
    if not keyed or user is None or user.volunteer is None:
        return {}
    volunteer_id = user.volunteer.id
    days: list[date] = [k[1] for k in keyed.values()]
    cancelled = {
        (r.site_id, r.day, r.shift)
        for r in db.session.scalars(
            select(ShiftResponse).where(
                ShiftResponse.volunteer_id == volunteer_id,
                ShiftResponse.status == CANCELLED_BY_VOLUNTEER,
                ShiftResponse.day.between(min(days), max(days)),
            )
        )
    }
    held = {
        (a.site_id, a.day, a.shift)
        for a in on_duty(min(days), max(days), volunteer_id=volunteer_id, include_cancelled=True)
    }
    since = {}
    for note_id, key in keyed.items():
        if key in cancelled:
            since[note_id] = CANCELLED
        elif key not in held:
            since[note_id] = REMOVED
    return since


def _ids(payloads: list[dict[str, Any]], key: str) -> set[int]:
    return {p[key] for p in payloads if isinstance(p.get(key), int)}


def inbox(user_id: int) -> Inbox:
    """The user's latest notifications, newest first, and how many are unread."""
    notes = list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user_id, Notification.kind != REMINDER)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(INBOX_LIMIT)
        )
    )
    payloads = [n.payload or {} for n in notes]
    site_ids, role_ids = _ids(payloads, "site_id"), _ids(payloads, "role_id")
    sites = (
        {s.id: s for s in db.session.scalars(select(Site).where(Site.id.in_(site_ids)))}
        if site_ids
        else {}
    )
    roles = (
        {r.id: r for r in db.session.scalars(select(Role).where(Role.id.in_(role_ids)))}
        if role_ids
        else {}
    )
    return Inbox(notes, unread_count(user_id), sites, roles, _since(user_id, notes))


def unread_of(user_id: Any) -> ScalarSelect[int]:
    """`unread_count` as a scalar subquery of a user id column or parameter, for a statement
    that reads it along with other things (/me's profile)."""
    return (
        select(func.count(Notification.id))
        .where(
            Notification.user_id == user_id,
            Notification.read_at.is_(None),
            Notification.kind != REMINDER,
        )
        .scalar_subquery()
    )


# Built once.
_UNREAD = select(unread_of(bindparam("user")))


def unread_count(user_id: int) -> int:
    """How many of the user's notifications are unread."""
    return db.session.scalar(_UNREAD, {"user": user_id}) or 0


def mark_read(user_id: int, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications (or all of them) read; returns how many changed.
    Another user's id changes nothing. Commits."""
    query = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    changed = rowcount(query.values(read_at=utcnow()))
    db.session.commit()
    return changed
