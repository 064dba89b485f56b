"""Delivering the notification outbox: each pending message is rendered in its recipient's
language and handed to a sender; a failure is recorded and retried later with a growing delay,
so nothing is lost when a sender is down.

The senders (channels) live in services.senders. Run with `flask --app wsgi send-notifications`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from babel.dates import format_skeleton
from flask import Flask, current_app, g
from flask_babel import force_locale, get_locale, gettext
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.i18n import localized_name
from scheduler.labels import SHIFT_LABELS
from scheduler.models import Role, Site
from scheduler.models.base import utcnow
from scheduler.models.notifications import FAILED, PENDING, SENT, Notification, RobotMessage
from scheduler.services import callups, messages, reminders
from scheduler.services.robots import render_site_roster
from scheduler.services.senders import (
    HTTP_TIMEOUT,
    Message,
    PermanentFailure,
    Sender,
    post_to_robot,
    sender_from_config,
)

__all__ = [
    "BACKOFF_MINUTES",
    "MAX_ATTEMPTS",
    "DeliveryReport",
    "deliver_pending",
    "deliver_soon",
    "render_message",
]

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# Minutes to wait after the 1st, 2nd, ... failed attempt.
BACKOFF_MINUTES = (1, 5, 30, 120)
ERROR_MAX = 500
# A pass stops taking new messages after this many seconds (the rest go in the next pass), so
# a gateway that times out on every message never holds a runner for long.
PASS_SECONDS = 120
# One pass at a time in a process: the development loop and a publish's `deliver_soon` thread
# would otherwise both read the same pending rows on SQLite, which has no SKIP LOCKED, and send
# them twice. (Passes in other processes are kept apart by SKIP LOCKED on PostgreSQL.)
_ONE_PASS = threading.Lock()


def _shift_text(payload: Mapping[str, Any], sites: dict[int, Site], roles: dict[int, Role]) -> str:
    day = date.fromisoformat(payload["day"])
    site = sites.get(payload.get("site_id", 0))
    role = roles.get(payload.get("role_id", 0))
    parts = [
        format_skeleton("MMMd", day, locale=str(get_locale())),
        str(SHIFT_LABELS.get(payload.get("shift", ""), payload.get("shift", ""))),
        site.name if site is not None else "",
        localized_name(role) if role is not None else "",
    ]
    return " ".join(p for p in parts if p)


# A publish queues one of these per post a person gains or loses (the inbox lists each); the
# text to their phone is one per person, listing them (an SMS costs money and five texts at
# once read as spam).
ROSTER_CHANGES = ("shift_new", "shift_removed")
DIGEST_LINES = 6


def render_digest(
    changes: list[Notification], sites: dict[int, Site], roles: dict[int, Role]
) -> tuple[str, str]:
    """One text for several roster changes of one person, in the current locale: a line per
    post (+ gained, − lost) up to DIGEST_LINES, then how many more."""
    if len(changes) == 1:
        return render_message(changes[0], sites, roles)
    lines = [
        ("+ " if n.kind == "shift_new" else "− ") + _shift_text(n.payload, sites, roles)
        for n in changes[:DIGEST_LINES]
    ]
    if len(changes) > DIGEST_LINES:
        lines.append(gettext("… and %(num)d more", num=len(changes) - DIGEST_LINES))
    subject = gettext("Your shifts changed (%(num)d)", num=len(changes))
    body = gettext(
        "Your shifts changed:\n%(lines)s\nSee your shifts in Muster.", lines="\n".join(lines)
    )
    return subject, body


def _roster_changes_with(notification: Notification, now: datetime) -> list[Notification]:
    """`notification` and, when it is a roster change, the person's other roster changes due
    now, oldest first: they go out as one text."""
    if notification.kind not in ROSTER_CHANGES or "day" not in (notification.payload or {}):
        return [notification]
    query = (
        select(Notification)
        .where(
            Notification.user_id == notification.user_id,
            Notification.kind.in_(ROSTER_CHANGES),
            Notification.delivery_status == PENDING,
            Notification.next_attempt_at <= now,
            Notification.id != notification.id,
        )
        .order_by(Notification.id)
    )
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    others = [n for n in db.session.scalars(query) if "day" in (n.payload or {})]
    return [notification, *others]


def render_message(
    notification: Notification, sites: dict[int, Site], roles: dict[int, Role]
) -> tuple[str, str]:
    """Subject and body of a notification in the current locale, e.g.
    ("新班次：12月7日 夜班 南通北高速卡口 测温", ...)."""
    if notification.kind == callups.KIND:
        return callups.render_callup(notification)
    payload = notification.payload or {}
    if notification.kind == reminders.REMINDER and "day" in payload:
        return reminders.render(notification, sites, roles)
    if notification.kind == messages.MESSAGE:
        return messages.render(notification)
    if notification.kind in ("shift_new", "shift_removed") and "day" in payload:
        what = _shift_text(payload, sites, roles)
        if notification.kind == "shift_new":
            subject = gettext("New shift: %(shift)s", shift=what)
            body = gettext(
                "You are on the roster: %(shift)s. See your shifts in Muster.", shift=what
            )
        else:
            subject = gettext("Shift removed: %(shift)s", shift=what)
            body = gettext(
                "You are no longer on the roster for %(shift)s. See your shifts in Muster.",
                shift=what,
            )
        return subject, body
    if notification.kind == "volunteer_cancelled" and "day" in payload:
        what = _shift_text(payload, sites, roles)
        name = payload.get("volunteer_name", "")
        return (
            gettext("Urgent, within the cancel cut-off: %(name)s, %(shift)s", name=name, shift=what)
            if payload.get("late")
            else gettext("Cancelled: %(name)s, %(shift)s", name=name, shift=what),
            gettext(
                "%(name)s cancelled %(shift)s. Reason: %(reason)s. The post is open until "
                "it is refilled.",
                name=name,
                shift=what,
                reason=payload.get("reason", ""),
            ),
        )
    if notification.kind == "urgent_request" and "day" in payload:
        site = sites.get(payload.get("site_id", 0))
        what = " ".join(
            p
            for p in (
                site.name if site is not None else "",
                format_skeleton(
                    "MMMd", date.fromisoformat(payload["day"]), locale=str(get_locale())
                ),
                payload.get("span", ""),
            )
            if p
        )
        return (
            gettext("Urgent request: %(what)s", what=what),
            gettext(
                "%(name)s asks for %(n)s more people at %(what)s. Fill it from the period's "
                "urgent requests in Muster.",
                name=payload.get("by", ""),
                n=payload.get("people", ""),
                what=what,
            ),
        )
    if "day" in payload and "shift" in payload:
        # Kinds written elsewhere (e.g. a repair): the shift it is about.
        what = _shift_text(payload, sites, roles)
        return (
            gettext("Shift update: %(shift)s", shift=what),
            gettext("A shift of yours changed: %(shift)s. See Muster for details.", shift=what),
        )
    subject = gettext("A message from Muster")
    return subject, gettext("You have a new message in Muster.")


@dataclass
class DeliveryReport:
    """What one delivery pass did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0  # reminders withdrawn or expired at sending time


