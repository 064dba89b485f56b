"""Editing the lists coordinators maintain: the role catalogue (岗位), skills, districts and
work units. The defaults live in services/catalogue.py; this module changes them afterwards.

Names and codes are unique in the schema; each function checks first (for a clear message)
and also turns a clash lost to a concurrent request into the same message."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from scheduler.extensions import db, rowcount
from scheduler.i18n import lazy_gettext as _l
from scheduler.models import Demand, District, Role, Site, Skill, Volunteer, WorkUnit
from scheduler.services import audit, scope
from scheduler.services.catalogue import add_missing_defaults
from scheduler.services.errors import ServiceError

CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
MAX_CATALOGUE_NAME = 60
MAX_DISTRICT_NAME = 60
MAX_WORK_UNIT_NAME = 100
MAX_SORT_ORDER = 999


class CatalogueError(ServiceError):
    """Why a change to a list is refused; `field` names the form field it belongs to."""


@dataclass
class RoleData:
    """The values the role form edits (`code` only matters when creating)."""

    name_zh: str
    name_en: str
    required_skill_id: int | None = None
    requires_training: bool = False
    is_lead: bool = False
    sort_order: int = 0
    code: str = ""


@dataclass
class SkillData:
    """The values the skill form edits (`code` only matters when creating)."""

    name_zh: str
    name_en: str
    is_qualification: bool = False
    code: str = ""


ROLE_FIELDS = (
    "code",
    "name_zh",
    "name_en",
    "required_skill_id",
    "requires_training",
    "is_lead",
    "sort_order",
)
SKILL_FIELDS = ("code", "name_zh", "name_en", "is_qualification")
NAME_FIELDS = ("name",)
_OBJECT_TYPES: dict[type, str] = {
    Role: "role",
    Skill: "skill",
    District: "district",
    WorkUnit: "work_unit",
}


def _commit(
    message: object,
    field: str,
    obj: Role | Skill | District | WorkUnit | None = None,
    before: dict[str, object] | None = None,
    fields: tuple[str, ...] = (),
) -> None:
    """Commit (recording the saved `obj` in the audit log, fields compared with `before`);
    a unique-name clash becomes CatalogueError(message, field) with nothing written."""
    try:
        if obj is not None:
            db.session.flush()
            audit.record(
                audit.CATALOGUE_SAVE,
                object_type=_OBJECT_TYPES[type(obj)],
                object_id=obj.id,
                summary=_label(obj),
                before=before or {},
                after=audit.snapshot(obj, fields),
                district_id=obj.id if isinstance(obj, District) else None,
                organisation_id=obj.organisation_id
                if isinstance(obj, District | WorkUnit)
                else None,
            )
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise CatalogueError(message, field) from error


def _label(obj: Role | Skill | District | WorkUnit) -> str:
    return obj.name if isinstance(obj, District | WorkUnit) else f"{obj.name_zh} / {obj.name_en}"


def _clean_name(value: str, limit: int, field: str) -> str:
    name = (value or "").strip()
    if not name or len(name) > limit:
        raise CatalogueError(_l("Name must be 1 to %(n)d characters.", n=limit), field)
    return name


def _clean_code(value: str, model: type[Role] | type[Skill]) -> str:
    code = (value or "").strip()
    if not CODE_PATTERN.match(code):
        raise CatalogueError(
            _l("Code: 2 to 40 lower-case letters, digits or _, starting with a letter."), "code"
        )
    if db.session.scalar(select(model.id).where(model.code == code)) is not None:
        raise CatalogueError(_l("This code is already used."), "code")
    return code


# Roles ------------------------------------------------------------------------------------


def list_roles() -> list[Role]:
    """The catalogue in display order, with each role's required skill."""
    return list(
        db.session.scalars(
            select(Role)
            .options(selectinload(Role.required_skill))
            .order_by(Role.sort_order, Role.id)
        )
    )


NOT_CITY = _l("Roles and skills are the whole city's: the city union's coordinators change them.")


def _check_editor(by: Any) -> None:
    """Refuse a catalogue change by someone who may only read it (scope.may_edit_catalogue)."""
    if not scope.may_edit_catalogue(by):
        raise CatalogueError(NOT_CITY)


