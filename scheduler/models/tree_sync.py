"""Keeps the node ids of volunteers and sites in step with their work unit and district on
every flush (see scheduler.models.organisations), so every way a row is written agrees; a
volunteer row written without a flush takes its node from volunteer_node_id, the same rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from scheduler.models.accounts import Volunteer
from scheduler.models.organisations import DISTRICT, District, Organisation, WorkUnit
from scheduler.models.sites import Site

_T = TypeVar("_T")

# The city union: the one node without a parent (none before there is a tree).
_ROOT = select(Organisation).where(Organisation.parent_id.is_(None)).order_by(Organisation.id)


_ROOT_ID = _ROOT.with_only_columns(Organisation.id).limit(1)


def root_id(session: Session) -> int | None:
    """The city union's id, or None before there is a tree. A Core statement on the session's
    connection (no autoflush, no ORM result): every registration asks, and the ORM's
    execution of a one-integer SELECT cost several times its SQL."""
    found: int | None = session.connection().execute(_ROOT_ID).scalar()
    return found


def _node_of(session: Session, model: type[Any], obj: Any, key: int | None) -> Organisation | None:
    """The node of a district or work unit given as an object (maybe pending) or an id."""
    row = obj if obj is not None else (session.get(model, key) if key is not None else None)
    if row is None:
        return None
    if row.organisation is not None:
        return row.organisation
    return session.get(Organisation, row.organisation_id) if row.organisation_id else None


def _first_node(
    work_unit: Callable[[], _T | None],
    district: Callable[[], _T | None],
    root: Callable[[], _T | None],
) -> _T | None:
    """Where a volunteer belongs: their work unit's node, else their district's, else the city
    union's (each asked only when the one before has none)."""
    return work_unit() or district() or root()


def volunteer_node(
    session: Session,
    work_unit: WorkUnit | None,
    work_unit_id: int | None,
    district: District | None,
    district_id: int | None,
    root: Callable[[], Organisation | None],
) -> Organisation | None:
    """The node of a volunteer with this work unit and district (each an object, maybe
    pending, or an id), as the flush below keeps every volunteer's."""
    return _first_node(
        lambda: _node_of(session, WorkUnit, work_unit, work_unit_id),
        lambda: _node_of(session, District, district, district_id),
        root,
    )


def volunteer_node_id(
    session: Session, work_unit: WorkUnit | None, district: District | None
) -> int | None:
    """volunteer_node's id for a work unit and a district that are in the database, from the
    node ids their rows hold (no node is loaded): for a volunteer row written without the
    unit of work (services.registration)."""
    return _first_node(
        lambda: work_unit.organisation_id if work_unit is not None else None,
        lambda: district.organisation_id if district is not None else None,
        lambda: root_id(session),
    )


@event.listens_for(Session, "before_flush")
def _keep_organisation_ids(session: Session, flush_context: object, instances: object) -> None:
    """Volunteers belong to their work unit's node, else their district's, else the city's;
    sites to their district's, else the city's. A new district gets a node under the city
    union when there is a tree."""
    changed = [
        obj
        for obj in (*session.new, *session.dirty)
        if isinstance(obj, District | Volunteer | Site)
    ]
    if not changed:
        return
    with session.no_autoflush:
        root = session.scalars(_ROOT).first()
        for obj in changed:
            if (
                isinstance(obj, District)
                and obj.organisation_id is None
                and obj.organisation is None
            ) and root is not None:
                obj.organisation = Organisation(kind=DISTRICT, name=obj.name, parent=root)
        for obj in changed:
            if isinstance(obj, Volunteer):
                obj.organisation = volunteer_node(
                    session,
                    obj.work_unit,
                    obj.work_unit_id,
                    obj.district,
                    obj.district_id,
                    lambda: root,
                )
            elif isinstance(obj, Site):
                obj.organisation = (
                    _node_of(session, District, obj.district, obj.district_id) or root
                )