def _lookups(
    batch: list[Notification],
    sites: dict[int, Site] | None = None,
    roles: dict[int, Role] | None = None,
) -> tuple[dict[int, Site], dict[int, Role]]:
    """The sites and roles the notifications name, added to those already at hand."""
    sites, roles = dict(sites or {}), dict(roles or {})
    site_ids = {n.payload.get("site_id") for n in batch if n.payload} - {None, *sites}
    role_ids = {n.payload.get("role_id") for n in batch if n.payload} - {None, *roles}
    if site_ids:
        sites |= {s.id: s for s in db.session.scalars(select(Site).where(Site.id.in_(site_ids)))}
    if role_ids:
        roles |= {r.id: r for r in db.session.scalars(select(Role).where(Role.id.in_(role_ids)))}
    return sites, roles


def _record(row: Notification | RobotMessage, error: Exception | None, now: datetime) -> str:
    """Write the outcome of one attempt on an outbox row: sent, retried later (after
    BACKOFF_MINUTES) or failed (permanent, or MAX_ATTEMPTS used). Returns the new state."""
    row.attempts += 1
    if error is None:
        row.delivery_status = SENT
        row.sent_at = utcnow()
        row.last_error = None
        return SENT
    row.last_error = f"{type(error).__name__}: {error}"[:ERROR_MAX]
    if isinstance(error, PermanentFailure) or row.attempts >= MAX_ATTEMPTS:
        row.delivery_status = FAILED
        return FAILED
    wait = BACKOFF_MINUTES[min(row.attempts, len(BACKOFF_MINUTES)) - 1]
    row.next_attempt_at = now + timedelta(minutes=wait)
    return PENDING


def _count(report: DeliveryReport, state: str) -> None:
    if state == SENT:
        report.sent += 1
    elif state == FAILED:
        report.failed += 1
    else:
        report.retried += 1


def _due(model: type[Notification] | type[RobotMessage], now: datetime, batch: int) -> Any:
    query = (
        select(model)
        .where(model.delivery_status == PENDING, model.next_attempt_at <= now)
        .order_by(model.next_attempt_at, model.id)
        .limit(batch)
    )
    if db.engine.dialect.name == "postgresql":
        # Two runners at once never take the same message.
        query = query.with_for_update(skip_locked=True)
    return query


