"""A liaison imports 20 members of their grassroots union (whatever work unit the file names)
and sees only them; a district coordinator's import of someone of another district's union
writes nothing (issue 13). SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import (
    CITY,
    COORDINATOR,
    GRASSROOTS,
    LIAISON,
    District,
    Organisation,
    User,
    Volunteer,
    WorkUnit,
)
from tests.fixtures.auth import signed_in
from tests.test_import import confirm, token_of, upload


def _tree() -> dict[str, Organisation]:
    city = Organisation(kind=CITY, name="市总工会")
    db.session.add(city)
    db.session.flush()
    districts = {name: District(name=name) for name in ("甲区", "乙区")}
    db.session.add_all(districts.values())
    db.session.flush()  # each district gets its node under the city
    nodes = {"city": city}
    for name, district in districts.items():
        assert district.organisation is not None
        nodes[name] = district.organisation
    for name, home in (("甲厂", "甲区"), ("乙厂", "乙区")):
        nodes[name] = Organisation(kind=GRASSROOTS, name=name, parent=nodes[home])
        db.session.add(WorkUnit(name=name, organisation=nodes[name]))
    db.session.commit()
    return nodes


def test_liaison_imports_members_of_their_union_and_sees_only_them(
    any_db_app: Flask, make_user: Callable[..., User], tmp_path: Path
) -> None:
    any_db_app.config["IMPORT_DIR"] = str(tmp_path)
    nodes = _tree()
    outsider = make_user(name="乙厂人")
    assert outsider.volunteer is not None
    outsider.volunteer.work_unit = db.session.scalars(
        select(WorkUnit).where(WorkUnit.name == "乙厂")
    ).one()
    liaison = make_user(LIAISON, name="甲厂联络员")
    liaison.organisation_id = nodes["甲厂"].id
    db.session.commit()

    client = signed_in(any_db_app, liaison)
    rows = "".join(f"会员{n:02d},139123450{n:02d},乙厂\n" for n in range(20))
    response = upload(client, f"姓名,手机号,工作单位\n{rows}".encode(), work_unit="乙厂")
    token = token_of(response)
    page = client.get(f"/coordinator/import/{token}").get_data(as_text=True)
    assert "甲厂" in page  # the preview shows the liaison's union, not the file's
    done = confirm(client, token, page)
    assert done.status_code == 302, done.get_data(as_text=True)[:500]

    imported = db.session.scalars(select(Volunteer).join(User).where(User.name.like("会员%"))).all()
    assert len(imported) == 20
    assert {v.organisation_id for v in imported} == {nodes["甲厂"].id}
    assert {v.work_unit.name for v in imported if v.work_unit} == {"甲厂"}

    pool = client.get("/coordinator/volunteers").get_data(as_text=True)
    assert len(set(re.findall(r"会员\d\d", pool))) == 20
    assert "乙厂人" not in pool
    assert client.get(f"/coordinator/volunteers/{outsider.volunteer.id}").status_code == 404
    assert client.get(f"/coordinator/volunteers/{imported[0].id}").status_code == 200
    assert client.get("/coordinator/sites").status_code == 403


def test_district_coordinator_cannot_import_into_another_district(
    any_db_app: Flask, make_user: Callable[..., User], tmp_path: Path
) -> None:
    any_db_app.config["IMPORT_DIR"] = str(tmp_path)
    nodes = _tree()
    coordinator = make_user(COORDINATOR, name="甲区协调员")
    coordinator.organisation_id = nodes["甲区"].id
    db.session.commit()
    client = signed_in(any_db_app, coordinator)
    before = db.session.scalar(select(func.count(Volunteer.id)))
    token = token_of(upload(client, "姓名,手机号,工作单位\n越界,13912345099,乙厂\n".encode()))
    page = client.get(f"/coordinator/import/{token}").get_data(as_text=True)
    refused = confirm(client, token, page)
    assert refused.status_code == 409
    assert "越界" in refused.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Volunteer.id))) == before
    # A new work unit named in the file lands under the importer's district.
    token = token_of(upload(client, "姓名,手机号,工作单位\n新人,13912345098,甲区新厂\n".encode()))
    page = client.get(f"/coordinator/import/{token}").get_data(as_text=True)
    assert confirm(client, token, page).status_code == 302
    unit = db.session.scalars(select(WorkUnit).where(WorkUnit.name == "甲区新厂")).one()
    assert unit.organisation is not None
    assert unit.organisation.parent_id == nodes["甲区"].id
