"""Who sees what: the one home of the scope rule (issue 13).

A coordinator appointed to a node of the union tree sees and manages what belongs to that node
and the nodes below it; a coordinator of the city union and an admin see everything; a liaison
sees the members of their grassroots union (and its children) only.

A coordinator appointed to no node sees nothing of anybody's (`visible_org_ids`): being made a
coordinator on the accounts page or by `flask create-user` is not an appointment, and a city
expects a new coordinator to see no one's phone numbers until an admin says which union they
work for (Admin -> Unions). Both ways of making a coordinator appoint them to the city union
when it is the only node and otherwise ask for the union
(scheduler.services.organisations.appointment_node). Before there is a tree at all (no
organisation rows: nothing is divided, every row's node is empty) such a coordinator sees
everything, as everyone does.

Every list a coordinator or liaison sees is filtered here (`restrict`, `volunteers_in_scope`,
`sites_in_scope`, `periods_in_scope`) and every object a URL or a form names is checked here
(`in_scope`, `get_in_scope`), so an id from another district is "not found" everywhere — never
a page, a count, a candidate or a row of an export. Who is told of something that happens in
a scope (an urgent request) is `staff_covering`; who may change the city-wide role catalogue
is `may_edit_catalogue`.

Reinforcement (drawing on other districts). A period draws on the volunteers of its own node
and below, plus those of the nodes it is opened to (`PlanningPeriod.reinforcements`; the
city's node means every district), plus, while one of its urgent requests is escalated and not
withdrawn, those of its node's parent (`draws_on`). `eligible_volunteer_ids` and `may_serve`
are the one rule: the solver's problem, hand-edit candidates, self-sign-up and the dashboard's
counts all go through them. The city's coordinators may open any period; a district's
coordinators their own periods when the city allows it (`Organisation.may_reinforce`)
(`may_open_to_others`).

Seeing a reinforcing volunteer. The coordinators of a period's node see, on that period's
rosters, printouts and roster exports, everyone the period draws on who is on it — name,
masked phone (`phone_as_seen`), home union — and, as candidates for its posts, everyone it
draws on. They do not see the other district's pool: its volunteer pages, search, counts and
exports stay "not found" (the pool pages filter by `volunteers_in_scope`, which reinforcement
does not widen), and their own periods stay "not found" to the other district's coordinators
even though the period draws on that district's volunteers (`on_roster_only`).

Phones. Every number a coordinator reads in a list or an export goes through `phone_as_seen`
(`phone_seen_by` for lists of people they message). The check-in page is deliberately exempt
(services.attendance.Shift.full_phone): whoever may mark a shift -- its lead while check-in
is open, staff whose scope holds the site -- sees the rostered people's numbers in full,
reinforcements included, because they must call whoever is late (the product brief: "call a
volunteer who is late"); walk-ins stay masked to a lead."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any, NamedTuple, TypeVar

from flask import has_request_context, request
from sqlalchemy import ColumnElement, Select, bindparam, or_, select

from scheduler.extensions import db
from scheduler.models import (
    ADMIN,
    CITY,
    COORDINATOR,
    DISTRICT,
    LIAISON,
    STAFF_ROLES,
    Assignment,
    CallUp,
    District,
    Organisation,
    PlanningPeriod,
    Roster,
    Site,
    SolveRun,
    UrgentRequest,
    User,
    Volunteer,
    WorkUnit,
)
from scheduler.models.json_rows import json_rows
from scheduler.services.phones import mask, national

S = TypeVar("S", bound=Select)  # any Select, whatever its columns
M = TypeVar("M")

# None: no limit (the whole city); otherwise the ids of the nodes the user may see.
OrgIds = frozenset[int] | None


_TREE = select(Organisation.id, Organisation.parent_id)


class Tree:
    """The union tree as one read of the organisations table (id -> parent id), to answer
    every scope question of one call with one statement (`staff_users_covering` asks it for
    each distinct appointment). Read when first asked, unless the caller read it already
    (`parent`); never kept beyond the call that made it: a node moved later is seen by the
    next call."""

    def __init__(self, parent: dict[int, int | None] | None = None) -> None:
        self._parent = parent

    @property
    def parent(self) -> dict[int, int | None]:
        if self._parent is None:
            self._parent = dict(db.session.execute(_TREE).all())
        return self._parent

    def exists(self) -> bool:
        """Whether the city has a tree (`has_tree`), from this read when it is made."""
        return bool(self._parent) if self._parent is not None else has_tree()

    def subtree(self, org_id: int) -> frozenset[int]:
        """The node and every node below it, walked in memory."""
        children: dict[int | None, list[int]] = {}
        for node_id, parent_id in self.parent.items():
            children.setdefault(parent_id, []).append(node_id)
        seen = {org_id}
        todo = [org_id]
        while todo:
            for child in children.get(todo.pop(), []):
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        return frozenset(seen)

    def under(self, org_id: int | None) -> OrgIds:
        """The nodes at and below `org_id`: None (everything) for the city union, no node or
        a node that does not exist."""
        if org_id is None or self.parent.get(org_id) is None:
            return None
        return self.subtree(org_id)


def subtree(org_id: int) -> frozenset[int]:
    """The node and every node below it (the tree is small: one query, walked in memory)."""
    return Tree().subtree(org_id)


def under(org_id: int | None) -> OrgIds:
    """The nodes at and below `org_id`: None (everything) for the city union or no node."""
    if org_id is None:
        return None
    return Tree().under(org_id)


def draws_on(period: PlanningPeriod) -> OrgIds:
    """The nodes whose volunteers the period may draw on (None: the whole city): its own node
    and below, the nodes it is opened to and below, and its node's parent and below while one
    of its urgent requests is escalated and not withdrawn (see the module docstring)."""
    ids = under(period.organisation_id)
    if ids is None:
        return None
    extra: list[int | None] = [n.id for n in period.reinforcements]
    node = db.session.get(Organisation, period.organisation_id)
    if node is not None and escalated(period.id):
        extra.append(node.parent_id)
    found = set(ids)
    for org_id in extra:
        more = under(org_id)
        if more is None:
            return None
        found |= more
    return frozenset(found)


def escalated(period_id: int) -> bool:
    """Whether one of the period's urgent requests is sent up and not withdrawn."""
    return (
        db.session.scalar(
            select(UrgentRequest.id)
            .where(
                UrgentRequest.period_id == period_id,
                UrgentRequest.escalated_at.is_not(None),
                UrgentRequest.withdrawn_at.is_(None),
            )
            .limit(1)
        )
        is not None
    )