def save_role(role: Role | None, data: RoleData, by: Any = None) -> Role:
    """Create (role=None) or edit a role, as `by` (None: an internal caller); raises
    CatalogueError with nothing written."""
    _check_editor(by)
    name_zh = _clean_name(data.name_zh, MAX_CATALOGUE_NAME, "name_zh")
    name_en = _clean_name(data.name_en, MAX_CATALOGUE_NAME, "name_en")
    if not 0 <= data.sort_order <= MAX_SORT_ORDER:
        raise CatalogueError(
            _l("Order is a number from 0 to %(n)d.", n=MAX_SORT_ORDER), "sort_order"
        )
    if data.required_skill_id is not None and db.session.get(Skill, data.required_skill_id) is None:
        raise CatalogueError(_l("Choose a skill from the list."), "required_skill_id")
    before = audit.snapshot(role, ROLE_FIELDS) if role is not None else None
    if role is None:
        role = Role(code=_clean_code(data.code, Role))
        db.session.add(role)
    role.name_zh = name_zh
    role.name_en = name_en
    role.required_skill_id = data.required_skill_id
    role.requires_training = data.requires_training
    role.is_lead = data.is_lead
    role.sort_order = data.sort_order
    _commit(_l("This code is already used."), "code", role, before, ROLE_FIELDS)
    return role


def add_default_catalogue(by: Any) -> int:
    """Add, as `by`, the default roles and skills that are missing: a new database has none,
    and a site's staffing table has a row per role. Each one added is recorded in the audit
    log; edited ones are left as they are. Returns how many were added (0 when
    someone added them at the same moment)."""
    _check_editor(by)
    added = add_missing_defaults()
    try:
        db.session.flush()
        for obj in added:
            audit.record(
                audit.CATALOGUE_SAVE,
                object_type=_OBJECT_TYPES[type(obj)],
                object_id=obj.id,
                summary=_label(obj),
                after=audit.snapshot(obj, ROLE_FIELDS if isinstance(obj, Role) else SKILL_FIELDS),
            )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return 0
    return len(added)


def role_usage(role: Role) -> list[str]:
    """Names of the sites whose demand uses the role."""
    return list(
        db.session.scalars(
            select(Site.name)
            .join(Demand, Demand.site_id == Site.id)
            .where(Demand.role_id == role.id)
            .distinct()
            .order_by(Site.name)
        )
    )


def delete_role(role: Role, by: Any = None) -> None:
    """Delete a role no site needs, as `by` (None: an internal caller). Refused
    (CatalogueError) while any demand uses it, or while anything else still refers to it, so
    history is never broken."""
    _check_editor(by)
    sites = role_usage(role)
    if sites:
        raise CatalogueError(
            _l(
                "This role is still needed at %(sites)s. Set its head count to 0 there first.",
                sites="、".join(sites[:5]) + ("…" if len(sites) > 5 else ""),
            )
        )
    audit.record(
        audit.CATALOGUE_DELETE,
        object_type="role",
        object_id=role.id,
        summary=_label(role),
        before=audit.snapshot(role, ROLE_FIELDS),
    )
    db.session.delete(role)
    _commit(_l("This role is still in use and cannot be deleted."), "")


# Skills -----------------------------------------------------------------------------------


def list_skills() -> list[Skill]:
    """All skills by code."""
    return list(db.session.scalars(select(Skill).order_by(Skill.code)))


def save_skill(skill: Skill | None, data: SkillData, by: Any = None) -> Skill:
    """Create (skill=None) or edit a skill, as `by` (None: an internal caller); raises
    CatalogueError with nothing written."""
    _check_editor(by)
    name_zh = _clean_name(data.name_zh, MAX_CATALOGUE_NAME, "name_zh")
    name_en = _clean_name(data.name_en, MAX_CATALOGUE_NAME, "name_en")
    before = audit.snapshot(skill, SKILL_FIELDS) if skill is not None else None
    if skill is None:
        skill = Skill(code=_clean_code(data.code, Skill))
        db.session.add(skill)
    skill.name_zh = name_zh
    skill.name_en = name_en
    skill.is_qualification = data.is_qualification
    _commit(_l("This code is already used."), "code", skill, before, SKILL_FIELDS)
    return skill


