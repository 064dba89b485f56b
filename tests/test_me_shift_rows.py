"""/me reads the volunteer's shifts with everything their cards show -- the site, the role, the
period's coordinator on duty, their answer and the crew of each shift -- in one statement, on
SQLite and on PostgreSQL: the crews come as a JSON list per shift (models.json_rows)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import COORDINATOR, PlanningPeriod, Site, Skill, User, VolunteerSkill
from scheduler.models.json_rows import json_rows
from scheduler.services import my_shifts
from tests.fixtures.auth import login
from tests.fixtures.rosters import make_roster

MON = date(2026, 12, 7)
NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def client(any_db_app: Flask) -> FlaskClient:
    return any_db_app.test_client()


def test_json_rows_is_a_list_of_rows_and_an_empty_list_for_none(
    client: FlaskClient, make_volunteer: Callable[..., User]
) -> None:
    skilled = make_volunteer(name="有技能")
    bare = make_volunteer(name="没技能")
    assert skilled.volunteer is not None
    assert bare.volunteer is not None
    skill = db.session.scalars(select(Skill).order_by(Skill.id)).first()
    assert skill is not None
    db.session.add(VolunteerSkill(volunteer_id=skilled.volunteer.id, skill_id=skill.id))
    db.session.commit()

    def skills_of(volunteer_id: int) -> list[list[object]]:
        rows: list[list[object]] = db.session.scalar(
            select(json_rows(VolunteerSkill.skill_id, Skill.name_zh, Skill.is_qualification))
            .join(Skill, Skill.id == VolunteerSkill.skill_id)
            .where(VolunteerSkill.volunteer_id == volunteer_id)
        )
        return rows

    [[skill_id, name, qualification]] = skills_of(skilled.volunteer.id)
    assert (skill_id, name) == (skill.id, skill.name_zh)
    assert bool(qualification) == skill.is_qualification  # true/false, or 1/0 on SQLite
    assert skills_of(bare.volunteer.id) == []


def _one_leadless_shift(
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
) -> tuple[User, PlanningPeriod]:
    site = make_site(name="东门")
    period = make_period(start=MON, end=MON, sites=[site])
    me = make_volunteer(name="我自己")
    other = make_volunteer(name="队友甲")
    make_roster(
        period,
        [(site, MON, "day", "code_checker", me), (site, MON, "day", "code_checker", other)],
        version=1,
    )
    return me, period


def test_a_leadless_card_names_the_periods_coordinator_on_duty_while_active(
    client: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
    make_user: Callable[..., User],
) -> None:
    monkeypatch.setattr(my_shifts, "utcnow", lambda: NOW)
    me, period = _one_leadless_shift(make_site, make_period, make_volunteer)
    on_duty = make_user(role=COORDINATOR, name="值班的协调员")
    make_user(role=COORDINATOR, name="另一位协调员")
    period.contact_id = on_duty.id
    db.session.commit()
    login(client, me)
    body = client.get("/me").get_data(as_text=True)
    assert "值班的协调员" in body
    assert "另一位协调员" not in body  # the one on duty, not everyone covering the period
    assert "队友甲" in body
    on_duty.active = False
    db.session.commit()
    body = client.get("/me").get_data(as_text=True)
    assert "值班的协调员" not in body
    assert "另一位协调员" in body


def test_the_card_reads_its_site_role_and_window_from_the_row(
    client: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
) -> None:
    monkeypatch.setattr(my_shifts, "utcnow", lambda: NOW)
    me, _period = _one_leadless_shift(make_site, make_period, make_volunteer)
    assert me.volunteer is not None
    site = db.session.scalars(select(Site).where(Site.name == "东门")).one()
    [card] = my_shifts.my_shifts(me.volunteer).upcoming
    assert (card.site.id, card.site.name, card.site.address) == (site.id, site.name, site.address)
    assert (card.start, card.end) == site.shift_window(MON, "day")
    assert card.role.name_zh
    assert not card.i_lead
    assert card.teammates == ["队友甲"]
