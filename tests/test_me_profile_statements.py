"""/me shows the volunteer's profile (work unit, district, skills) at the same SQL cost however
many skills they have and whether a work unit and district are set: one statement, not one lazy
load per skill plus the work unit and the district."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import District, PlanningPeriod, Skill, User, VolunteerSkill, WorkUnit
from tests.fixtures.auth import login
from tests.fixtures.statements import statements


def me_statements(flask_app: Flask, user: User) -> tuple[int, str]:
    client: FlaskClient = flask_app.test_client()
    login(client, user)
    client.get("/me")  # warm caches (catalogue, translations) as a running server has them
    with statements() as seen:
        page = client.get("/me")
    assert page.status_code == 200
    return len(seen), page.get_data(as_text=True)


def test_me_profile_costs_the_same_with_many_skills_a_work_unit_and_a_district(
    app: Flask,
    make_volunteer: Callable[..., User],
    make_period: Callable[..., PlanningPeriod],
) -> None:
    make_period()
    bare = make_volunteer(name="没填写")
    full = make_volunteer(
        name="填满了",
        work_unit=WorkUnit(name="南通供电公司"),
        district=District(name="崇川区"),
        emergency_name="王大明",
        emergency_phone="+8613700137000",
    )
    skills = db.session.scalars(select(Skill).order_by(Skill.id)).all()[:3]
    assert len(skills) == 3
    assert full.volunteer is not None
    full.volunteer.skills.extend(VolunteerSkill(skill=s) for s in skills)
    db.session.commit()

    bare_count, _ = me_statements(app, bare)
    full_count, page = me_statements(app, full)

    assert full_count == bare_count
    assert "南通供电公司" in page
    assert "崇川区" in page
    for skill in skills:
        assert skill.name_en in page
