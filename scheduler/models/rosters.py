"""Solve runs, rosters (a draft per period and numbered published versions), their assignments
and the posts a roster leaves unfilled, with the solver's reasons."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.extensions import Model, db
from scheduler.models.accounts import User, Volunteer
from scheduler.models.base import UTCDateTime, utcnow
from scheduler.models.catalogue import Role
from scheduler.models.planning import PlanningPeriod
from scheduler.models.sites import SHIFT_KINDS, Site

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = (
    "queued",
    "running",
    "succeeded",
    "failed",
    "cancelled",
)
RUN_STATUSES = (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED)
ACTIVE_RUN_STATUSES = (QUEUED, RUNNING)
MIN_TIME_LIMIT, MAX_TIME_LIMIT = 5, 600

DRAFT, PUBLISHED = "draft", "published"
ROSTER_STATUSES = (DRAFT, PUBLISHED)

SOURCE_SOLVER, SOURCE_HAND, SOURCE_SELF_SIGNUP = "solver", "hand", "self_signup"
ASSIGNMENT_SOURCES = (SOURCE_SOLVER, SOURCE_HAND, SOURCE_SELF_SIGNUP)

solve_run_sites = Table(
    "solve_run_sites",
    db.metadata,
    Column("run_id", ForeignKey("solve_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("site_id", ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True),
)


class SolveRun(Model):
    """One request to roster a period: what to solve, how it went, and its live progress.

    Written by the request that starts it and then only by the job runner (progress, outcome)
    and by a cancel request (`cancel_requested`)."""

    __tablename__ = "solve_runs"
    __table_args__ = (
        CheckConstraint(f"status IN {RUN_STATUSES!r}", name="status_known"),
        CheckConstraint(
            f"time_limit BETWEEN {MIN_TIME_LIMIT} AND {MAX_TIME_LIMIT}", name="time_limit_range"
        ),
        CheckConstraint("posts_filled >= 0 AND posts_total >= 0", name="posts_non_negative"),
        CheckConstraint("elapsed >= 0", name="elapsed_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(
        ForeignKey("planning_periods.id", ondelete="CASCADE"), index=True
    )
    # True: every site of the period (as it is when the run starts); False: `sites` only.
    all_sites: Mapped[bool] = mapped_column(Boolean, default=True)
    time_limit: Mapped[int] = mapped_column(Integer, default=30)
    status: Mapped[str] = mapped_column(String(20), default=QUEUED)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    elapsed: Mapped[float] = mapped_column(Float, default=0.0)
    posts_filled: Mapped[int] = mapped_column(Integer, default=0)
    posts_total: Mapped[int] = mapped_column(Integer, default=0)
    # At most this many posts can be filled with the volunteers available (the max-flow
    # bound of solver.flow): what a coordinator compares posts_filled against.
    posts_fillable: Mapped[int | None] = mapped_column(Integer)
    objective: Mapped[int | None] = mapped_column(BigInteger)
    bound: Mapped[int | None] = mapped_column(BigInteger)
    solver_status: Mapped[str | None] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # Pins the run did not keep because their volunteer may no longer serve them (left the
    # period's unions, lost a qualification): scheduler.planning writes who, where and why.
    dropped_pins: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # A repair of drop-outs: keep every published assignment unless moving it fills a post.
    minimal_change: Mapped[bool] = mapped_column(Boolean, default=False)

    period: Mapped[PlanningPeriod] = relationship()
    sites: Mapped[list[Site]] = relationship(secondary=solve_run_sites)
    requested_by: Mapped[User | None] = relationship()

    @property
    def active(self) -> bool:
        """Queued or running: the status fragment keeps polling."""
        return self.status in ACTIVE_RUN_STATUSES


class Roster(Model):
    """A period's roster: the one draft being worked on, or an immutable published version."""

    __tablename__ = "rosters"
    __table_args__ = (
        UniqueConstraint("period_id", "version"),
        CheckConstraint(f"status IN {ROSTER_STATUSES!r}", name="status_known"),
        CheckConstraint(
            "(status = 'draft' AND version IS NULL AND published_at IS NULL)"
            " OR (status = 'published' AND version IS NOT NULL AND version >= 1"
            " AND published_at IS NOT NULL)",
            name="version_matches_status",
        ),
        # At most one draft per period. NULL versions never collide in the unique constraint
        # above, so the draft gets its own partial unique index (SQLite and PostgreSQL both
        # support the WHERE clause).
        Index(
            "uq_rosters_one_draft_per_period",
            "period_id",
            unique=True,
            sqlite_where=text("status = 'draft'"),
            postgresql_where=text("status = 'draft'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("planning_periods.id", ondelete="CASCADE"))
    version: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=DRAFT)
    created_from_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("solve_runs.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Bumped by `touch` on every change of a draft (a run saved, a hand edit, a pin, a
    # cancellation freeing a post, a self-sign-up): the publish form carries the revision the
    # coordinator reviewed, and publishing a draft that changed since is refused.
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    period: Mapped[PlanningPeriod] = relationship()
    created_from_run: Mapped[SolveRun | None] = relationship()
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="roster", cascade="all, delete-orphan", passive_deletes=True
    )
    unfilled_posts: Mapped[list[UnfilledPost]] = relationship(
        back_populates="roster", cascade="all, delete-orphan", passive_deletes=True
    )

    def touch(self) -> None:
        """Record that the draft changed: the one place its revision is bumped (every code
        that writes a draft's assignments or unfilled posts calls this). An SQL increment,
        so concurrent changes each count; flushed with the caller's transaction."""
        if inspect(self).persistent:
            self.revision = type(self).revision + 1
        else:
            self.revision = (self.revision or 0) + 1
        self.updated_at = utcnow()


class Assignment(Model):
    """A volunteer on a post: site, local date, shift kind and role, in one roster."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("roster_id", "site_id", "day", "shift", "volunteer_id"),
        # One post per volunteer per shift time slot, whatever the site.
        UniqueConstraint(
            "roster_id", "volunteer_id", "day", "shift", name="uq_assignments_volunteer_slot"
        ),
        CheckConstraint(f"shift IN {SHIFT_KINDS!r}", name="shift_known"),
        CheckConstraint(f"source IN {ASSIGNMENT_SOURCES!r}", name="source_known"),
        Index("ix_assignments_roster_site_day", "roster_id", "site_id", "day"),
        # Numbered places of one post (1..head count): two claims of the same place collide
        # here, in the database, so first-come self-sign-up is atomic. NULL (a row written
        # without a number) never collides.
        UniqueConstraint(
            "roster_id",
            "site_id",
            "day",
            "shift",
            "role_id",
            "slot",
            name="uq_assignments_post_slot",
        ),
        CheckConstraint("slot IS NULL OR slot >= 1", name="slot_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    roster_id: Mapped[int] = mapped_column(ForeignKey("rosters.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    shift: Mapped[str] = mapped_column(String(10))
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id", ondelete="RESTRICT"))
    # Which of the post's places (1..head count) this is; see uq_assignments_post_slot.
    slot: Mapped[int | None] = mapped_column(Integer)
    volunteer_id: Mapped[int] = mapped_column(
        ForeignKey("volunteers.id", ondelete="CASCADE"), index=True
    )
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(20), default=SOURCE_SOLVER)
    # A hand edit that breaks a hard rule on purpose: recorded with the coordinator's note.
    # Such rows are kept out of the solver's pins (they could not be valid pins).
    rule_override: Mapped[bool] = mapped_column(Boolean, default=False)
    override_note: Mapped[str | None] = mapped_column(String(500))

    roster: Mapped[Roster] = relationship(back_populates="assignments")
    site: Mapped[Site] = relationship()
    role: Mapped[Role] = relationship()
    volunteer: Mapped[Volunteer] = relationship()


class UnfilledPost(Model):
    """Posts of one role on one shift a roster leaves short, and why (`reasons`: a list of
    {"code": ..., facts...} as produced by scheduler.planning from solver.explain, with
    volunteer, site and role ids so the page names them in the reader's language)."""

    __tablename__ = "unfilled_posts"
    __table_args__ = (
        UniqueConstraint("roster_id", "site_id", "day", "shift", "role_id"),
        CheckConstraint(f"shift IN {SHIFT_KINDS!r}", name="shift_known"),
        CheckConstraint("missing >= 1", name="missing_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    roster_id: Mapped[int] = mapped_column(ForeignKey("rosters.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    shift: Mapped[str] = mapped_column(String(10))
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id", ondelete="RESTRICT"))
    missing: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    roster: Mapped[Roster] = relationship(back_populates="unfilled_posts")
    site: Mapped[Site] = relationship()
    role: Mapped[Role] = relationship()
