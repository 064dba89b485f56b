"""Registering writes its two rows with plain INSERTs (services.registration._insert_account):
the very rows the unit of work wrote from create_account and apply_profile (the name's sort
key, the defaults, the volunteer's node in the union tree: the work unit's, else the
district's, else the city union's), a new work unit included; the user comes back loaded
with its volunteer, so logging in reads nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select

from scheduler.extensions import db, insert_loaded
from scheduler.models import (
    VOLUNTEER,
    District,
    Organisation,
    Skill,
    User,
    Volunteer,
    VolunteerSkill,
    WorkUnit,
)
from scheduler.services.accounts import create_account
from scheduler.services.profile import ProfileData, apply_profile, clean_profile
from scheduler.services.registration import register_volunteer

NOW = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)
SKIP = {"id", "user_id", "phone", "password_hash", "created_at"}


def _tree() -> None:
    city = Organisation(kind="city", name="市总工会")
    district_node = Organisation(kind="district", name="崇川区", parent=city)
    unit_node = Organisation(kind="grassroots", name="大学工会", parent=district_node)
    db.session.add_all(
        [
            District(name="崇川区", organisation=district_node),
            District(name="无节点区"),
            WorkUnit(name="大学工会", organisation=unit_node),
            WorkUnit(name="无节点单位"),
        ]
    )
    db.session.commit()


def _district(name: str) -> int:
    found = db.session.scalar(select(District.id).where(District.name == name))
    assert found is not None
    return found


def _orm_way(data: ProfileData) -> Volunteer:
    """What registering wrote before: the unit of work's flush of the ORM objects."""
    clean = clean_profile(data)
    volunteer = Volunteer(consented_at=NOW)
    user = create_account(
        name=clean.name,
        phone=clean.phone,
        password="long-enough-9",
        role=VOLUNTEER,
        volunteer=volunteer,
        commit=False,
    )
    apply_profile(user, volunteer, clean)
    db.session.commit()
    return volunteer


def _columns(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key not in SKIP}


CASES = [
    ("大学工会", "崇川区"),  # the work unit's node
    ("无节点单位", "崇川区"),  # the district's
    ("无节点单位", "无节点区"),  # the city's
    ("新打的单位", None),  # a new work unit: the city's
    ("大学工会", None),
]


@pytest.mark.parametrize(("unit", "district"), CASES)
def test_the_same_rows_as_the_unit_of_work(
    any_db_app: Flask, unit: str, district: str | None
) -> None:
    _tree()
    district_id = _district(district) if district else None
    ours = register_volunteer(
        ProfileData("张 三", "13900139001", unit, district_id, accepts_nights=True),
        password="long-enough-9",
        consented=True,
        now=NOW,
    )
    theirs_phone = "13900139002"
    theirs = _orm_way(
        ProfileData("张 三", theirs_phone, unit + " ", district_id, accepts_nights=True)
    )
    db.session.expire_all()
    mine = db.session.scalars(select(User).where(User.phone == "+8613900139001")).one()
    other = db.session.scalars(select(User).where(User.phone == "+86" + theirs_phone)).one()
    assert mine.id == ours.id
    assert _columns(mine) == _columns(other)
    assert mine.volunteer is not None
    assert _columns(mine.volunteer) == _columns(theirs)
    assert mine.volunteer.organisation_id is not None
    assert mine.name_pinyin == "zhang san"
    assert mine.created_at is not None
    assert mine.check_password("long-enough-9")
    units = db.session.scalars(select(WorkUnit).where(WorkUnit.name == unit)).all()
    assert len(units) == 1


def test_the_new_account_is_loaded(any_db_app: Flask) -> None:
    _tree()
    user = register_volunteer(
        ProfileData("李四", "13900139003", "大学工会"), password="long-enough-9", consented=True
    )
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert user.volunteer is not None
        assert user.volunteer.user is user
        assert user.volunteer.skills == []
        assert user.volunteer.weekly_cap == 5
        assert user.active
        assert user.created_at is not None
        assert user.get_id() == str(user.id)
        assert user in db.session
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert seen == []


def test_insert_loaded_refuses_a_server_default(app: Flask) -> None:
    with pytest.raises(ValueError, match="server default"):
        insert_loaded(Organisation, {"kind": "city", "name": "市总工会"})


def test_a_registration_through_the_form_reads_no_node(app: Flask) -> None:
    """The district and the work unit come with their node ids: the volunteer's node is not
    read (nor the city union, when the work unit has a node)."""
    _tree()
    client = app.test_client()
    form = {
        "name": "王五",
        "phone": "13900139004",
        "password": "long-enough-9",
        "work_unit": "大学工会",
        "district": str(_district("崇川区")),
        "consent": "y",
    }
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.post("/register", data=form)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 302
    assert not [s for s in seen if "FROM organisations" in s], seen
    # districts (the choices), the number, the district, the work unit, 2 INSERTs
    assert len(seen) == 6, seen
    volunteer = db.session.scalars(
        select(Volunteer).join(User).where(User.phone == "+8613900139004")
    ).one()
    unit = db.session.scalars(select(WorkUnit).where(WorkUnit.name == "大学工会")).one()
    assert volunteer.organisation_id == unit.organisation_id
    assert volunteer.district_id == _district("崇川区")


def test_skills_given_at_registration_are_written(any_db_app: Flask) -> None:
    _tree()
    skill = Skill(code="medic", name_zh="医护", name_en="Medic")
    db.session.add(skill)
    db.session.commit()
    skill_id = skill.id
    register_volunteer(
        ProfileData("王五", "13900139004", "大学工会", skill_ids=frozenset({skill_id})),
        password="long-enough-9",
        consented=True,
    )
    db.session.expunge_all()
    held = db.session.scalars(select(VolunteerSkill.skill_id)).all()
    assert held == [skill_id]