def deliver_pending(
    sender: Sender, now: datetime | None = None, batch: int = 100
) -> DeliveryReport:
    """Send up to `batch` pending notifications that are due (next_attempt_at <= now), oldest
    first, each in its recipient's locale, then up to `batch` due group robot messages.
    Success: sent with sent_at. Failure: attempts + 1, the error kept, retried after
    BACKOFF_MINUTES; marked failed at once on a PermanentFailure, else after MAX_ATTEMPTS.
    Commits after each message, so a crash never loses or double-counts more than the one in
    hand; a failing message never stops the others. Stops taking new messages after
    PASS_SECONDS (the next pass goes on)."""
    with _ONE_PASS:
        return _deliver_pending(sender, now, batch)


def _deliver_pending(sender: Sender, now: datetime | None, batch: int) -> DeliveryReport:
    now = now or utcnow()
    started = time.monotonic()
    pending = list(db.session.scalars(_due(Notification, now, batch)))
    sites, roles = _lookups(pending)
    default = current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_Hans")
    languages = current_app.config.get("LANGUAGES", ())
    # flask_babel.force_locale does nothing while `g` is empty (outside a request).
    g.muster_delivery = True
    report = DeliveryReport()
    handled: set[int] = set()
    for notification in pending:
        if time.monotonic() - started > PASS_SECONDS:
            break
        if notification.id in handled:
            continue  # went (or failed) with an earlier roster change of the same person
        if _skipped(notification, now, report):
            continue
        user = notification.user
        locale: str = user.locale if user.locale and user.locale in languages else default
        together = _roster_changes_with(notification, now)
        handled.update(n.id for n in together)
        if len(together) > 1:
            sites, roles = _lookups(together, sites, roles)
        error: Exception | None = None
        try:
            with force_locale(locale):
                subject, body = render_digest(together, sites, roles)
            sender.send(
                Message(
                    to=user.phone,
                    text=body,
                    kind=notification.kind,
                    locale=locale,
                    message_id=f"n{notification.id}",
                    subject=subject,
                )
            )
        except Exception as failure:  # any sender failure is retried later, unless permanent
            error = failure
            log.warning("notification %s not delivered: %s", notification.id, failure)
        for row in together:
            _count(report, _record(row, error, now))
        db.session.commit()
    _deliver_robot_messages(report, now, batch, started, default)
    return report


def _deliver_robot_messages(
    report: DeliveryReport, now: datetime, batch: int, started: float, locale: str
) -> None:
    """The group robot part of a delivery pass: each due message rendered in the deployment's
    language and posted to its site's robot as configured now (a fixed URL works on retry)."""
    timeout = float(current_app.config.get("NOTIFY_HTTP_TIMEOUT") or HTTP_TIMEOUT)
    for message in list(db.session.scalars(_due(RobotMessage, now, batch))):
        if time.monotonic() - started > PASS_SECONDS:
            break
        site = message.site
        error: Exception | None = None
        try:
            if not site.robot_url or not site.robot_kind:
                raise PermanentFailure("the site has no group robot any more")
            with force_locale(locale):
                title, markdown = render_site_roster(message)
            post_to_robot(
                site.robot_kind, site.robot_url, title, markdown, site.robot_secret, timeout
            )
        except Exception as failure:  # any robot failure is retried later, unless permanent
            error = failure
            log.warning("robot message %s not delivered: %s", message.id, failure)
        _count(report, _record(message, error, now))
        db.session.commit()


def _skipped(notification: Notification, now: datetime, report: DeliveryReport) -> bool:
    """A due message that must not go out (services.reminders.unsendable: a reminder after
    its shift started, or for a post that is gone) is marked so, not failed, and committed."""
    status = reminders.unsendable(notification, now)
    if status is None:
        return False
    notification.delivery_status = status
    report.skipped += 1
    db.session.commit()
    return True


def deliver_soon(app: Flask) -> None:
    """After a publish, a call-up or an ad-hoc message: one delivery pass in a short-lived
    background thread, so people hear at once rather than at the next pass (which still
    retries what fails). Off unless NOTIFY_AFTER_PUBLISH; inline with JOBS_SYNCHRONOUS
    (tests)."""
    if not app.config.get("NOTIFY_AFTER_PUBLISH"):
        return

    def work() -> None:
        with app.app_context():
            try:
                deliver_pending(sender_from_config(app.config))
            except Exception:
                log.exception("delivery after publish failed; send-notifications will retry")
            finally:
                db.session.remove()

    if app.config.get("JOBS_SYNCHRONOUS"):
        work()
    else:
        threading.Thread(target=work, name="muster-notify", daemon=True).start()
