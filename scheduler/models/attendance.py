"""Who came: what the site lead of a shift recorded at the site — present, late or absent,
with times in and out. Service hours (志愿服务时长) are computed from these rows.

Keyed like ShiftResponse by the post (volunteer, site, day, shift), not by an assignment id,
so the record survives republishing; walk-ins (people not on the roster who came to help)
are rows with `walk_in` set."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.extensions import Model
from scheduler.models.accounts import User, Volunteer
from scheduler.models.base import UTCDateTime, utcnow
from scheduler.models.catalogue import Role
from scheduler.models.sites import SHIFT_KINDS, Site

PRESENT, LATE, ABSENT = "present", "late", "absent"
ATTENDANCE_STATUSES = (PRESENT, LATE, ABSENT)


class Attendance(Model):
    """One volunteer at one shift of one site: did they come, and when."""

    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("volunteer_id", "site_id", "day", "shift"),
        CheckConstraint(f"status IN {ATTENDANCE_STATUSES!r}", name="status_known"),
        CheckConstraint(f"shift IN {SHIFT_KINDS!r}", name="shift_known"),
        # An absence has no times; a time out needs a time in, and comes after it.
        CheckConstraint(
            "status <> 'absent' OR (time_in IS NULL AND time_out IS NULL)",
            name="absent_has_no_times",
        ),
        CheckConstraint("time_out IS NULL OR time_in IS NOT NULL", name="out_needs_in"),
        CheckConstraint("time_out IS NULL OR time_out > time_in", name="out_after_in"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(
        ForeignKey("volunteers.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    shift: Mapped[str] = mapped_column(String(10))
    # The role served: the rostered one, or the one a walk-in was added for.
    role_id: Mapped[int | None] = mapped_column(ForeignKey("roles.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10))
    time_in: Mapped[datetime | None] = mapped_column(UTCDateTime)
    time_out: Mapped[datetime | None] = mapped_column(UTCDateTime)
    walk_in: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    volunteer: Mapped[Volunteer] = relationship()
    site: Mapped[Site] = relationship()
    role: Mapped[Role | None] = relationship()
    recorded_by: Mapped[User | None] = relationship()
