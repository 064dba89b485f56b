"""Urgent requests (紧急求助): a site asks for extra hands on a date, for a span of hours, with
a head count per role. The span is staffed in whole shifts: each shift of the site it overlaps
gets the extra posts, and the ordinary repair path (a minimal-change re-solve) fills them."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.extensions import Model
from scheduler.models.accounts import User
from scheduler.models.base import UTCDateTime, utcnow
from scheduler.models.catalogue import Role
from scheduler.models.planning import PlanningPeriod
from scheduler.models.sites import Site

MAX_NOTE_LENGTH = 500
MAX_URGENT_HEADCOUNT = 50


class UrgentRequest(Model):
    """An extra need at one site on one local date, from `start` to `end` local time (an end
    at or before the start runs past midnight). Withdrawn requests keep their row."""

    __tablename__ = "urgent_requests"
    __table_args__ = (CheckConstraint("start_time <> end_time", name="span_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(
        ForeignKey("planning_periods.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    note: Mapped[str] = mapped_column(String(MAX_NOTE_LENGTH), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Sent up one level (issue 13): while not withdrawn, the period also draws on the pool of
    # its node's parent (scheduler.services.scope.draws_on), and the parent's coordinators
    # see the request in their urgent list.
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    period: Mapped[PlanningPeriod] = relationship()
    site: Mapped[Site] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    escalated_by: Mapped[User | None] = relationship(foreign_keys=[escalated_by_id])
    needs: Mapped[list[UrgentNeed]] = relationship(
        back_populates="request", cascade="all, delete-orphan", passive_deletes=True
    )


class UrgentNeed(Model):
    """How many people of one role the request asks for."""

    __tablename__ = "urgent_needs"
    __table_args__ = (
        CheckConstraint(f"headcount BETWEEN 1 AND {MAX_URGENT_HEADCOUNT}", name="headcount_range"),
    )

    request_id: Mapped[int] = mapped_column(
        ForeignKey("urgent_requests.id", ondelete="CASCADE"), primary_key=True
    )
    role_id: Mapped[int] = mapped_column(
        ForeignKey("roles.id", ondelete="RESTRICT"), primary_key=True
    )
    headcount: Mapped[int] = mapped_column(Integer)

    request: Mapped[UrgentRequest] = relationship(back_populates="needs")
    role: Mapped[Role] = relationship()
