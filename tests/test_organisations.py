"""Managing the union tree (services.organisations and the admin pages): create, rename,
move (never under its own descendant), merge, archive and appoint — on SQLite and PostgreSQL.
Each refused change writes nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import (
    CITY,
    DISTRICT,
    GRASSROOTS,
    LIAISON,
    District,
    Organisation,
    Site,
    User,
    WorkUnit,
)
from scheduler.services import organisations, scope
from scheduler.services.organisations import OrganisationError
from tests.fixtures.auth import signed_in


@pytest.fixture
def city(any_db_app: Flask) -> Organisation:
    root = Organisation(kind=CITY, name="市总工会")
    db.session.add(root)
    db.session.commit()
    return root


def test_create_rename_move_and_refusals(city: Organisation) -> None:
    a = organisations.create(DISTRICT, "甲区", city)
    b = organisations.create(DISTRICT, "乙区", city)
    plant = organisations.create(GRASSROOTS, "电厂工会", a)
    # Each node keeps its picker row in step.
    district = db.session.scalars(select(District).where(District.name == "甲区")).one()
    assert district.organisation_id == a.id
    unit = db.session.scalars(select(WorkUnit).where(WorkUnit.name == "电厂工会")).one()
    assert unit.organisation_id == plant.id

    organisations.rename(plant, "电力工会")
    assert unit.name == "电力工会"
    organisations.move(plant, b)
    assert plant.parent_id == b.id
    assert plant.id in scope.subtree(b.id)
    assert plant.id not in scope.subtree(a.id)

    with pytest.raises(OrganisationError):
        organisations.move(a, a)  # a district only sits under the city, never itself
    deeper = organisations.create(GRASSROOTS, "车间工会", city)
    with pytest.raises(OrganisationError):
        organisations.create(DISTRICT, "丙区", plant)  # a district under a grassroots union
    with pytest.raises(OrganisationError):
        organisations.create(DISTRICT, "甲区", city)  # the name is taken
    db.session.rollback()
    assert deeper.parent_id == city.id
    with pytest.raises(OrganisationError):
        organisations.set_archived(city, True)
    organisations.set_archived(b, True)
    assert b.archived_at is not None


def test_move_under_descendant_is_refused(
    city: Organisation, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = organisations.create(DISTRICT, "甲区", city)
    b = organisations.create(DISTRICT, "乙区", city)
    unit = organisations.create(GRASSROOTS, "甲厂", a)
    # The kinds alone already forbid most cycles (a district sits only under the city); with
    # unions nested in unions allowed, moving one under its own child is still refused.
    inner = Organisation(kind=GRASSROOTS, name="内层", parent_id=unit.id)
    db.session.add(inner)
    db.session.commit()
    monkeypatch.setitem(organisations.PARENT_KINDS, GRASSROOTS, (DISTRICT, CITY, GRASSROOTS))
    with pytest.raises(OrganisationError):
        organisations.move(unit, inner)
    db.session.rollback()
    assert db.session.get(Organisation, unit.id).parent_id == a.id  # type: ignore[union-attr]  # it exists
    assert b.parent_id == city.id


def test_merge_moves_members_sites_and_children(
    city: Organisation, make_user: Callable[..., User]
) -> None:
    a = organisations.create(DISTRICT, "甲区", city)
    b = organisations.create(DISTRICT, "乙区", city)
    plant = organisations.create(GRASSROOTS, "电厂工会", b)
    district_b = db.session.scalars(select(District).where(District.name == "乙区")).one()
    site = Site(name="乙区点位", kind="testing", district=district_b)
    db.session.add(site)
    db.session.commit()
    member = make_user(name="乙区人", district_id=district_b.id)
    assert member.volunteer is not None
    assert member.volunteer.organisation_id == b.id
    assert site.organisation_id == b.id

    moved = organisations.merge(b, a)
    assert moved == 1
    db.session.expire_all()
    assert db.session.get(Organisation, b.id) is None
    assert db.session.get(Organisation, plant.id).parent_id == a.id  # type: ignore[union-attr]  # kept
    assert db.session.get(Site, site.id).organisation_id == a.id  # type: ignore[union-attr]  # kept
    volunteer = db.session.get(User, member.id).volunteer  # type: ignore[union-attr]  # kept
    assert volunteer is not None
    assert volunteer.organisation_id == a.id
    assert db.session.scalars(select(District.name)).all() == ["甲区"]
    with pytest.raises(OrganisationError):
        organisations.merge(a, plant)  # different kinds


def test_appoint_a_liaison_and_a_coordinator(
    city: Organisation, make_user: Callable[..., User]
) -> None:
    a = organisations.create(DISTRICT, "甲区", city)
    plant = organisations.create(GRASSROOTS, "电厂工会", a)
    person = make_user(name="联络人", phone="+8613900000777")
    with pytest.raises(OrganisationError):
        organisations.appoint(a, "13900000777", LIAISON)  # a liaison only of a grassroots union
    db.session.rollback()
    organisations.appoint(plant, "13900000777", LIAISON)
    assert (person.role, person.organisation_id) == (LIAISON, plant.id)
    assert scope.visible_org_ids(person) == frozenset({plant.id})
    organisations.appoint(a, "139 0000 0777", "coordinator")
    assert scope.visible_org_ids(person) == frozenset({a.id, plant.id})
    with pytest.raises(OrganisationError):
        organisations.appoint(a, "13900000999", "coordinator")  # nobody has this number


def test_admin_pages_manage_the_tree(
    city: Organisation, any_db_app: Flask, make_user: Callable[..., User]
) -> None:
    admin = make_user("admin", name="管理员")
    client = signed_in(any_db_app, admin)
    page = client.get("/admin/organisations")
    assert page.status_code == 200
    assert "市总工会" in page.get_data(as_text=True)
    added = client.post(
        "/admin/organisations", data={"kind": "district", "name": "新区", "parent_id": city.id}
    )
    assert added.status_code == 302
    node = db.session.scalars(select(Organisation).where(Organisation.name == "新区")).one()
    bad = client.post(
        f"/admin/organisations/{node.id}/move", data={"parent_id": node.id}
    )  # under itself
    assert bad.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organisation, node.id).parent_id == city.id  # type: ignore[union-attr]  # exists
    renamed = client.post(f"/admin/organisations/{node.id}/rename", data={"name": "更名区"})
    assert renamed.status_code == 302
    db.session.expire_all()
    assert db.session.scalars(select(District.name)).all() == ["更名区"]
    detail = client.get(f"/admin/organisations/{node.id}").get_data(as_text=True)
    assert "更名区" in detail
