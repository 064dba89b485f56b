"""The union tree (city -> district/county -> grassroots union) and the lookup lists volunteers
pick from on sign-up (districts and work units), each linked to its node of the tree.

Scope follows the tree (scheduler.services.scope): a coordinator of a node sees what belongs to
that node and the nodes below it. Volunteers, sites and periods carry the id of the node they
belong to; for volunteers and sites it is kept in step with their work unit / district by the
flush hook below, so every way a row is written (sign-up, import, profile, admin) agrees."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

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


def root_id(session: Session) -> int | None:
    """The city union's id (the one node without a parent), or None before there is a tree."""
    with session.no_autoflush:
        return session.scalars(
            select(Organisation.id)
            .where(Organisation.parent_id.is_(None))
            .order_by(Organisation.id)
        ).first()


def _node_of(session: Session, model: type[Any], obj: Any, key: int | None) -> Organisation | None:
    """The node of a district or work unit given as an object (maybe pending) or an id."""
    row = obj if obj is not None else (session.get(model, key) if key is not None else None)
    if row is None:
        return None
    if row.organisation is not None:
        return row.organisation  # type: ignore[no-any-return]  # row is a District or WorkUnit
    return session.get(Organisation, row.organisation_id) if row.organisation_id else None


@event.listens_for(Session, "before_flush")
def _keep_organisation_ids(session: Session, flush_context: object, instances: object) -> None:
    """Volunteers belong to their work unit's node, else their district's, else the city's;
    sites to their district's, else the city's. A new district gets a node under the city
    union when there is a tree."""
    # Imported here: accounts and sites import this module.
    from scheduler.models.accounts import Volunteer
    from scheduler.models.sites import Site

    changed = [
        obj
        for obj in (*session.new, *session.dirty)
        if isinstance(obj, District | Volunteer | Site)
    ]
    if not changed:
        return
    with session.no_autoflush:
        root_key = root_id(session)
        root = session.get(Organisation, root_key) if root_key is not None else None
        for obj in changed:
            if (
                isinstance(obj, District)
                and obj.organisation_id is None
                and obj.organisation is None
            ) and root is not None:
                obj.organisation = Organisation(kind=DISTRICT, name=obj.name, parent=root)
        for obj in changed:
            if isinstance(obj, Volunteer):
                obj.organisation = (
                    _node_of(session, WorkUnit, obj.work_unit, obj.work_unit_id)
                    or _node_of(session, District, obj.district, obj.district_id)
                    or root
                )
            elif isinstance(obj, Site):
                obj.organisation = (
                    _node_of(session, District, obj.district, obj.district_id) or root
                )
