"""Reminders before every published shift, kept in the notification outbox.

Each post of the latest published version of a period gets a reminder row per due time of the
period (by default the evening before at 18:00 in the site's time zone, and 2 hours before
the start): kind "reminder", `next_attempt_at` the due time, `assignment_id` the post. The rows
are written in the transaction that publishes the version (`sync_reminders`), and kept true in
the transactions that change who is expected on a post: a new version moves or withdraws them
(`sync_reminders` again), a cancellation withdraws the post's (`withdraw_post`), a deactivated
account loses them (`withdraw_user`). A due time already past when the post is published gets
no reminder.

`unsendable` is the one rule the delivery loop asks before sending a reminder: never after its
shift has started (the sender may have been down until then), never for a post that is gone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from babel.dates import format_skeleton
from flask_babel import get_locale, gettext
from sqlalchemy import select, update

from scheduler.extensions import db
from scheduler.i18n import localized_name
from scheduler.labels import SHIFT_LABELS
from scheduler.models import Assignment, PlanningPeriod, Role, Roster, Site, User, Volunteer
from scheduler.models.base import utcnow
from scheduler.models.notifications import EXPIRED, PENDING, WITHDRAWN, Notification
from scheduler.services.duty import on_duty
from scheduler.services.lookups import latest_published

__all__ = [
    "REMINDER",
    "due_times",
    "parse_clock",
    "render",
    "sync_reminders",
    "unsendable",
    "withdraw_post",
    "withdraw_user",
]

REMINDER = "reminder"
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")

# (user id, site id, day, shift kind, due time UTC): one reminder.
_Key = tuple[int, int, date, str, datetime]


def parse_clock(text: str) -> time | None:
    """'18:00' or '7:30' -> a time; anything else -> None."""
    found = _CLOCK.match((text or "").strip())
    return time(int(found.group(1)), int(found.group(2))) if found else None


def due_times(period: PlanningPeriod, site: Site, day: date, kind: str) -> list[datetime]:
    """When the period's reminders for a `kind` shift at `site` on `day` are due (UTC, in
    order): the evening before the start's local date at `reminder_evening_at`, and
    `reminder_hours_before` hours before the start."""
    start, _end = site.shift_window(day, kind)
    times: set[datetime] = set()
    clock = parse_clock(period.reminder_evening_at or "")
    if clock is not None:
        evening = datetime.combine(start.date() - timedelta(days=1), clock, tzinfo=start.tzinfo)
        times.add(evening.astimezone(UTC))
    if period.reminder_hours_before:
        times.add((start - timedelta(hours=period.reminder_hours_before)).astimezone(UTC))
    return sorted(t for t in times if t < start)


@dataclass
class _Wanted:
    assignment: Assignment
    due: datetime
    start: datetime


def _wanted(rows: list[Assignment]) -> dict[_Key, _Wanted]:
    wanted: dict[_Key, _Wanted] = {}
    for a in rows:
        user = a.volunteer.user
        if not user.active:
            continue
        start = a.site.shift_window(a.day, a.shift)[0].astimezone(UTC)
        for due in due_times(a.roster.period, a.site, a.day, a.shift):
            wanted[(user.id, a.site_id, a.day, a.shift, due)] = _Wanted(a, due, start)
    return wanted


def _key(note: Notification) -> _Key | None:
    payload = note.payload or {}
    try:
        return (
            note.user_id,
            int(payload["site_id"]),
            date.fromisoformat(payload["day"]),
            str(payload["shift"]),
            datetime.fromisoformat(payload["due"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def sync_reminders(
    period: PlanningPeriod | None = None,
    *,
    volunteer_id: int | None = None,
    now: datetime | None = None,
) -> None:
    """Make the pending reminders of a period's latest published version (or of one
    volunteer's published posts in every period) what its posts, the period's reminder times
    and the sites' shift times call for: a pending reminder still wanted is kept (and linked to
    the newest version's post), one no longer wanted is withdrawn, and a missing one is added
    unless its due time has passed (or its shift started). Call it in the transaction that
    changes them; no commit."""
    now = now or utcnow()
    if period is not None:
        latest = latest_published(period.id)
        rows = on_duty(date.min, date.max, roster=latest) if latest is not None else []
    else:
        rows = on_duty(date.min, date.max, volunteer_id=volunteer_id)
    if volunteer_id is not None:
        rows = [a for a in rows if a.volunteer_id == volunteer_id]
    wanted = _wanted(rows)
    query = select(Notification).where(
        Notification.kind == REMINDER, Notification.delivery_status == PENDING
    )
    if period is not None:
        query = query.join(Assignment, Assignment.id == Notification.assignment_id).where(
            Assignment.roster_id.in_(select(Roster.id).where(Roster.period_id == period.id))
        )
    if volunteer_id is not None:
        query = query.where(
            Notification.user_id
            == select(Volunteer.user_id).where(Volunteer.id == volunteer_id).scalar_subquery()
        )
    for note in db.session.scalars(query):
        key = _key(note)
        found = wanted.pop(key, None) if key is not None else None
        if found is None:
            note.delivery_status = WITHDRAWN
            continue
        note.assignment_id = found.assignment.id
        if (note.payload or {}).get("role_id") != found.assignment.role_id:
            note.payload = {**(note.payload or {}), "role_id": found.assignment.role_id}
    for (user_id, _site, _day, _kind, due), w in sorted(wanted.items(), key=lambda kv: kv[0][4]):
        if due <= now or w.start <= now:
            continue
        a = w.assignment
        db.session.add(
            Notification(
                user_id=user_id,
                kind=REMINDER,
                assignment_id=a.id,
                next_attempt_at=due,
                payload={
                    "site_id": a.site_id,
                    "day": a.day.isoformat(),
                    "shift": a.shift,
                    "role_id": a.role_id,
                    "starts": w.start.isoformat(),
                    # next_attempt_at moves on with retries: the due time stays here.
                    "due": due.isoformat(),
                },
            )
        )
    db.session.flush()


def withdraw_post(volunteer_id: int, site_id: int, day: date, kind: str) -> int:
    """Withdraw the pending reminders of the volunteer's post (a cancelled shift); returns how
    many. No commit."""
    posts = select(Assignment.id).where(
        Assignment.volunteer_id == volunteer_id,
        Assignment.site_id == site_id,
        Assignment.day == day,
        Assignment.shift == kind,
    )
    return _withdraw(Notification.assignment_id.in_(posts))


def withdraw_user(user: User) -> int:
    """Withdraw every pending reminder of the user (a deactivated account). No commit."""
    return _withdraw(Notification.user_id == user.id)


def _withdraw(condition: Any) -> int:
    result = db.session.execute(
        update(Notification)
        .where(
            condition,
            Notification.kind == REMINDER,
            Notification.delivery_status == PENDING,
        )
        .values(delivery_status=WITHDRAWN)
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def unsendable(note: Notification, now: datetime) -> str | None:
    """Why a due notification must not go out now: EXPIRED for a reminder whose shift has
    started, WITHDRAWN for one whose post is gone; None for anything else (send it)."""
    if note.kind != REMINDER:
        return None
    starts = (note.payload or {}).get("starts")
    try:
        start = datetime.fromisoformat(starts) if isinstance(starts, str) else None
    except ValueError:
        start = None
    if start is None or note.assignment_id is None:
        return WITHDRAWN
    if start <= now:
        return EXPIRED
    return None


def render(
    note: Notification, sites: Mapping[int, Site], roles: Mapping[int, Role]
) -> tuple[str, str]:
    """Subject and body of a reminder in the current locale: when, where (site and address)
    and which role, e.g. "提醒：12月7日 08:00–16:00 白班 · 南通北高速卡口"."""
    payload = note.payload or {}
    site = sites.get(payload.get("site_id", 0))
    role = roles.get(payload.get("role_id", 0))
    day = date.fromisoformat(payload["day"])
    kind = payload.get("shift", "")
    span = site.shift_span(day, kind) if site is not None else ""
    when = " ".join(
        p
        for p in (
            format_skeleton("MMMd", day, locale=str(get_locale())),
            span,
            str(SHIFT_LABELS.get(kind, kind)),
        )
        if p
    )
    where = site.name if site is not None else ""
    subject = gettext("Reminder: %(when)s · %(site)s", when=when, site=where)
    body = gettext(
        "Reminder of your shift: %(when)s at %(site)s, %(address)s. Role: %(role)s. "
        "If you cannot come, tell your site lead or coordinator now.",
        when=when,
        site=where,
        address=(site.address or "") if site is not None else "",
        role=localized_name(role) if role is not None else "",
    )
    return subject, body
