"""Notifications to users, kept as an outbox: a row is written in the same transaction as the
change it reports, and delivered (and retried) afterwards, so nothing is lost when a sender
fails. The inbox shows the same rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.extensions import Model
from scheduler.models.accounts import User
from scheduler.models.base import UTCDateTime, utcnow
from scheduler.models.sites import Site

PENDING, SENT, FAILED = "pending", "sent", "failed"
# Never sent, on purpose: a reminder whose shift changed or was cancelled (withdrawn), or whose
# shift had started before it could go out (expired). See services.reminders.
WITHDRAWN, EXPIRED = "withdrawn", "expired"
DELIVERY_STATUSES = (PENDING, SENT, FAILED, WITHDRAWN, EXPIRED)


class Notification(Model):
    """One message to one user. `kind` and `payload` are structured (not text) so the inbox
    and each sender render it in the recipient's language."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(f"delivery_status IN {DELIVERY_STATUSES!r}", name="delivery_known"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        Index("ix_notifications_outbox", "delivery_status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivery_status: Mapped[str] = mapped_column(String(10), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The published post a reminder is about (the latest version's row; re-linked on every
    # publish), so a changed or cancelled post finds its pending reminders.
    assignment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assignments.id", ondelete="SET NULL"), index=True
    )

    user: Mapped[User] = relationship()


class RobotMessage(Model):
    """One message to a site's group chat robot (e.g. its shift list after a publish), kept in
    an outbox like `Notification`: written in the publish transaction, delivered and retried
    by the same delivery pass (services.delivery). The text is rendered when it is sent, from
    the published (never changed) version, to the site's robot as configured then."""

    __tablename__ = "robot_messages"
    __table_args__ = (
        CheckConstraint(f"delivery_status IN {DELIVERY_STATUSES!r}", name="delivery_known"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        Index("ix_robot_messages_outbox", "delivery_status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    roster_id: Mapped[int] = mapped_column(ForeignKey("rosters.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivery_status: Mapped[str] = mapped_column(String(10), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    site: Mapped[Site] = relationship()
