"""A user's inbox: the notifications addressed to them (the outbox table, read side), newest
first, with what each message refers to resolved for rendering in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update

from scheduler.extensions import db
from scheduler.models import Notification, Role, Site
from scheduler.models.base import utcnow

INBOX_LIMIT = 100


@dataclass
class Inbox:
    """What the inbox page shows: messages, and the sites and roles their payloads name."""

    notifications: list[Notification]
    unread: int
    sites: dict[int, Site] = field(default_factory=dict)
    roles: dict[int, Role] = field(default_factory=dict)


def _ids(payloads: list[dict[str, Any]], key: str) -> set[int]:
    return {p[key] for p in payloads if isinstance(p.get(key), int)}


def inbox(user_id: int) -> Inbox:
    """The user's latest notifications, newest first, and how many are unread."""
    notes = list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user_id)
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
    return Inbox(notes, unread_count(user_id), sites, roles)


def unread_count(user_id: int) -> int:
    """How many of the user's notifications are unread."""
    return (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == user_id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def mark_read(user_id: int, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications (or all of them) read; returns how many changed.
    Another user's id changes nothing. Commits."""
    query = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    changed = db.session.execute(query.values(read_at=utcnow())).rowcount
    db.session.commit()
    return changed
