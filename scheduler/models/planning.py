"""Planning periods and the availability volunteers enter for them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.extensions import Model, db
from scheduler.models.base import UTCDateTime
from scheduler.models.organisations import Organisation
from scheduler.models.sites import Site

if TYPE_CHECKING:
    from scheduler.models.accounts import User

MAX_PERIOD_DAYS = 92
MAX_REMINDER_HOURS = 48

period_sites = Table(
    "period_sites",
    db.metadata,
    Column("period_id", ForeignKey("planning_periods.id", ondelete="CASCADE"), primary_key=True),
    Column("site_id", ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True),
)

# Reinforcement (issue 13): the nodes of the union tree, besides its own, whose volunteers a
# period may also draw on (scheduler.services.scope.draws_on). The city's node: every district.
period_reinforcements = Table(
    "period_reinforcements",
    db.metadata,
    Column("period_id", ForeignKey("planning_periods.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
)


class PlanningPeriod(Model):
    """A date range and the sites to roster in it; while open, volunteers enter availability."""

    __tablename__ = "planning_periods"
    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="dates_ordered"),
        CheckConstraint("length(name) > 0", name="name_not_empty"),
        CheckConstraint(
            f"reminder_hours_before BETWEEN 1 AND {MAX_REMINDER_HOURS}", name="reminder_hours_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    # Volunteers may claim open posts of the draft themselves (first come, first served).
    self_signup_open: Mapped[bool] = mapped_column(Boolean, default=False)
    # Volunteers who repeatedly did not turn up are rostered last (a soft weight; off unless
    # the coordinator turns it on).
    deprioritise_no_shows: Mapped[bool] = mapped_column(Boolean, default=False)
    # The coordinator on duty for this period: whom volunteers call about a shift that has
    # no site lead, or when it is too late to cancel online. None: any active coordinator.
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Reminders before every published shift (scheduler.services.reminders): the evening
    # before at this local "HH:MM", and this many hours before the start; None: that one off.
    reminder_evening_at: Mapped[str | None] = mapped_column(
        String(5), default="18:00", server_default="18:00"
    )
    reminder_hours_before: Mapped[int | None] = mapped_column(
        Integer, default=2, server_default="2"
    )
    # When a coordinator closed the period because the emergency is over (None: still
    # running). RETENTION_DAYS after that, volunteers with no later period are anonymised
    # (scheduler.services.retention). Not the same as `is_open`, which is about availability.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The node that runs the period (its sites' district, else whoever created it):
    # scheduler.services.periods sets it, scheduler.services.scope reads it.
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )

    sites: Mapped[list[Site]] = relationship(secondary=period_sites)
    contact: Mapped[User | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    # The other unions it is open to (reinforcement); empty: its own node and below only.
    reinforcements: Mapped[list[Organisation]] = relationship(secondary=period_reinforcements)

    def covers(self, day: date) -> bool:
        return self.start_date <= day <= self.end_date

    @property
    def days(self) -> list[date]:
        """Every date of the period, in order."""
        count = (self.end_date - self.start_date).days + 1
        return [self.start_date + timedelta(days=i) for i in range(count)]


class Availability(Model):
    """One tapped cell: the volunteer can serve from `start_hour`:00 on `day` for SHIFT_HOURS
    hours, in local wall-clock time (a 23:00 start runs into the next date).

    A volunteer's cells together are the hours they offered: a site's shift is theirs to serve
    when its real hours lie inside that union (scheduler.services.availability.Offer), so
    nobody is placed at 07:00 who said 08:00."""

    __tablename__ = "availability_hours"
    __table_args__ = (CheckConstraint("start_hour BETWEEN 0 AND 23", name="start_hour_range"),)

    volunteer_id: Mapped[int] = mapped_column(
        ForeignKey("volunteers.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    start_hour: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class DayOff(Model):
    """A date the volunteer has marked as unavailable (distinct from a day left blank)."""

    __tablename__ = "days_off"

    volunteer_id: Mapped[int] = mapped_column(
        ForeignKey("volunteers.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