def eligible_volunteer_ids(period: PlanningPeriod) -> Select[int]:
    """The volunteers a period may draw on: those of the nodes `draws_on` names (the whole
    city for a city-wide period or one opened to the city)."""
    ids = draws_on(period)
    stmt = select(Volunteer.id)
    return stmt if ids is None else stmt.where(Volunteer.organisation_id.in_(ids))


def may_serve(period: PlanningPeriod, volunteer: Volunteer) -> bool:
    """Whether the period may draw on the volunteer (see eligible_volunteer_ids)."""
    ids = draws_on(period)
    return ids is None or volunteer.organisation_id in ids


def may_open_to_others(user: Any, period: PlanningPeriod) -> bool:
    """Whether `user` may open `period` to other districts (or close it again): the city's
    coordinators and admins always; a coordinator of the period's node (or above it) when the
    city allows that district (`Organisation.may_reinforce` on their appointment's node)."""
    if not in_scope(period, user) or getattr(user, "role", None) not in (COORDINATOR, ADMIN):
        return False
    if sees_everything(user):
        return True
    node = db.session.get(Organisation, user.organisation_id)
    return node is not None and node.may_reinforce


def reinforcement_choices(period: PlanningPeriod) -> list[Organisation]:
    """The nodes a period may be opened to: the city (every district) and each district other
    than the period's own, not archived, the city first then by name."""
    own = under(period.organisation_id) or frozenset()
    nodes = db.session.scalars(
        select(Organisation)
        .where(Organisation.archived_at.is_(None), Organisation.kind.in_((CITY, DISTRICT)))
        .order_by(Organisation.parent_id.is_not(None), Organisation.name)
    )
    return [n for n in nodes if n.id not in own]


