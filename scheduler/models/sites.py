"""Sites (点位), their shift pattern and the demand per shift and role."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.extensions import Model
from scheduler.models.base import UTCDateTime, utcnow
from scheduler.models.catalogue import Role
from scheduler.models.organisations import District, Organisation

SITE_KINDS = ("checkpoint", "testing", "other")
# The three 8-hour shifts in the order they run from the site's first shift hour.
SHIFT_KINDS = ("night", "day", "evening")
SHIFT_HOURS = 8
# Group chat robots a site's roster can be posted to (scheduler.services.robots).
ROBOT_KINDS = ("wecom", "dingtalk")


class Site(Model):
    """A place that needs people: a highway checkpoint, a testing site, or another post."""

    __tablename__ = "sites"
    __table_args__ = (
        CheckConstraint(f"kind IN {SITE_KINDS!r}", name="kind_known"),
        CheckConstraint("first_shift_hour BETWEEN 0 AND 23", name="first_shift_hour_range"),
        CheckConstraint("length(name) > 0", name="name_not_empty"),
        CheckConstraint(
            f"robot_kind IS NULL OR robot_kind IN {ROBOT_KINDS!r}", name="robot_kind_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100), unique=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id", ondelete="SET NULL"))
    # Its district's node, else the city's (kept in step on flush: models.organisations).
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    timezone: Mapped[str] = mapped_column(String(50), default="Asia/Shanghai")
    # Hour the night shift starts; day and evening follow 8 and 16 hours later.
    first_shift_hour: Mapped[int] = mapped_column(Integer, default=0)
    runs_night: Mapped[bool] = mapped_column(Boolean, default=True)
    runs_day: Mapped[bool] = mapped_column(Boolean, default=True)
    runs_evening: Mapped[bool] = mapped_column(Boolean, default=True)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The site's group chat robot (企业微信 or 钉钉 群机器人): its webhook URL receives the
    # site's shift list when a version is published; DingTalk's optional 加签 secret.
    robot_kind: Mapped[str | None] = mapped_column(String(10))
    robot_url: Mapped[str | None] = mapped_column(String(500))
    robot_secret: Mapped[str | None] = mapped_column(String(200))

    district: Mapped[District | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    demands: Mapped[list[Demand]] = relationship(
        back_populates="site", cascade="all, delete-orphan"
    )

    @property
    def shift_kinds(self) -> tuple[str, ...]:
        """The shifts this site runs, in running order."""
        return tuple(k for k in SHIFT_KINDS if getattr(self, f"runs_{k}"))

    def shift_window(self, day: date, kind: str) -> tuple[datetime, datetime]:
        """Start and end (aware, in the site's zone) of `kind` on `day` (`shift_window`)."""
        return shift_window(self.first_shift_hour, self.timezone, day, kind)

    def shift_span(self, day: date, kind: str) -> str:
        """The shift's local hours as people read them (see span_label)."""
        return span_label(*self.shift_window(day, kind))

    def demand_for(self, kind: str) -> dict[int, int]:
        """Head count per role id for one shift kind."""
        return {d.role_id: d.headcount for d in self.demands if d.shift == kind and d.headcount}


def shift_window(
    first_shift_hour: int, timezone: str, day: date, kind: str
) -> tuple[datetime, datetime]:
    """Start and end (aware, in the site's zone) of `kind` on `day` at a site whose night shift
    starts at `first_shift_hour` in `timezone` (`Site.shift_window`, for a site read as columns
    rather than an object); a shift belongs to the day it starts, so a night shift starting at
    23:00 ends on the next date."""
    hour = (first_shift_hour + SHIFT_HOURS * SHIFT_KINDS.index(kind)) % 24
    start = datetime.combine(day, time(hour), tzinfo=ZoneInfo(timezone))
    return start, start + timedelta(hours=SHIFT_HOURS)


def span_label(start: datetime, end: datetime) -> str:
    """Local hours of a span as every page and printout shows them: '08:00–16:00';
    '16:00–24:00' when it ends at midnight; '23:00–07:00 (+1)' when it ends on the next date."""
    if end.date() > start.date() and (end.hour, end.minute) == (0, 0):
        return f"{start:%H:%M}–24:00"
    suffix = " (+1)" if end.date() > start.date() else ""
    return f"{start:%H:%M}–{end:%H:%M}{suffix}"


class Demand(Model):
    """How many people of a role one shift of a site needs."""

    __tablename__ = "demands"
    __table_args__ = (
        UniqueConstraint("site_id", "shift", "role_id"),
        CheckConstraint(f"shift IN {SHIFT_KINDS!r}", name="shift_known"),
        CheckConstraint("headcount BETWEEN 0 AND 200", name="headcount_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    shift: Mapped[str] = mapped_column(String(10))
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id", ondelete="RESTRICT"))
    headcount: Mapped[int] = mapped_column(Integer, default=0)

    site: Mapped[Site] = relationship(back_populates="demands")
    role: Mapped[Role] = relationship()
