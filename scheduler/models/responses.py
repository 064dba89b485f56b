"""A volunteer's answer to a published shift: confirmed, or cancelled with a reason.

Keyed by the post's identity (volunteer, site, day, shift) rather than an assignment id, so the
answer survives republishing: every published version is a new set of assignment rows."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.extensions import Model
from scheduler.models.accounts import Volunteer
from scheduler.models.base import UTCDateTime, utcnow
from scheduler.models.sites import SHIFT_KINDS, Site

CONFIRMED, CANCELLED_BY_VOLUNTEER = "confirmed", "cancelled"
RESPONSE_STATUSES = (CONFIRMED, CANCELLED_BY_VOLUNTEER)
# Who gave the answer: the volunteer online, or a coordinator who took a drop-out by phone.
FROM_VOLUNTEER, FROM_COORDINATOR = "volunteer", "coordinator"
RESPONSE_SOURCES = (FROM_VOLUNTEER, FROM_COORDINATOR)
MAX_REASON_LENGTH = 200


class ShiftResponse(Model):
    """What one volunteer said about one of their shifts."""

    __tablename__ = "shift_responses"
    __table_args__ = (
        UniqueConstraint("volunteer_id", "site_id", "day", "shift"),
        CheckConstraint(f"status IN {RESPONSE_STATUSES!r}", name="status_known"),
        CheckConstraint(f"source IN {RESPONSE_SOURCES!r}", name="source_known"),
        CheckConstraint(f"shift IN {SHIFT_KINDS!r}", name="shift_known"),
        # A cancellation always says why.
        CheckConstraint(
            "status = 'confirmed' OR (reason IS NOT NULL AND length(reason) > 0)",
            name="cancel_has_reason",
        ),
        CheckConstraint(f"length(reason) <= {MAX_REASON_LENGTH}", name="reason_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(
        ForeignKey("volunteers.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    shift: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(MAX_REASON_LENGTH))
    source: Mapped[str] = mapped_column(String(20), default=FROM_VOLUNTEER)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    volunteer: Mapped[Volunteer] = relationship()
    site: Mapped[Site] = relationship()