def on_roster_only(volunteer: Volunteer, user: Any) -> bool:
    """A volunteer `user` sees only because a period of theirs draws on them (a reinforcement
    from another district): shown on rosters with a masked phone, never as a link to their
    page (which answers 404)."""
    return user is not None and not in_scope(volunteer, user)


def phone_as_seen(phone: str, node_id: int | None, sees: Callable[[int | None], bool]) -> str:
    """A rostered volunteer's number as a coordinator reads it on a roster page or in an
    export: in full (national form) for the people of their scope, masked (138****5678) for a
    reinforcement from elsewhere, whose pool they do not see ("Seeing a reinforcing
    volunteer" above). `sees` is `node_filter(user)`; `node_id` the volunteer's node."""
    return national(phone) if sees(node_id) else mask(phone)


def phone_seen_by(viewer: Any, phone: str, node_id: int | None) -> str:
    """A number in a list `viewer` reads (a message's or a call-up's recipients), by the one
    rule `phone_as_seen`: in full for staff (coordinators and admins) when the person's node
    `node_id` is in their scope, masked for anyone else or no one (138****5678)."""
    staff = viewer is not None and getattr(viewer, "is_staff", False)
    return phone_as_seen(phone, node_id, node_filter(viewer) if staff else _nobody)


def _nobody(_node: int | None) -> bool:
    return False


