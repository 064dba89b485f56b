"""Call-ups (集结号): a coordinator's message to a chosen part of the pool about a planning
period, with a public page (/c/<token>) to share, and the events that make up its funnel.

A call-up row is written only when it is sent (compose and preview write nothing), together
with one recipient row and one outbox notification per person, in one transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.extensions import Model
from scheduler.models.accounts import User
from scheduler.models.base import UTCDateTime, utcnow
from scheduler.models.planning import PlanningPeriod

MAX_CALLUP_MESSAGE = 500
# What happened through the public page: a browser opened it (once per browser), someone
# registered (an account created after opening it) or logged in to an existing account.
OPENED, REGISTERED, LOGGED_IN = "opened", "registered", "logged_in"
CALLUP_EVENTS = (OPENED, REGISTERED, LOGGED_IN)


class CallUp(Model):
    """One sent call-up. `audience` is the filters it was sent with (structured, see
    services.callups.Audience), kept to say later whom it reached; `locale` is the language
    of the template the message started from; `token` names its public page."""

    __tablename__ = "callups"
    __table_args__ = (
        CheckConstraint("length(message) > 0", name="message_not_empty"),
        CheckConstraint("length(token) >= 16", name="token_long_enough"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(
        ForeignKey("planning_periods.id", ondelete="CASCADE"), index=True
    )
    token: Mapped[str] = mapped_column(String(64), unique=True)
    message: Mapped[str] = mapped_column(Text)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    locale: Mapped[str] = mapped_column(String(10))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    period: Mapped[PlanningPeriod] = relationship()
    created_by: Mapped[User | None] = relationship()


class CallUpRecipient(Model):
    """One person a call-up was sent to, with the outbox row that carries it and whether they
    had entered availability for the period when it was sent (so 'entered availability
    afterwards' counts only those who had not)."""

    __tablename__ = "callup_recipients"

    callup_id: Mapped[int] = mapped_column(
        ForeignKey("callups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    notification_id: Mapped[int | None] = mapped_column(
        ForeignKey("notifications.id", ondelete="SET NULL")
    )
    had_availability: Mapped[bool] = mapped_column(Boolean, default=False)


class CallUpEvent(Model):
    """Something that happened through the public page. `opened` has no user (anyone with
    the link); `registered` and `logged_in` name the account, once per account."""

    __tablename__ = "callup_events"
    __table_args__ = (
        CheckConstraint(f"kind IN {CALLUP_EVENTS!r}", name="kind_known"),
        Index("ix_callup_events_callup_kind", "callup_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    callup_id: Mapped[int] = mapped_column(ForeignKey("callups.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    had_availability: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
