"""The one home of the roster and period lookups every feature asks for: a period's draft, its
latest published version (one period's, or every period's as a subquery), the open periods,
which periods a volunteer is shown. They import nothing from the app but the models, so any
service and the solver bridge (scheduler.planning) can use them without an import cycle. A
period's dates are `PlanningPeriod.days`."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from sqlalchemy import ColumnClause, Select, func, literal_column, or_, select

from scheduler.extensions import db
from scheduler.models import PlanningPeriod, Roster
from scheduler.models.rosters import DRAFT, PUBLISHED

__all__ = [
    "VOLUNTEER_PERIOD",
    "ShownPeriod",
    "current_draft",
    "latest_published",
    "latest_published_rosters",
    "open_periods",
]


def current_draft(period_id: int) -> Roster | None:
    """The period's draft roster, if there is one."""
    return db.session.scalar(
        select(Roster).where(Roster.period_id == period_id, Roster.status == DRAFT)
    )


def latest_published(period_id: int) -> Roster | None:
    """The period's highest published version, if any."""
    return db.session.scalar(
        select(Roster)
        .where(Roster.period_id == period_id, Roster.status == PUBLISHED)
        .order_by(Roster.version.desc())
        .limit(1)
    )


# 'published' written into the SQL rather than bound: SQLite prepares a statement that compares
# a bound value inside this IN (SELECT ...) again on every execution (the bound value may change
# its plan), and /me's statement of my shifts is large: 0.2 ms of planning per /me on SQLite
# (0.016 ms with the literal, the same rows). A constant of the code, never user input.
_PUBLISHED: ColumnClause[str] = literal_column(f"'{PUBLISHED}'")


def latest_published_rosters() -> Select[int]:
    """Ids of the latest published version of every period (a subquery)."""
    latest = (
        select(Roster.period_id, func.max(Roster.version).label("version"))
        .where(Roster.status == _PUBLISHED)
        .group_by(Roster.period_id)
        .subquery()
    )
    return select(Roster.id).join(
        latest, (latest.c.period_id == Roster.period_id) & (latest.c.version == Roster.version)
    )


# Built once: /me and the availability grid ask on every request.
_OPEN_PERIODS = (
    select(PlanningPeriod)
    .where(PlanningPeriod.is_open.is_(True))
    .order_by(PlanningPeriod.start_date, PlanningPeriod.id)
)


def open_periods() -> list[PlanningPeriod]:
    """The periods volunteers can enter availability for, earliest first."""
    return list(db.session.scalars(_OPEN_PERIODS))


# The periods a volunteer is shown: open for availability or for self-sign-up.
VOLUNTEER_PERIOD = or_(PlanningPeriod.is_open.is_(True), PlanningPeriod.self_signup_open.is_(True))


class ShownPeriod(NamedTuple):
    """A period as a volunteer's page shows it, read as columns (services.my_page)."""

    id: int
    name: str
    start_date: date
    end_date: date
    is_open: bool
    self_signup_open: bool


def lock_draft(roster_id: int) -> None:
    """Lock the draft row until the transaction ends (FOR UPDATE on PostgreSQL; SQLite has one
    writer at a time): every change to a draft touches this row (Roster.touch), so a writer
    that takes it first sees all others committed, and makes them wait."""
    db.session.execute(select(Roster.id).where(Roster.id == roster_id).with_for_update())
