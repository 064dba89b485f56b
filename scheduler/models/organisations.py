"""The union tree (city -> district/county -> grassroots union) and the lookup lists volunteers
pick from on sign-up (districts and work units), each linked to its node of the tree.

Scope follows the tree (scheduler.services.scope): a coordinator of a node sees what belongs to
that node and the nodes below it. Volunteers, sites and periods carry the id of the node they
belong to; for volunteers and sites it is kept in step with their work unit / district by the
flush hook in scheduler.models.tree_sync, so every way a row is written agrees."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.extensions import Model
from scheduler.models.base import UTCDateTime

CITY = "city"
DISTRICT = "district"
GRASSROOTS = "grassroots"
ORG_KINDS = (CITY, DISTRICT, GRASSROOTS)


class Organisation(Model):
    """A node of the union tree: the city union (the one root), a district or county union,
    or a grassroots union (a company's, a hospital's)."""

    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(f"kind IN {ORG_KINDS!r}", name="kind_known"),
        CheckConstraint("length(name) > 0", name="name_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The city allows this district's coordinators to open their periods to volunteers of
    # other districts (reinforcement); the city's coordinators always may.
    may_reinforce: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    parent: Mapped[Organisation | None] = relationship(remote_side=[id])


class District(Model):
    """A city district (区县); sites and volunteers belong to one."""

    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    # The district union's node of the tree (None only for a district nobody has placed yet).
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), unique=True
    )

    organisation: Mapped[Organisation | None] = relationship()


class WorkUnit(Model):
    """An organisation or grassroots union (工作单位 / 基层工会) that volunteers come from."""

    __tablename__ = "work_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # Its grassroots node; None for a work unit a volunteer typed in at sign-up that nobody
    # has placed in the tree (its volunteers then belong to their district's node).
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), unique=True
    )

    organisation: Mapped[Organisation | None] = relationship()