# Districts and work units ----------------------------------------------------------------


def list_districts(user: Any = None) -> list[District]:
    """All districts by name (those in `user`'s scope when given)."""
    stmt = select(District).order_by(District.name)
    return list(db.session.scalars(scope.restrict(stmt, District.organisation_id, user)))


NOT_CITY_DISTRICT = _l("Districts are the city's: the city union's coordinators add them.")


def save_district(district: District | None, name: str, by: Any = None) -> District:
    """Add (district=None) or rename a district, as `by` (None: an internal caller); names
    are unique. A new district is a node under the city union: only those who may change the
    city's catalogue add one (scope.may_edit_catalogue); a district is renamed by those whose
    scope holds it."""
    if district is None and not scope.may_edit_catalogue(by):
        raise CatalogueError(NOT_CITY_DISTRICT)
    if district is not None and not scope.in_scope(district, by):
        raise CatalogueError(NOT_CITY_DISTRICT)
    name = _clean_name(name, MAX_DISTRICT_NAME, "name")
    clash = select(District.id).where(District.name == name)
    if district is not None:
        clash = clash.where(District.id != district.id)
    if db.session.scalar(clash) is not None:
        raise CatalogueError(_l("This name is already used."), "name")
    before = audit.snapshot(district, NAME_FIELDS) if district is not None else None
    if district is None:
        district = District()
        db.session.add(district)
    district.name = name
    _commit(_l("This name is already used."), "name", district, before, NAME_FIELDS)
    return district


def list_work_units(user: Any = None) -> list[tuple[WorkUnit, int]]:
    """Work units by name (those in `user`'s scope when given), each with how many volunteers
    belong to it (one grouped query)."""
    counts = (
        select(Volunteer.work_unit_id, func.count(Volunteer.id).label("n"))
        .group_by(Volunteer.work_unit_id)
        .subquery()
    )
    rows = db.session.execute(
        scope.restrict(
            select(WorkUnit, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.work_unit_id == WorkUnit.id)
            .order_by(WorkUnit.name),
            WorkUnit.organisation_id,
            user,
        )
    )
    return [(unit, count) for unit, count in rows]


def save_work_unit(unit: WorkUnit | None, name: str) -> WorkUnit:
    """Add (unit=None) or rename a work unit; names are unique."""
    name = _clean_name(name, MAX_WORK_UNIT_NAME, "name")
    clash = select(WorkUnit.id).where(WorkUnit.name == name)
    if unit is not None:
        clash = clash.where(WorkUnit.id != unit.id)
    if db.session.scalar(clash) is not None:
        raise CatalogueError(
            _l("This name is already used. To combine the two, merge them instead."), "name"
        )
    before = audit.snapshot(unit, NAME_FIELDS) if unit is not None else None
    if unit is None:
        unit = WorkUnit()
        db.session.add(unit)
    unit.name = name
    _commit(
        _l("This name is already used. To combine the two, merge them instead."),
        "name",
        unit,
        before,
        NAME_FIELDS,
    )
    return unit


def merge_work_units(source: WorkUnit, target: WorkUnit) -> int:
    """Move every volunteer of `source` to `target` and delete `source`, in one transaction
    (a failure leaves both as they were). Returns how many volunteers moved."""
    if source.id == target.id:
        raise CatalogueError(_l("Choose a different work unit to merge into."), "target_id")
    source_id, target_id = source.id, target.id
    summary = f"{source.name} → {target.name}"
    try:
        moved = rowcount(
            update(Volunteer)
            .where(Volunteer.work_unit_id == source_id)
            .values(work_unit_id=target_id)
            .execution_options(synchronize_session="fetch")
        )
        db.session.execute(delete(WorkUnit).where(WorkUnit.id == source_id))
        db.session.expunge(source)
        audit.record(
            audit.WORK_UNIT_MERGE,
            object_type="work_unit",
            object_id=target_id,
            summary=summary,
            details={"merged_id": source_id, "volunteers_moved": moved or 0},
            organisation_id=target.organisation_id,
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return moved or 0