def visible_org_ids(user: Any, tree: Tree | None = None) -> OrgIds:
    """The nodes `user` may see: None for everything (admins, city coordinators), a set of
    ids for district and grassroots appointments, the empty set for anyone else -- including a
    coordinator appointed to no node once there is a tree. `tree`: the tree read already by
    the caller (else it is read here)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    if user.role == ADMIN:
        return None
    if user.role == COORDINATOR:
        if user.organisation_id is None:
            # Appointed to nothing: nothing of anybody's once the city has a tree (see the
            # module docstring).
            exists = has_tree() if tree is None else tree.exists()
            return None if not exists else frozenset()
        return (tree if tree is not None else Tree()).under(user.organisation_id)
    if user.role == LIAISON and user.organisation_id is not None:
        return (tree if tree is not None else Tree()).subtree(user.organisation_id)
    return frozenset()


def may_edit_catalogue(user: Any) -> bool:
    """Whether `user` may change the role catalogue and the skills. They are the city's, not a
    district's: every site's demand, every volunteer's qualifications and every roster rule on
    skills and training read them, so a change reaches every district. Admins and the city's
    coordinators (those who see everything) change them; a district's coordinators and
    liaisons read them. `user` None is an internal caller (the CLI, tests): allowed."""
    if user is None:
        return True
    return getattr(user, "role", None) in (COORDINATOR, ADMIN) and sees_everything(user)


def unappointed(user: Any) -> bool:
    """A coordinator appointed to no node in a city that has a tree: they see nothing (see the
    module docstring), and their overview says why."""
    return (
        getattr(user, "role", None) == COORDINATOR and user.organisation_id is None and has_tree()
    )


def has_tree() -> bool:
    """Whether the city has an organisation tree yet (a deployment migrated or set up with
    its city union always has). Asked once per request (kept on the request object: an
    unappointed coordinator's every scope check asks it), each time outside one."""
    if not has_request_context():
        return _tree_exists()
    current = request._get_current_object()  # type: ignore[attr-defined]  # the real request
    known: bool | None = getattr(current, "_muster_has_tree", None)
    if known is None:
        known = _tree_exists()
        current._muster_has_tree = known
    return known


def _tree_exists() -> bool:
    return db.session.scalar(select(Organisation.id).limit(1)) is not None


def is_scoped(user: Any) -> bool:
    """Whether the user works on other people's data (coordinators, admins, liaisons), so what
    they reach is limited by their scope; volunteers and site leads are limited by ownership."""
    return getattr(user, "role", None) in (COORDINATOR, ADMIN, LIAISON)


def node_filter(user: Any) -> Callable[[int | None], bool]:
    """A test of node ids against `user`'s scope, for rows already loaded (one query for the
    whole list rather than one per row). `user` None: everything."""
    ids = None if user is None else visible_org_ids(user)
    return lambda node: ids is None or (node is not None and node in ids)


def sees_everything(user: Any) -> bool:
    return visible_org_ids(user) is None


def restrict(stmt: S, column: ColumnElement[Any] | Any, user: Any) -> S:
    """`stmt` limited to rows whose node `column` is in `user`'s scope. `user` None is an
    internal caller (the CLI, the solver's bridge, tests): no limit."""
    ids = None if user is None else visible_org_ids(user)
    return stmt if ids is None else stmt.where(column.in_(ids))


def volunteers_in_scope(user: Any) -> Select[tuple[Volunteer]]:
    return restrict(select(Volunteer), Volunteer.organisation_id, user)


def sites_in_scope(user: Any) -> Select[tuple[Site]]:
    return restrict(select(Site), Site.organisation_id, user)


def periods_in_scope(user: Any) -> Select[tuple[PlanningPeriod]]:
    return restrict(select(PlanningPeriod), PlanningPeriod.organisation_id, user)


def nodes_in_scope(user: Any) -> Select[tuple[Organisation]]:
    return restrict(select(Organisation), Organisation.id, user)


def user_ids_in_scope(user: Any) -> Select[int] | None:
    """The accounts `user` may see as recipients of messages: volunteers of their scope's
    nodes and accounts appointed to them. None: every account (no limit)."""
    ids = None if user is None else visible_org_ids(user)
    if ids is None:
        return None
    members = select(Volunteer.user_id).where(Volunteer.organisation_id.in_(ids))
    return select(User.id).where(or_(User.id.in_(members), User.organisation_id.in_(ids)))


def _node_of(obj: object) -> tuple[bool, int | None]:
    """(scoped, node id) of an object; unscoped kinds (the catalogue, accounts on the admin
    pages) are (False, None)."""
    if isinstance(obj, Organisation):
        return True, obj.id
    if isinstance(obj, Volunteer | Site | PlanningPeriod | District | WorkUnit):
        return True, obj.organisation_id
    if isinstance(obj, SolveRun | Roster | UrgentRequest | CallUp):
        period = db.session.get(PlanningPeriod, obj.period_id)
        return True, period.organisation_id if period is not None else None
    if isinstance(obj, Assignment):
        roster = db.session.get(Roster, obj.roster_id)
        return _node_of(roster) if roster is not None else (True, None)
    return False, None


def in_scope(obj: object, user: Any) -> bool:
    """Whether `user` may see `obj` (a row of any model; unscoped kinds always). `user` None
    is an internal caller (see `restrict`)."""
    scoped, node = _node_of(obj)
    if not scoped or user is None:
        return True
    return _holds(visible_org_ids(user), node)


def _holds(ids: OrgIds, node: int | None) -> bool:
    """Whether a scope (`visible_org_ids`) holds a row of node `node`."""
    return ids is None or (node is not None and node in ids)


def staff_covering(
    obj: object, exclude: int | None = None, roles: tuple[str, ...] = STAFF_ROLES
) -> list[int]:
    """The ids of the active coordinators and admins (or only `roles`) whose scope holds `obj`
    (but `exclude`), by id: who is told about something that happens there (an urgent request,
    a volunteer's cancellation of a post in a period) and whom a volunteer may call about it."""
    return [u.id for u in staff_users_covering(obj, roles) if u.id != exclude]


def staff_users_covering(obj: object, roles: tuple[str, ...] = STAFF_ROLES) -> list[User]:
    """The accounts `staff_covering` names, by id. One query for the accounts and one for the
    tree, whatever the number of appointments; each distinct appointment's scope is worked out
    once, by the rule of `in_scope`."""
    users: list[User] = []
    seen: dict[tuple[str, int | None], bool] = {}
    scoped, node = _node_of(obj)
    tree = Tree() if scoped else None
    for user in db.session.scalars(
        select(User).where(User.role.in_(roles), User.active.is_(True)).order_by(User.id)
    ):
        key = (user.role, user.organisation_id)
        if key not in seen:
            seen[key] = not scoped or _holds(visible_org_ids(user, tree), node)
        if seen[key]:
            users.append(user)
    return users


class StaffContact(NamedTuple):
    """An account to call, as `staff_contacts_covering_node` reads it."""

    id: int
    name: str
    name_pinyin: str
    phone: str


class Appointment(NamedTuple):
    """What an account's scope depends on (`visible_org_ids` reads these), for accounts read
    as columns."""

    role: str
    organisation_id: int | None
    is_authenticated: bool = True


# The active accounts of some roles with their appointments, and the union tree: one row of
# two JSON lists (models.json_rows). Built once.
_STAFF_AND_TREE = select(
    select(
        json_rows(User.id, User.name, User.name_pinyin, User.phone, User.role, User.organisation_id)
    )
    .where(User.role.in_(bindparam("roles", expanding=True)), User.active.is_(True))
    .scalar_subquery(),
    select(json_rows(Organisation.id, Organisation.parent_id)).scalar_subquery(),
)


def staff_contacts_covering_node(
    node: int | None, roles: tuple[str, ...] = STAFF_ROLES
) -> list[StaffContact]:
    """The accounts `staff_users_covering` names for a row of the union tree's node `node` (a
    period, a site, a volunteer: what `_node_of` finds), by id, as names and phones to call:
    for a caller that read the node as a column and shows the accounts to a volunteer. One
    statement, the accounts and the tree together; each distinct appointment's scope is
    worked out once, by the rule of `in_scope`."""
    # A Core statement on the session's connection: the ORM adds nothing to rows but CPU.
    connection = db.session.connection()
    accounts, tree_rows = connection.execute(_STAFF_AND_TREE, {"roles": list(roles)}).one()
    tree = Tree(dict(tree_rows))
    seen: dict[tuple[str, int | None], bool] = {}
    found = []
    for user_id, name, pinyin, phone, role, organisation_id in sorted(accounts, key=itemgetter(0)):
        key = (role, organisation_id)
        if key not in seen:
            seen[key] = _holds(visible_org_ids(Appointment(role, organisation_id), tree), node)
        if seen[key]:
            found.append(StaffContact(user_id, name, pinyin, phone))
    return found


def get_in_scope(model: type[M], ident: Any, user: Any) -> M | None:
    """The row, or None when there is none or it is outside `user`'s scope (the caller
    answers 404 either way, so nobody learns that an id exists elsewhere)."""
    obj = db.session.get(model, ident)
    return obj if obj is not None and in_scope(obj, user) else None


def all_in_scope(objs: Iterable[object], user: Any) -> bool:
    return all(in_scope(obj, user) for obj in objs)


def home_node_id(user: User | None) -> int | None:
    """The node new things a user creates belong to: their appointment, else the city's."""
    if user is not None and user.organisation_id is not None:
        return user.organisation_id
    return db.session.scalars(
        select(Organisation.id).where(Organisation.parent_id.is_(None)).order_by(Organisation.id)
    ).first()
