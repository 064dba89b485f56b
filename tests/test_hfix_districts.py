"""A district is a node under the city union: only those who may change the city's catalogue
(scope.may_edit_catalogue: the city's coordinators and admins) add one, on the page and in
catalogue_admin.save_district. A work unit's merge choices are those of the user's scope."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import COORDINATOR, District, Organisation, Site, User, WorkUnit
from scheduler.models.organisations import GRASSROOTS
from scheduler.services import catalogue_admin
from scheduler.services.catalogue_admin import CatalogueError
from tests.test_trust_gaps import build_city, client_of


def _districts() -> int:
    return db.session.scalar(select(func.count(District.id))) or 0


def test_only_the_city_adds_a_district(
    app: Flask, make_user: Callable[..., User], make_site: Callable[..., Site]
) -> None:
    city = build_city(make_user, make_site)
    loose = make_user(COORDINATOR, name="未任命协调员")
    before = _districts()
    for user in (city.coordinators["a"], loose):
        client = client_of(app, user)
        assert client.post("/coordinator/districts", data={"name": "丙区"}).status_code == 403
        page = client.get("/coordinator/districts").get_data(as_text=True)
        assert "Add district" not in page
        with pytest.raises(CatalogueError):
            catalogue_admin.save_district(None, "丁区", user)
    assert _districts() == before
    for key in ("city", "admin"):
        client = client_of(app, city.coordinators[key])
        assert client.post("/coordinator/districts", data={"name": f"{key}区"}).status_code == 302
    assert _districts() == before + 2
    # Renaming another district's node: refused in the service as on the page (404).
    other = city.districts["b"]
    with pytest.raises(CatalogueError):
        catalogue_admin.save_district(other, "改名", city.coordinators["a"])
    client = client_of(app, city.coordinators["a"])
    edit = f"/coordinator/districts/{other.id}/edit"
    assert client.post(edit, data={"name": "改名"}).status_code == 404


def test_merge_choices_are_the_work_units_of_the_users_scope(
    app: Flask, make_user: Callable[..., User], make_site: Callable[..., Site]
) -> None:
    city = build_city(make_user, make_site)

    def unit(name: str, key: str) -> WorkUnit:
        node = Organisation(
            kind=GRASSROOTS, name=name, parent_id=city.districts[key].organisation_id
        )
        db.session.add(node)
        db.session.flush()
        made = WorkUnit(name=name, organisation_id=node.id)
        db.session.add(made)
        return made

    units = {"a": unit("甲区单位", "a"), "b": unit("乙区单位", "b")}
    unit("甲区另一单位", "a")
    db.session.commit()
    client = client_of(app, city.coordinators["a"])
    page = client.get(f"/coordinator/work-units/{units['a'].id}/edit").get_data(as_text=True)
    assert "甲区另一单位" in page
    assert "乙区单位" not in page
