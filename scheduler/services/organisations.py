"""The union tree, as admins manage it: create, rename, move, merge and archive nodes, and
appoint coordinators and liaisons of a node. A district node keeps its District row (the
sign-up and site pickers) and a grassroots node its WorkUnit row in step: same name, and a
merge moves the rows that point at them. Every change writes its audit row (the node's, so the
coordinators above it read it too; a merge's row belongs to the union merged into)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update

from scheduler.extensions import db
from scheduler.i18n import lazy_gettext as _l
from scheduler.models import (
    CITY,
    COORDINATOR,
    DISTRICT,
    GRASSROOTS,
    LIAISON,
    District,
    Organisation,
    PlanningPeriod,
    Site,
    User,
    Volunteer,
    WorkUnit,
)
from scheduler.models.base import utcnow
from scheduler.services import audit, scope
from scheduler.services.errors import ServiceError
from scheduler.services.phones import InvalidPhone, normalize_mobile

MAX_NAME = 60  # District names are at most 60 characters; work units 100.
# Which kinds of node may sit under which.
PARENT_KINDS = {DISTRICT: (CITY,), GRASSROOTS: (DISTRICT, CITY)}
APPOINTABLE = (COORDINATOR, LIAISON)


class OrganisationError(ServiceError):
    """A tree change that cannot be made (nothing was written)."""


def _record(action: str, node: Organisation, *, into: int | None = None, **kwargs: Any) -> None:
    """The audit row of a change to `node` (a merge's belongs to the union merged `into`)."""
    audit.record(
        action,
        object_type="organisation",
        object_id=node.id,
        summary=node.name,
        organisation_id=into if into is not None else node.id,
        **kwargs,
    )


@dataclass(frozen=True)
class TreeRow:
    """A node as the admin's tree lists it: depth for the indent, and what hangs off it."""

    node: Organisation
    depth: int
    volunteers: int
    staff: list[User]


def tree() -> list[TreeRow]:
    """Every node depth-first from the root (children by name), with its volunteer count and
    the coordinators and liaisons appointed to it (three queries)."""
    nodes = list(db.session.scalars(select(Organisation).order_by(Organisation.name)))
    children: dict[int | None, list[Organisation]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    counts = dict(
        db.session.execute(
            select(Volunteer.organisation_id, func.count(Volunteer.id)).group_by(
                Volunteer.organisation_id
            )
        ).all()
    )
    staff: dict[int, list[User]] = {}
    for user in db.session.scalars(
        select(User)
        .where(User.organisation_id.is_not(None), User.role.in_(APPOINTABLE))
        .order_by(User.name_pinyin)
    ):
        staff.setdefault(user.organisation_id or 0, []).append(user)
    rows: list[TreeRow] = []

    def walk(parent: int | None, depth: int) -> None:
        for node in children.get(parent, []):
            rows.append(TreeRow(node, depth, counts.get(node.id, 0), staff.get(node.id, [])))
            walk(node.id, depth + 1)

    walk(None, 0)
    return rows


def unappointed_coordinators() -> list[User]:
    """Active coordinators appointed to no union, by name: once the city has a tree they see
    nothing (services.scope) until an admin appoints them -- those promoted or created
    before a promotion had to name the union, or whose union was merged away. Listed on the
    Unions page so an admin finds them without being told."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.role == COORDINATOR,
                User.active.is_(True),
                User.organisation_id.is_(None),
                ~User.phone.startswith("deleted-"),
            )
            .order_by(User.name_pinyin, User.id)
        )
    )


def _clean(name: str) -> str:
    name = " ".join((name or "").split())
    if not name or len(name) > MAX_NAME:
        raise OrganisationError(_l("Name must be 1 to %(n)d characters.", n=MAX_NAME), "name")
    return name


def _linked(node: Organisation) -> District | WorkUnit | None:
    if node.kind == DISTRICT:
        return db.session.scalars(
            select(District).where(District.organisation_id == node.id)
        ).first()
    if node.kind == GRASSROOTS:
        return db.session.scalars(
            select(WorkUnit).where(WorkUnit.organisation_id == node.id)
        ).first()
    return None


def _check_parent(kind: str, parent: Organisation | None) -> None:
    if kind == CITY:
        raise OrganisationError(_l("There is one city union; it cannot be added or moved."))
    if parent is None or parent.kind not in PARENT_KINDS[kind]:
        raise OrganisationError(
            _l(
                "A district union sits under the city union; a grassroots union under a district "
                "or the city."
            ),
            "parent_id",
        )


def _name_taken(model: type[District] | type[WorkUnit], name: str, own: int | None) -> bool:
    stmt = select(model.id).where(model.name == name)
    if own is not None:
        stmt = stmt.where(model.id != own)
    return db.session.scalar(stmt) is not None


def create(kind: str, name: str, parent: Organisation | None) -> Organisation:
    """A new district or grassroots union under `parent`, with its District / WorkUnit row
    (an existing one of that name not yet in the tree is taken over)."""
    if kind not in (DISTRICT, GRASSROOTS):
        raise OrganisationError(_l("Choose a kind of union."), "kind")
    name = _clean(name)
    _check_parent(kind, parent)
    row: District | WorkUnit | None
    if kind == DISTRICT:
        row = db.session.scalars(select(District).where(District.name == name)).first()
    else:
        row = db.session.scalars(select(WorkUnit).where(WorkUnit.name == name)).first()
    if row is not None and row.organisation_id is not None:
        raise OrganisationError(_l("A union with this name already exists."), "name")
    node = Organisation(kind=kind, name=name, parent=parent)
    if row is None:
        row = District(name=name) if kind == DISTRICT else WorkUnit(name=name)
        db.session.add(row)
    row.organisation = node
    db.session.add(node)
    db.session.flush()
    # Rows that already pointed at the taken-over district / work unit now belong to it.
    _resync(row)
    _record(
        audit.ORG_CREATE,
        node,
        details={"kind": kind, "parent": parent.name if parent is not None else None},
    )
    db.session.commit()
    return node


def _resync(row: District | WorkUnit) -> None:
    """Give volunteers and sites of a district / work unit the node it now has (a bulk
    UPDATE does not pass the flush hook)."""
    node = row.organisation_id
    if isinstance(row, WorkUnit):
        db.session.execute(
            update(Volunteer).where(Volunteer.work_unit_id == row.id).values(organisation_id=node)
        )
        return
    db.session.execute(update(Site).where(Site.district_id == row.id).values(organisation_id=node))
    # Volunteers of the district who have no placed work unit.
    placed = select(WorkUnit.id).where(WorkUnit.organisation_id.is_not(None))
    db.session.execute(
        update(Volunteer)
        .where(
            Volunteer.district_id == row.id,
            (Volunteer.work_unit_id.is_(None)) | Volunteer.work_unit_id.not_in(placed),
        )
        .values(organisation_id=node)
    )


def rename(node: Organisation, name: str) -> None:
    """Rename a node and its District / WorkUnit row."""
    name = _clean(name)
    row = _linked(node)
    if row is not None:
        if _name_taken(type(row), name, row.id):
            raise OrganisationError(_l("A union with this name already exists."), "name")
        row.name = name
    before = audit.snapshot(node, ("name",))
    node.name = name
    _record(audit.ORG_RENAME, node, before=before, after=audit.snapshot(node, ("name",)))
    db.session.commit()


def move(node: Organisation, parent: Organisation | None) -> None:
    """Put a node under another parent; never under itself or one of its own descendants."""
    _check_parent(node.kind, parent)
    assert parent is not None
    if parent.id in scope.subtree(node.id):
        raise OrganisationError(
            _l("A union cannot move under itself or a union below it."), "parent_id"
        )
    old = node.parent
    node.parent = parent
    _record(
        audit.ORG_MOVE,
        node,
        before={"parent": old.name if old is not None else None},
        after={"parent": parent.name},
    )
    db.session.commit()


def merge(source: Organisation, target: Organisation) -> int:
    """Merge `source` into `target` (same kind): its children, volunteers, sites, periods and
    appointed staff move to `target`, and so do the rows that named its District / WorkUnit;
    then it is deleted. Returns how many volunteers moved."""
    if source.id == target.id or source.kind != target.kind or source.kind == CITY:
        raise OrganisationError(_l("Merge into another union of the same kind."), "target_id")
    if target.id in scope.subtree(source.id):
        raise OrganisationError(_l("Merge into another union of the same kind."), "target_id")
    old, new = _linked(source), _linked(target)
    if isinstance(old, WorkUnit):
        new_unit = new if isinstance(new, WorkUnit) else None
        db.session.execute(
            update(Volunteer)
            .where(Volunteer.work_unit_id == old.id)
            .values(work_unit_id=new_unit.id if new_unit else None)
        )
    elif isinstance(old, District):
        new_district = new if isinstance(new, District) else None
        target_district = new_district.id if new_district else None
        for model in (Volunteer, Site):
            db.session.execute(
                update(model).where(model.district_id == old.id).values(district_id=target_district)
            )
    moved = db.session.scalar(
        select(func.count(Volunteer.id)).where(Volunteer.organisation_id == source.id)
    )
    for member in (Volunteer, Site, PlanningPeriod, User):
        db.session.execute(
            update(member)
            .where(member.organisation_id == source.id)
            .values(organisation_id=target.id)
        )
    db.session.execute(
        update(Organisation).where(Organisation.parent_id == source.id).values(parent_id=target.id)
    )
    if old is not None:
        db.session.delete(old)
    # The row belongs to the target: services.audit reads the source's rows as the target's.
    _record(
        audit.ORG_MERGE,
        source,
        details={"into": target.name, "into_id": target.id, "volunteers_moved": moved or 0},
        into=target.id,
    )
    db.session.flush()
    db.session.expire_all()
    db.session.delete(db.session.get_one(Organisation, source.id))
    db.session.commit()
    return moved or 0


def set_archived(node: Organisation, archived: bool) -> None:
    """Archive a node (kept with its history, marked as no longer active) or bring it back.
    The city union is never archived."""
    if node.parent_id is None:
        raise OrganisationError(_l("The city union cannot be archived."))
    node.archived_at = utcnow() if archived else None
    _record(audit.ORG_ARCHIVE if archived else audit.ORG_RESTORE, node)
    db.session.commit()


def set_may_reinforce(node: Organisation, allowed: bool) -> None:
    """Let a district's coordinators open their periods to other districts themselves (the
    city's always may: scheduler.services.scope.may_open_to_others), or stop it. Audited."""
    if node.kind != DISTRICT:
        raise OrganisationError(_l("Only a district union can be allowed this."))
    if node.may_reinforce == allowed:
        return
    node.may_reinforce = allowed
    audit.record(
        audit.ORG_REINFORCE,
        object_type="organisation",
        object_id=node.id,
        summary=node.name,
        before={"may_reinforce": not allowed},
        after={"may_reinforce": allowed},
    )
    db.session.commit()


def appoint(node: Organisation, phone: str, role: str) -> User:
    """Make the account with mobile number `phone` a coordinator or liaison of `node` (a
    liaison only of a grassroots union)."""
    if role not in APPOINTABLE:
        raise OrganisationError(_l("Choose coordinator or liaison."), "role")
    if role == LIAISON and node.kind != GRASSROOTS:
        raise OrganisationError(_l("A liaison is appointed to a grassroots union."), "role")
    try:
        e164 = normalize_mobile(phone)
    except InvalidPhone as error:
        raise OrganisationError(_l("Enter a mobile number."), "phone") from error
    user = db.session.scalars(select(User).where(User.phone == e164)).first()
    if user is None or not user.active:
        raise OrganisationError(_l("No active account has this mobile number."), "phone")
    if user.role == "admin":
        raise OrganisationError(_l("Admins see everything; they are not appointed."), "phone")
    before = audit.snapshot(user, ("role", "organisation_id"))
    user.role = role
    user.organisation_id = node.id
    _record(
        audit.ORG_APPOINT,
        node,
        before=before,
        after=audit.snapshot(user, ("role", "organisation_id")),
        details={"user_id": user.id, "name": user.name},
    )
    db.session.commit()
    return user


def appointment_node(role: str, name: str | None = None) -> Organisation | None:
    """The node a coordinator or liaison made outside Admin -> Unions (`flask create-user`, a
    promotion on the accounts page) is appointed to: the union called `name`; without a name,
    the city union when it is the only node (a city not yet divided), and no node before there
    is a tree. Any other role belongs to no node (None). Raises OrganisationError when the
    union must be chosen or is not one a `role` may be appointed to. Why it matters: a
    coordinator appointed to no node sees nothing (scheduler.services.scope)."""
    if role not in APPOINTABLE:
        if name:
            raise OrganisationError(_l("Only coordinators and liaisons belong to a union."))
        return None
    if name:
        node = db.session.scalars(
            select(Organisation).where(
                Organisation.name == " ".join(name.split()), Organisation.archived_at.is_(None)
            )
        ).first()
        if node is None:
            raise OrganisationError(_l("There is no union called %(name)s.", name=name))
        if role == LIAISON and node.kind != GRASSROOTS:
            raise OrganisationError(_l("A liaison is appointed to a grassroots union."), "role")
        return node
    nodes = list(
        db.session.scalars(select(Organisation).where(Organisation.archived_at.is_(None)).limit(2))
    )
    if not nodes:
        return None
    if len(nodes) == 1 and nodes[0].parent_id is None and role == COORDINATOR:
        return nodes[0]
    raise OrganisationError(
        _l("Choose the union they work for: appoint them on Admin → Unions."), "role"
    )


def parent_choices(node: Organisation | None, kind: str) -> list[Organisation]:
    """Nodes a `kind` node may sit under (not `node` itself nor below it), by name."""
    excluded = scope.subtree(node.id) if node is not None else frozenset()
    return [
        n
        for n in db.session.scalars(
            select(Organisation)
            .where(Organisation.kind.in_(PARENT_KINDS.get(kind, ())))
            .order_by(Organisation.kind, Organisation.name)
        )
        if n.id not in excluded
    ]


def merge_choices(node: Organisation) -> list[Organisation]:
    below = scope.subtree(node.id)
    return [
        n
        for n in db.session.scalars(
            select(Organisation).where(Organisation.kind == node.kind).order_by(Organisation.name)
        )
        if n.id not in below
    ]
