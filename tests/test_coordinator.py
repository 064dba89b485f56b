"""Coordinator area: every page renders with real data, access is staff only, the dashboard heat
map, the role catalogue, districts and work units (merge is atomic), and the training and
qualification sign-offs on a volunteer's page."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import (
    Availability,
    District,
    PlanningPeriod,
    Role,
    Site,
    Skill,
    User,
    Volunteer,
    VolunteerSkill,
    WorkUnit,
)
from scheduler.services import catalogue_admin
from scheduler.services.availability import default_start
from scheduler.services.dashboard import availability_counts, demand_per_span
from tests.fixtures.auth import login

HX = {"HX-Request": "true"}


@pytest.fixture
def staff(login_as: Callable[..., FlaskClient], coordinator: User) -> FlaskClient:
    return login_as(coordinator)


@pytest.fixture
def world(
    app: Flask,
    make_volunteer: Callable[..., User],
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
) -> dict[str, object]:
    """A small but complete setup: districts, work units, two sites, an open period, three
    volunteers with skills and availability."""
    district = District(name="海安市")
    unit = WorkUnit(name="国网南通供电公司")
    db.session.add_all([district, unit])
    db.session.commit()
    checkpoint = make_site(name="南通北高速卡口", district=district)
    testing = make_site(
        name="城东社区核酸检测点",
        kind="testing",
        runs_night=False,
        demand={"site_lead": 1, "registrar": 2},
    )
    period = make_period(
        start=date(2026, 12, 7), end=date(2026, 12, 9), sites=[checkpoint, testing]
    )
    medical = db.session.scalar(select(Skill).where(Skill.code == "medical"))
    driving = db.session.scalar(select(Skill).where(Skill.code == "driving"))
    wang = make_volunteer(name="王芳", phone="13812345678", work_unit=unit, district=district)
    li = make_volunteer(name="李强", phone="13987654321", partner_phone="+8613812345678")
    zhao = make_volunteer(name="赵敏", phone="13700001111", work_unit=unit)
    wang.volunteer.skills.append(VolunteerSkill(skill=medical))
    li.volunteer.skills.append(VolunteerSkill(skill=driving))
    for volunteer, cells in (
        (wang, [(7, "day"), (7, "evening"), (8, "day")]),
        (li, [(7, "day"), (9, "night")]),
        (zhao, [(7, "day"), (30, "day")]),  # Dec 30 is outside the period
    ):
        for day, shift in cells:
            db.session.add(
                Availability(
                    volunteer_id=volunteer.volunteer.id,
                    day=date(2026, 12, day),
                    start_hour=default_start(shift),
                )
            )
    db.session.commit()
    return {
        "district": district,
        "unit": unit,
        "checkpoint": checkpoint,
        "testing": testing,
        "period": period,
        "wang": wang,
        "li": li,
        "zhao": zhao,
        "medical": medical,
    }


def page_urls(world: dict[str, object]) -> list[str]:
    """Every GET page of the coordinator area, with real ids."""
    checkpoint = world["checkpoint"]
    period = world["period"]
    wang = world["wang"]
    role = db.session.scalar(select(Role).where(Role.code == "sampler"))
    skill = world["medical"]
    return [
        "/coordinator/",
        "/coordinator/sites",
        "/coordinator/sites?archived=1",
        "/coordinator/sites/new",
        "/coordinator/sites/new?kind=testing",
        f"/coordinator/sites/{checkpoint.id}/edit",
        "/coordinator/catalogue",
        "/coordinator/catalogue/roles/new",
        f"/coordinator/catalogue/roles/{role.id}/edit",
        "/coordinator/catalogue/skills/new",
        f"/coordinator/catalogue/skills/{skill.id}/edit",
        "/coordinator/periods",
        "/coordinator/periods/new",
        f"/coordinator/periods/{period.id}/edit",
        "/coordinator/districts",
        f"/coordinator/districts/{world['district'].id}/edit",
        "/coordinator/work-units",
        f"/coordinator/work-units/{world['unit'].id}/edit",
        "/coordinator/volunteers",
        f"/coordinator/volunteers/{wang.volunteer.id}",
    ]


def test_every_page_renders_for_a_coordinator(staff: FlaskClient, world: dict) -> None:
    for url in page_urls(world):
        response = staff.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert 'class="coord-nav"' in html, url
    assert "南通北高速卡口" in staff.get("/coordinator/sites").get_data(as_text=True)
    assert "城东社区核酸检测点" in staff.get("/coordinator/periods").get_data(as_text=True)
    assert "国网南通供电公司" in staff.get("/coordinator/work-units").get_data(as_text=True)
    assert "海安市" in staff.get("/coordinator/districts").get_data(as_text=True)
    catalogue = staff.get("/coordinator/catalogue").get_data(as_text=True)
    assert "查验双码" in catalogue
    assert "Medical qualification" in catalogue


def test_admin_sees_coordinator_pages(
    client: FlaskClient, make_user: Callable[..., User], world: dict
) -> None:
    login(client, make_user("admin", name="管理员"))
    for url in page_urls(world):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", ["volunteer", "site_lead"])
def test_pages_are_forbidden_to_volunteers_and_site_leads(
    client: FlaskClient, make_user: Callable[..., User], world: dict, role: str
) -> None:
    login(client, make_user(role))
    for url in page_urls(world):
        assert client.get(url).status_code == 403, url


def test_pages_send_anonymous_visitors_to_login(client: FlaskClient, world: dict) -> None:
    for url in page_urls(world):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login" in response.headers["Location"]


# Dashboard ----------------------------------------------------------------------------------


def heat_cells(html: str) -> dict[tuple[str, str], tuple[int, int]]:
    cells = re.findall(
        r'data-day="([\d-]+)" data-shift="(\w+)" data-available="(\d+)"[^>]*>\s*(\d+) / (\d+)', html
    )
    return {(d, s): (int(a), int(n)) for d, s, a, _shown, n in cells}


def test_dashboard_counts_and_heat_map_match_availability(staff: FlaskClient, world: dict) -> None:
    html = staff.get("/coordinator/").get_data(as_text=True)
    assert re.search(r"<strong>3</strong> volunteers", html)
    assert re.search(r"<strong>2</strong> active sites", html)
    assert re.search(r"<strong>1</strong> open periods", html)
    cells = heat_cells(html)
    assert len(cells) == 3 * 3  # three dates x three shifts
    # demand: checkpoint 1 lead + 2 checkers on all shifts; testing 1 + 2 on day and evening
    assert cells[("2026-12-07", "day")] == (3, 6)
    assert cells[("2026-12-07", "evening")] == (1, 6)
    assert cells[("2026-12-08", "day")] == (1, 6)
    assert cells[("2026-12-09", "night")] == (1, 3)
    assert cells[("2026-12-08", "night")] == (0, 3)
    # the cells add up to the availability rows inside the period
    inside = db.session.scalar(
        select(func.count()).where(Availability.day.between(date(2026, 12, 7), date(2026, 12, 9)))
    )
    assert sum(a for a, _ in cells.values()) == inside == 6


def test_dashboard_services_group_in_sql(world: dict) -> None:
    period = world["period"]
    counts = availability_counts(period, (0, 8, 16))
    assert counts[(date(2026, 12, 7), 8)] == 3
    assert (date(2026, 12, 30), 8) not in counts
    assert demand_per_span(period) == {0: 3, 8: 6, 16: 6}


def test_dashboard_ignores_archived_sites_and_inactive_volunteers(
    staff: FlaskClient, world: dict
) -> None:
    world["testing"].archived_at = datetime(2026, 1, 1, tzinfo=UTC)
    world["wang"].active = False
    db.session.commit()
    cells = heat_cells(staff.get("/coordinator/").get_data(as_text=True))
    assert cells[("2026-12-07", "day")] == (2, 3)


def test_dashboard_period_selector(
    staff: FlaskClient, world: dict, make_period: Callable[..., PlanningPeriod]
) -> None:
    other = make_period(start=date(2026, 12, 28), end=date(2026, 12, 31), name="第二期")
    html = staff.get(f"/coordinator/?period={other.id}").get_data(as_text=True)
    assert '<select id="period" name="period">' in html
    cells = heat_cells(html)
    assert len(cells) == 4 * 3
    assert cells[("2026-12-30", "day")] == (1, 0)
    # an unknown or closed period falls back to the first open one
    html = staff.get("/coordinator/?period=9999").get_data(as_text=True)
    assert ("2026-12-07", "day") in heat_cells(html)


def test_dashboard_without_open_period(staff: FlaskClient) -> None:
    html = staff.get("/coordinator/").get_data(as_text=True)
    assert "No planning period is open for availability." in html


# Training and qualifications ----------------------------------------------------------------


def test_volunteer_detail_shows_profile_skills_availability_and_partner(
    staff: FlaskClient, world: dict
) -> None:
    li = world["li"]
    html = staff.get(f"/coordinator/volunteers/{li.volunteer.id}").get_data(as_text=True)
    assert "13987654321" in html  # full number for coordinators
    assert "王芳" in html  # partner resolved from the phone number
    assert f"/coordinator/volunteers/{world['wang'].volunteer.id}" in html
    assert 'data-day="2026-12-07" data-shift="day"' in html
    assert 'data-day="2026-12-09" data-shift="night"' in html
    assert 'data-day="2026-12-08" data-shift="day"' not in html
    assert "Driving" in html or "驾驶" in html


def test_unregistered_partner_is_shown_as_number(
    staff: FlaskClient, make_volunteer: Callable[..., User]
) -> None:
    user = make_volunteer(partner_phone="+8613600001234")
    html = staff.get(f"/coordinator/volunteers/{user.volunteer.id}").get_data(as_text=True)
    assert "13600001234" in html
    assert "not registered" in html


def test_training_toggle_plain_post_and_htmx(staff: FlaskClient, world: dict) -> None:
    volunteer = world["wang"].volunteer
    url = f"/coordinator/volunteers/{volunteer.id}/training"
    response = staff.post(url, data={"value": "1"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/coordinator/volunteers/{volunteer.id}")
    db.session.expire_all()
    trained_at = db.session.get(Volunteer, volunteer.id).trained_at
    assert trained_at is not None
    # marking again keeps the first date
    staff.post(url, data={"value": "1"})
    db.session.expire_all()
    assert db.session.get(Volunteer, volunteer.id).trained_at == trained_at
    response = staff.post(url, data={"value": "0"}, headers=HX)
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith('<div class="coord-training" id="training">')
    assert "Mark training done" in fragment
    assert "<html" not in fragment
    db.session.expire_all()
    assert db.session.get(Volunteer, volunteer.id).trained_at is None


def test_verification_toggle(staff: FlaskClient, world: dict, coordinator: User) -> None:
    volunteer = world["wang"].volunteer
    medical = world["medical"]
    url = f"/coordinator/volunteers/{volunteer.id}/skills/{medical.id}/verification"
    response = staff.post(url, data={"value": "1"}, headers=HX)
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith(f'<tr id="skill-{medical.id}">')
    assert "协调员" in fragment  # who verified it
    entry = db.session.get(VolunteerSkill, (volunteer.id, medical.id))
    db.session.refresh(entry)
    assert entry.verified_at is not None
    assert entry.verified_by_id == coordinator.id
    assert entry.counts
    assert staff.post(url, data={"value": "0"}).status_code == 302
    db.session.refresh(entry)
    assert entry.verified_at is None
    assert entry.verified_by_id is None


def test_toggles_reject_bad_input(staff: FlaskClient, world: dict) -> None:
    volunteer = world["li"].volunteer
    driving = db.session.scalar(select(Skill).where(Skill.code == "driving"))
    base = f"/coordinator/volunteers/{volunteer.id}"
    assert staff.post(f"{base}/training", data={"value": "maybe"}).status_code == 400
    # driving is not a qualification, medical is not declared by this volunteer
    assert (
        staff.post(f"{base}/skills/{driving.id}/verification", data={"value": "1"}).status_code
        == 404
    )
    medical = world["medical"]
    assert (
        staff.post(f"{base}/skills/{medical.id}/verification", data={"value": "1"}).status_code
        == 404
    )
    assert (
        staff.post("/coordinator/volunteers/9999/training", data={"value": "1"}).status_code == 404
    )
    assert staff.get("/coordinator/volunteers/9999").status_code == 404
    db.session.expire_all()
    assert db.session.get(Volunteer, volunteer.id).trained_at is None


@pytest.mark.parametrize("role", ["volunteer", "site_lead"])
def test_toggles_are_forbidden_to_volunteers_and_site_leads(
    client: FlaskClient, make_user: Callable[..., User], world: dict, role: str
) -> None:
    actor = make_user(role)
    login(client, actor)
    volunteer = world["wang"].volunteer
    medical = world["medical"]
    base = f"/coordinator/volunteers/{volunteer.id}"
    assert client.post(f"{base}/training", data={"value": "1"}).status_code == 403
    response = client.post(f"{base}/skills/{medical.id}/verification", data={"value": "1"})
    assert response.status_code == 403
    # not even on their own record
    if actor.volunteer is not None:
        own = f"/coordinator/volunteers/{actor.volunteer.id}/training"
        assert client.post(own, data={"value": "1"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Volunteer, volunteer.id).trained_at is None
    assert db.session.get(VolunteerSkill, (volunteer.id, medical.id)).verified_at is None


def test_toggle_needs_csrf_token(app_factory: Callable[..., Flask], make_user: Callable) -> None:
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        coordinator = make_user("coordinator")
        volunteer = make_user("volunteer").volunteer
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        client.post(
            "/login",
            data={"phone": coordinator.phone, "password": "correct-horse-9", "csrf_token": token},
        )
        url = f"/coordinator/volunteers/{volunteer.id}/training"
        assert client.post(url, data={"value": "1"}).status_code == 400
        detail = client.get(f"/coordinator/volunteers/{volunteer.id}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', detail).group(1)
        assert client.post(url, data={"value": "1", "csrf_token": token}).status_code == 302
        db.session.expire_all()
        assert db.session.get(Volunteer, volunteer.id).trained_at is not None


# Catalogue --------------------------------------------------------------------------------


def role_form(**overrides: str) -> dict[str, str]:
    data = {
        "code": "traffic_guide",
        "name_zh": "交通引导",
        "name_en": "Traffic guide",
        "required_skill_id": "0",
        "sort_order": "20",
    }
    data.update(overrides)
    return data


def test_edit_role(staff: FlaskClient) -> None:
    role = db.session.scalar(select(Role).where(Role.code == "registrar"))
    medical = db.session.scalar(select(Skill).where(Skill.code == "medical"))
    response = staff.post(
        f"/coordinator/catalogue/roles/{role.id}/edit",
        data=role_form(
            code="ignored",
            name_zh="扫码登记员",
            required_skill_id=str(medical.id),
            requires_training="y",
            is_lead="",
        ),
    )
    assert response.status_code == 302
    db.session.refresh(role)
    assert (role.code, role.name_zh, role.name_en) == ("registrar", "扫码登记员", "Traffic guide")
    assert role.required_skill_id == medical.id
    assert role.requires_training
    assert not role.is_lead
    assert role.sort_order == 20


def test_add_role_and_skill(staff: FlaskClient) -> None:
    assert staff.post("/coordinator/catalogue/roles/new", data=role_form()).status_code == 302
    role = db.session.scalar(select(Role).where(Role.code == "traffic_guide"))
    assert role is not None
    assert role.name_zh == "交通引导"
    response = staff.post(
        "/coordinator/catalogue/skills/new",
        data={
            "code": "first_aid",
            "name_zh": "急救",
            "name_en": "First aid",
            "is_qualification": "y",
        },
    )
    assert response.status_code == 302
    skill = db.session.scalar(select(Skill).where(Skill.code == "first_aid"))
    assert skill is not None
    assert skill.is_qualification
    response = staff.post(
        f"/coordinator/catalogue/skills/{skill.id}/edit",
        data={"name_zh": "急救证", "name_en": "First aid certificate"},
    )
    assert response.status_code == 302
    db.session.refresh(skill)
    assert skill.name_zh == "急救证"
    assert not skill.is_qualification


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"code": "site_lead"}, "code"),  # taken
        ({"code": "Bad Code"}, "code"),
        ({"code": ""}, "code"),
        ({"name_zh": ""}, "name_zh"),
        ({"name_en": "x" * 61}, "name_en"),
        ({"sort_order": "-1"}, "sort_order"),
        ({"required_skill_id": "9999"}, "required_skill_id"),
    ],
)
def test_invalid_role_is_refused(staff: FlaskClient, overrides: dict, field: str) -> None:
    before = db.session.scalar(select(func.count(Role.id)))
    response = staff.post("/coordinator/catalogue/roles/new", data=role_form(**overrides))
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Role.id))) == before


def test_deleting_a_role_in_use_is_refused(
    staff: FlaskClient, make_site: Callable[..., Site]
) -> None:
    make_site(name="小海高速卡口", demand={"site_lead": 1, "temperature": 1})
    temperature = db.session.scalar(select(Role).where(Role.code == "temperature"))
    response = staff.post(
        f"/coordinator/catalogue/roles/{temperature.id}/delete", follow_redirects=True
    )
    html = response.get_data(as_text=True)
    assert "This role is still needed at 小海高速卡口" in html
    assert db.session.get(Role, temperature.id) is not None
    logistics = db.session.scalar(select(Role).where(Role.code == "logistics"))
    response = staff.post(f"/coordinator/catalogue/roles/{logistics.id}/delete")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(Role).where(Role.code == "logistics")) is None


# Districts and work units -----------------------------------------------------------------


def test_add_and_rename_district(staff: FlaskClient) -> None:
    assert staff.post("/coordinator/districts", data={"name": "如东县"}).status_code == 302
    district = db.session.scalar(select(District).where(District.name == "如东县"))
    response = staff.post("/coordinator/districts", data={"name": "如东县"})
    assert response.status_code == 422
    assert "This name is already used." in response.get_data(as_text=True)
    response = staff.post(f"/coordinator/districts/{district.id}/edit", data={"name": "x" * 61})
    assert response.status_code == 422
    assert (
        staff.post(
            f"/coordinator/districts/{district.id}/edit", data={"name": "如皋市"}
        ).status_code
        == 302
    )
    db.session.refresh(district)
    assert district.name == "如皋市"
    assert db.session.scalar(select(func.count(District.id))) == 1


def test_add_and_rename_work_unit(staff: FlaskClient) -> None:
    assert staff.post("/coordinator/work-units", data={"name": "南通市总工会"}).status_code == 302
    unit = db.session.scalar(select(WorkUnit).where(WorkUnit.name == "南通市总工会"))
    assert staff.post("/coordinator/work-units", data={"name": ""}).status_code == 422
    response = staff.post(f"/coordinator/work-units/{unit.id}/edit", data={"name": "南通总工会"})
    assert response.status_code == 302
    db.session.refresh(unit)
    assert unit.name == "南通总工会"


def test_merge_work_units_moves_volunteers(
    any_db_app: Flask, coordinator: User, make_volunteer: Callable[..., User]
) -> None:
    source = WorkUnit(name="国网南通供电")
    target = WorkUnit(name="国网南通供电公司")
    other = WorkUnit(name="南通大学")
    db.session.add_all([source, target, other])
    db.session.commit()
    moved = [make_volunteer(work_unit=source) for _ in range(3)]
    stays = make_volunteer(work_unit=other)
    source_id, target_id, other_id = source.id, target.id, other.id
    moved_ids = [user.volunteer.id for user in moved]
    stays_id = stays.volunteer.id
    client = any_db_app.test_client()
    login(client, coordinator)
    response = client.post(
        f"/coordinator/work-units/{source_id}/merge", data={"target_id": str(target_id)}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(WorkUnit, source_id) is None
    for volunteer_id in moved_ids:
        assert db.session.get(Volunteer, volunteer_id).work_unit_id == target_id
    assert db.session.get(Volunteer, stays_id).work_unit_id == other_id


def test_merge_is_atomic(
    any_db_app: Flask, make_volunteer: Callable[..., User], monkeypatch: pytest.MonkeyPatch
) -> None:
    """If deleting the source fails, the volunteers already moved in the same transaction go
    back: nobody is left pointing at the target while the source still exists."""
    source = WorkUnit(name="南通供电")
    target = WorkUnit(name="南通供电公司")
    db.session.add_all([source, target])
    db.session.commit()
    users = [make_volunteer(work_unit=source) for _ in range(2)]
    real_execute = db.session.execute

    def failing_delete(statement: object, *args: object, **kwargs: object) -> object:
        if str(statement).startswith("DELETE FROM work_units"):
            raise RuntimeError("database went away")
        return real_execute(statement, *args, **kwargs)

    monkeypatch.setattr(db.session, "execute", failing_delete)
    with pytest.raises(RuntimeError):
        catalogue_admin.merge_work_units(source, target)
    monkeypatch.undo()
    db.session.expire_all()
    assert db.session.get(WorkUnit, source.id) is not None
    for user in users:
        assert db.session.get(Volunteer, user.volunteer.id).work_unit_id == source.id


def test_merge_into_itself_or_unknown_is_refused(staff: FlaskClient) -> None:
    unit = WorkUnit(name="南通大学")
    db.session.add(unit)
    db.session.commit()
    url = f"/coordinator/work-units/{unit.id}/merge"
    assert staff.post(url, data={"target_id": str(unit.id)}).status_code == 422
    assert staff.post(url, data={"target_id": "9999"}).status_code == 422
    assert db.session.get(WorkUnit, unit.id) is not None
