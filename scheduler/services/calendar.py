"""A volunteer's published shifts as an iCalendar file: downloaded once from /me, or fetched
again and again by their phone's calendar through a secret feed URL.

The file is built afresh on every request from `duty.on_duty` (the latest published version
of every period, without the shifts the volunteer cancelled), so a subscribed calendar follows
republished rosters: each post keeps one UID (volunteer, site, day, shift), so a changed role
updates the event and a cancelled or removed shift disappears.

The feed's secret is `Volunteer.calendar_token` (256 random bits, URL-safe); None means the
feed is off. Turning it off or getting a new one makes the old URL answer 404 at once.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date, datetime, timedelta

from flask_babel import gettext
from icalendar import Alarm, Calendar, Event, vDuration
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.i18n import localized_name
from scheduler.models import Assignment, User, Volunteer
from scheduler.models.base import utcnow
from scheduler.services.duty import leads_of, on_duty
from scheduler.services.phones import national
from scheduler.services.reminders import due_times

__all__ = [
    "CALENDAR_MEDIA_TYPE",
    "FEED_DAYS_BACK",
    "TOKEN_BYTES",
    "calendar_ics",
    "enable_feed",
    "event_uid",
    "feed_shifts",
    "revoke_feed",
    "rotate_feed",
    "volunteer_for_feed",
]

CALENDAR_MEDIA_TYPE = "text/calendar; charset=utf-8"
TOKEN_BYTES = 32  # 256 bits: guessing is hopeless, so the feed needs no rate limit
MAX_TOKEN_LENGTH = 64  # the column's size; longer text is never a token
FEED_DAYS_BACK = 30  # recent shifts stay in the calendar for a month, then drop out
REFRESH = timedelta(hours=1)  # how often calendar apps are asked to fetch the feed again
PRODID = "-//Muster//Volunteer shifts//ZH"
UID_DOMAIN = "muster"


def _new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def enable_feed(volunteer: Volunteer) -> str:
    """Turn the volunteer's feed on (keeping the current URL if it is already on); commits.
    Returns the token."""
    if volunteer.calendar_token is None:
        volunteer.calendar_token = _new_token()
        db.session.commit()
    return volunteer.calendar_token


def rotate_feed(volunteer: Volunteer) -> str:
    """A new feed URL; the old one stops working at once. Commits; returns the new token."""
    volunteer.calendar_token = _new_token()
    db.session.commit()
    return volunteer.calendar_token


def revoke_feed(volunteer: Volunteer) -> None:
    """Turn the feed off: its URL answers 404 from now on. Commits."""
    volunteer.calendar_token = None
    db.session.commit()


def volunteer_for_feed(token: str) -> Volunteer | None:
    """The volunteer whose feed this is, if the token is current and their account active."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return db.session.scalar(
        select(Volunteer)
        .join(User, User.id == Volunteer.user_id)
        .where(Volunteer.calendar_token == token, User.active.is_(True))
    )


def feed_shifts(volunteer: Volunteer, now: datetime | None = None) -> list[Assignment]:
    """The volunteer's published, not cancelled shifts from FEED_DAYS_BACK days ago on."""
    first = (now or utcnow()).date() - timedelta(days=FEED_DAYS_BACK)
    return on_duty(first, date.max, volunteer_id=volunteer.id)


def event_uid(a: Assignment) -> str:
    """One UID per post, the same in every published version: republishing updates the event
    instead of adding a second one."""
    return f"shift-{a.volunteer_id}-{a.site_id}-{a.day:%Y%m%d}-{a.shift}@{UID_DOMAIN}"


def calendar_ics(
    volunteer: Volunteer,
    now: datetime | None = None,
    shift_url: Callable[[Assignment], str] | None = None,
) -> bytes:
    """The volunteer's shifts (see `feed_shifts`) as an iCalendar file in the current language:
    one event per shift in the site's time zone (with its VTIMEZONE), titled role · site, at
    the site's address, describing the role, the site and who leads it (name and full phone:
    a volunteer's lead is meant to be called), with an alarm at each of the period's reminder
    times (services.reminders.due_times). `shift_url` gives each event a link back to
    the shift's page."""
    mine = feed_shifts(volunteer, now)
    leads = leads_of((a.site_id, a.day, a.shift) for a in mine)
    title, app_name = gettext("My shifts"), gettext("Muster")
    cal = Calendar.new(
        prodid=PRODID,
        name=f"{title} · {app_name}",
        method="PUBLISH",
        refresh_interval=REFRESH,
        uid=f"calendar-{volunteer.id}@{UID_DOMAIN}",
    )
    # RFC 7986 wants the value type spelled out; X-PUBLISHED-TTL is what Outlook reads.
    cal["REFRESH-INTERVAL"].params["VALUE"] = "DURATION"
    cal.add("X-PUBLISHED-TTL", vDuration(REFRESH))
    first: date | None = None
    last: date | None = None
    for a in mine:
        start, end = a.site.shift_window(a.day, a.shift)
        first = min(first or start.date(), start.date())
        last = max(last or end.date(), end.date())
        role = localized_name(a.role)
        lines = [
            gettext("Role: %(role)s", role=role),
            gettext("Site: %(site)s", site=a.site.name),
        ]
        if a.site.address:
            lines.append(gettext("Address: %(address)s", address=a.site.address))
        if a.role.is_lead:
            lines.append(gettext("You lead this shift."))
        for lead in leads.get((a.site_id, a.day, a.shift), []):
            if lead.volunteer_id != a.volunteer_id:
                user = lead.volunteer.user
                lines.append(
                    gettext(
                        "Site lead: %(name)s, %(phone)s", name=user.name, phone=national(user.phone)
                    )
                )
        lines.append(gettext("Period: %(name)s", name=a.roster.period.name))
        url = shift_url(a) if shift_url is not None else None
        if url:
            lines.append(gettext("Confirm or cancel: %(url)s", url=url))
        assert a.roster.published_at is not None
        event = Event.new(
            uid=event_uid(a),
            stamp=a.roster.published_at,
            start=start,
            end=end,
            summary=f"{role} · {a.site.name}",
            location=a.site.address or a.site.name,
            description="\n".join(lines),
            sequence=max((a.roster.version or 1) - 1, 0),
            url=url,
        )
        for due in due_times(a.roster.period, a.site, a.day, a.shift):
            # The same times as the reminders the outbox sends, relative to the start.
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", gettext("Reminder: %(shift)s", shift=event["summary"]))
            alarm.add("trigger", due - start)
            event.add_component(alarm)
        cal.add_component(event)
    if first is not None and last is not None:
        # Only the part of each zone's rules the events need: a small VTIMEZONE.
        cal.add_missing_timezones(
            first_date=first - timedelta(days=1), last_date=last + timedelta(days=1)
        )
    return cal.to_ical()
