"""The coordinator's view of the outbox: how many messages went out, wait or failed (to people
and to group chat robots), the failed ones with the reason, and giving them another go after
the cause is fixed (a phone number, a template, a robot address). A coordinator sees and
retries only messages to the people and sites' group chats of their scope (services.scope)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, case, func, select

from scheduler.extensions import db
from scheduler.i18n import lazy_gettext as _l
from scheduler.models import Site, User, Volunteer
from scheduler.models.base import utcnow
from scheduler.models.notifications import FAILED, PENDING, SENT, Notification, RobotMessage
from scheduler.services import audit, scope
from scheduler.services.callups import KIND as CALLUP
from scheduler.services.messages import MESSAGE
from scheduler.services.phones import mask
from scheduler.services.reminders import REMINDER
from scheduler.services.senders import LogSender, sender_from_config

S = TypeVar("S", bound=Select)  # any Select, whatever its columns

__all__ = [
    "KIND_LABELS",
    "Counts",
    "FailedMessage",
    "channel_name",
    "counts",
    "failed",
    "retry",
]

# What each kind of message is, as a coordinator reads it (unknown kinds show their code).
KIND_LABELS: dict[str, Any] = {
    "shift_new": _l("New shift"),
    "shift_removed": _l("Shift removed"),
    "volunteer_cancelled": _l("Cancellation"),
    "urgent_request": _l("Urgent request"),
    "roster_published": _l("Shift list to the group chat"),
    REMINDER: _l("Shift reminder"),
    CALLUP: _l("Call-up"),
    MESSAGE: _l("Message from staff"),
}
MAX_LISTED = 100
# How services.delivery prefixes the channels' own refusals: shown without it.
_PREFIXES = ("PermanentFailure: ", "RetryLater: ")


def _reason(error: str | None) -> str:
    text = error or ""
    for prefix in _PREFIXES:
        text = text.removeprefix(prefix)
    return text


@dataclass
class Counts:
    """Messages by state; `retrying` are pending ones that failed at least once."""

    sent: int = 0
    pending: int = 0
    retrying: int = 0
    failed: int = 0


@dataclass
class FailedMessage:
    """One message that will not be sent unless retried: to a person (`robot` False, `to`
    their masked phone) or a site's group chat (`robot` True, `to` the site)."""

    id: int
    robot: bool
    kind: str
    to: str
    name: str
    created_at: datetime
    attempts: int
    error: str
    volunteer_id: int | None = None  # the person's page, where the full number is corrected

    @property
    def label(self) -> Any:
        """The kind as people read it."""
        return KIND_LABELS.get(self.kind, self.kind)


def _in_scope(stmt: S, model: type[Notification] | type[RobotMessage], user: Any) -> S:
    """`stmt` over `model` limited to messages to `user`'s scope: to its people (volunteers
    and appointed accounts), or to its sites' group chats. `user` None: no limit."""
    if model is Notification:
        people = scope.user_ids_in_scope(user)
        return stmt if people is None else stmt.where(Notification.user_id.in_(people))
    if user is None or scope.sees_everything(user):
        return stmt
    sites = scope.restrict(select(Site.id), Site.organisation_id, user)
    return stmt.where(RobotMessage.site_id.in_(sites))


def _counts(model: type[Notification] | type[RobotMessage], user: Any) -> Counts:
    retrying = case((model.attempts > 0, 1), else_=0)
    result = Counts()
    stmt = select(model.delivery_status, func.count(), func.sum(retrying))
    for status, total, retried in db.session.execute(
        _in_scope(stmt, model, user).group_by(model.delivery_status)
    ):
        if status == SENT:
            result.sent = total
        elif status == PENDING:
            result.pending, result.retrying = total, int(retried or 0)
        elif status == FAILED:
            result.failed = total
    return result


def counts(user: Any = None) -> dict[str, Counts]:
    """{"people": ..., "robots": ...}: messages to people and to group chats, by state."""
    return {"people": _counts(Notification, user), "robots": _counts(RobotMessage, user)}


def failed(user: Any = None, limit: int = MAX_LISTED) -> list[FailedMessage]:
    """The latest failed messages (at most `limit` of each sort), newest first."""
    people = [
        FailedMessage(
            n.id,
            False,
            n.kind,
            mask(phone),
            name,
            n.created_at,
            n.attempts,
            _reason(err),
            volunteer_id,
        )
        for n, phone, name, err, volunteer_id in db.session.execute(
            _in_scope(
                select(Notification, User.phone, User.name, Notification.last_error, Volunteer.id)
                .join(User, User.id == Notification.user_id)
                .outerjoin(Volunteer, Volunteer.user_id == User.id)
                .where(Notification.delivery_status == FAILED),
                Notification,
                user,
            )
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    ]
    robots = [
        FailedMessage(m.id, True, m.kind, name, name, m.created_at, m.attempts, _reason(err))
        for m, name, err in db.session.execute(
            _in_scope(
                select(RobotMessage, Site.name, RobotMessage.last_error)
                .join(Site, Site.id == RobotMessage.site_id)
                .where(RobotMessage.delivery_status == FAILED),
                RobotMessage,
                user,
            )
            .order_by(RobotMessage.created_at.desc(), RobotMessage.id.desc())
            .limit(limit)
        )
    ]
    rows = [*people, *robots]
    rows.sort(key=lambda r: (r.created_at, r.id), reverse=True)
    return rows


def retry(
    notification_ids: Iterable[int] = (),
    robot_ids: Iterable[int] = (),
    everything: bool = False,
    user: Any = None,
) -> int:
    """Give failed messages another go now: pending again with a fresh count of attempts
    (the last error stays until the next attempt). Only failed ones in `user`'s scope change
    (an id from elsewhere is left alone, like one that is not failed); returns how many. The
    next delivery pass sends them; the caller commits."""
    now = utcnow()
    rows: list[Notification | RobotMessage] = []
    people = _in_scope(
        select(Notification).where(Notification.delivery_status == FAILED), Notification, user
    )
    groups = _in_scope(
        select(RobotMessage).where(RobotMessage.delivery_status == FAILED), RobotMessage, user
    )
    if not everything:
        people = people.where(Notification.id.in_(list(notification_ids)))
        groups = groups.where(RobotMessage.id.in_(list(robot_ids)))
    rows.extend(db.session.scalars(people))
    rows.extend(db.session.scalars(groups))
    for row in rows:
        row.delivery_status, row.attempts, row.next_attempt_at = PENDING, 0, now
    if rows:
        audit.record(
            audit.MESSAGE_RETRY,
            object_type="message",
            object_id=None,
            summary=audit.Summary("messages", {"num": len(rows)}),
            details={
                name: ids
                for name, ids in (
                    ("notifications", [r.id for r in rows if isinstance(r, Notification)]),
                    ("robot_messages", [r.id for r in rows if isinstance(r, RobotMessage)]),
                )
                if ids
            },
            organisation_id=scope.home_node_id(user),
        )
    return len(rows)


def channel_name(config: Mapping[str, Any]) -> tuple[str, bool]:
    """(what NOTIFY_SENDER is set to, whether messages really leave the server)."""
    choice = str(config.get("NOTIFY_SENDER") or "log")
    try:
        real = not isinstance(sender_from_config(config), LogSender)
    except ValueError:  # a channel chosen but set up wrongly: nothing leaves
        real = False
    return choice, real
