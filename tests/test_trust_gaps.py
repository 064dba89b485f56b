"""Silent wrongs the last walk-through found in the scope rule, each fixed where the rule lives:

1. a coordinator appointed to no node saw the whole city (scope.visible_org_ids); promoting
   or creating one now appoints them to the city union when it is the only one, else asks;
2. exports wrote reinforcing volunteers' numbers in full (scope.phone_as_seen);
3. any coordinator could edit the city's role catalogue (scope.may_edit_catalogue);
4. an urgent request notified every staff account (scope.staff_covering);
5. a reset asked for a number without an account texted that number (codes.send_reset_code).

A city union, districts 甲区 and 乙区 (each with a volunteer and a coordinator), a city
coordinator and an admin. Item 6 (pins of people no longer eligible) is in
tests/test_pin_drops.py."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import (
    ADMIN,
    CITY,
    COORDINATOR,
    VOLUNTEER,
    District,
    Notification,
    Organisation,
    PlanningPeriod,
    Role,
    Site,
    User,
)
from scheduler.services import admin, catalogue_admin, exports, scope, urgent
from scheduler.services.catalogue_admin import CatalogueError, RoleData
from tests.fixtures.auth import login
from tests.fixtures.rosters import make_roster
from tests.fixtures.smtp import smtp_receiver

MON = date(2026, 12, 7)


@dataclass
class City:
    root: Organisation
    districts: dict[str, District]
    volunteers: dict[str, User]
    coordinators: dict[str, User]
    sites: dict[str, Site]


def build_city(make_user: Callable[..., User], make_site: Callable[..., Site]) -> City:
    root = Organisation(kind=CITY, name="市总工会")
    db.session.add(root)
    db.session.commit()
    districts = {key: District(name=name) for key, name in (("a", "甲区"), ("b", "乙区"))}
    db.session.add_all(districts.values())
    db.session.commit()  # each gets its node under the city on flush
    volunteers, coordinators, sites = {}, {}, {}
    for n, (key, district) in enumerate(districts.items()):
        volunteers[key] = make_user(
            VOLUNTEER, name=f"{district.name}志愿者", phone=f"1390000{n}001", district=district
        )
        coordinators[key] = make_user(COORDINATOR, name=f"{district.name}协调员")
        coordinators[key].organisation_id = district.organisation_id
        sites[key] = make_site(name=f"{district.name}点位", district_id=district.id)
    coordinators["city"] = make_user(COORDINATOR, name="市协调员")
    coordinators["city"].organisation_id = root.id
    coordinators["admin"] = make_user(ADMIN, name="管理员")
    db.session.commit()
    return City(root, districts, volunteers, coordinators, sites)


@pytest.fixture
def city(make_user: Callable[..., User], make_site: Callable[..., Site]) -> City:
    return build_city(make_user, make_site)


def client_of(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    login(client, user)
    return client


# 1. A coordinator appointed to no node ------------------------------------------------------


def test_a_coordinator_of_no_node_sees_nobody_once_there_is_a_tree(
    app: Flask, city: City, make_user: Callable[..., User]
) -> None:
    loose = make_user(COORDINATOR, name="未任命协调员")
    assert scope.visible_org_ids(loose) == frozenset()
    assert list(db.session.scalars(scope.volunteers_in_scope(loose))) == []
    assert scope.staff_covering(city.sites["a"]) == sorted(
        u.id
        for u in (city.coordinators["a"], city.coordinators["city"], city.coordinators["admin"])
    )
    client = client_of(app, loose)
    pool = client.get("/coordinator/volunteers").get_data(as_text=True)
    assert "甲区志愿者" not in pool
    assert "乙区志愿者" not in pool
    volunteer = city.volunteers["a"].volunteer
    assert volunteer is not None
    assert client.get(f"/coordinator/volunteers/{volunteer.id}").status_code == 404
    overview = client.get("/coordinator/").get_data(as_text=True)
    assert "尚未被任命" in overview or "not yet appointed" in overview
    assert "not yet appointed" not in client_of(app, city.coordinators["a"]).get(
        "/coordinator/", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)


def test_before_there_is_a_tree_a_coordinator_sees_everything(
    app: Flask, coordinator: User, make_volunteer: Callable[..., User]
) -> None:
    """Nothing is divided yet (no organisation rows): nobody's data belongs to a union."""
    make_volunteer(name="无树志愿者")
    assert scope.visible_org_ids(coordinator) is None
    assert len(list(db.session.scalars(scope.volunteers_in_scope(coordinator)))) == 1


def test_promoting_a_coordinator_where_the_city_is_the_only_union_appoints_them_to_it(
    app: Flask, make_user: Callable[..., User]
) -> None:
    root = Organisation(kind=CITY, name="市总工会")
    db.session.add(root)
    db.session.commit()
    user = make_user(VOLUNTEER, name="新协调员")
    admin.change_role(user, COORDINATOR)
    assert (user.role, user.organisation_id) == (COORDINATOR, root.id)
    assert scope.visible_org_ids(user) is None


def test_promoting_a_coordinator_in_a_divided_city_asks_for_the_union(
    app: Flask, city: City, make_user: Callable[..., User]
) -> None:
    user = make_user(VOLUNTEER, name="待任命")
    with pytest.raises(admin.AdminError, match="Admin → Unions"):
        admin.change_role(user, COORDINATOR)
    db.session.refresh(user)
    assert (user.role, user.organisation_id) == (VOLUNTEER, None)
    # Already appointed (a liaison made coordinator): they keep their node.
    user.organisation_id = city.districts["a"].organisation_id
    db.session.commit()
    admin.change_role(user, COORDINATOR)
    assert (user.role, user.organisation_id) == (COORDINATOR, city.districts["a"].organisation_id)


def test_the_accounts_page_says_where_to_appoint_a_coordinator(
    app: Flask, city: City, make_user: Callable[..., User]
) -> None:
    user = make_user(VOLUNTEER, name="待任命")
    client = client_of(app, city.coordinators["admin"])
    answer = client.post(
        f"/admin/accounts/{user.id}/role", data={"role": COORDINATOR}, follow_redirects=True
    )
    assert "Admin → Unions" in answer.get_data(as_text=True) or "“工会”页面任命" in answer.get_data(
        as_text=True
    )
    db.session.refresh(user)
    assert user.role == VOLUNTEER


def test_create_user_appoints_a_coordinator_to_a_union(app: Flask, make_site: Callable) -> None:
    runner = app.test_cli_runner()
    base = ["create-user", "--role", "coordinator", "--password", "long-enough-1"]
    root = Organisation(kind=CITY, name="市总工会")
    db.session.add(root)
    db.session.commit()
    made = runner.invoke(args=[*base, "--phone", "13800138000", "--name", "城市"])
    assert made.exit_code == 0, made.output
    first = db.session.scalars(select(User).where(User.phone == "+8613800138000")).one()
    assert first.organisation_id == root.id
    db.session.add(District(name="甲区"))
    db.session.commit()
    refused = runner.invoke(args=[*base, "--phone", "13800138001", "--name", "未任命"])
    assert refused.exit_code != 0
    assert "Admin → Unions" in refused.output
    assert db.session.scalar(select(User.id).where(User.phone == "+8613800138001")) is None
    named = runner.invoke(
        args=[*base, "--phone", "13800138002", "--name", "甲区的", "--organisation", "甲区"]
    )
    assert named.exit_code == 0, named.output
    district = db.session.scalars(select(District)).one()
    made_there = db.session.scalars(select(User).where(User.phone == "+8613800138002")).one()
    assert made_there.organisation_id == district.organisation_id
    unknown = runner.invoke(
        args=[*base, "--phone", "13800138003", "--name", "x", "--organisation", "丙区"]
    )
    assert unknown.exit_code != 0


# 2. Exports mask reinforcing volunteers' numbers -------------------------------------------


@pytest.fixture
def reinforced(city: City) -> PlanningPeriod:
    """甲区's period, opened to 乙区, with 甲区's and 乙区's volunteer on its published roster."""
    a, b = city.districts["a"], city.districts["b"]
    period = PlanningPeriod(
        name="甲区一期",
        start_date=MON,
        end_date=date(2026, 12, 13),
        is_open=True,
        sites=[city.sites["a"]],
        organisation_id=a.organisation_id,
    )
    period.reinforcements = [db.session.get_one(Organisation, b.organisation_id)]
    db.session.add(period)
    db.session.commit()
    site = city.sites["a"]
    rows = [
        (site, MON, "day", "code_checker", city.volunteers["a"]),
        (site, MON, "day", "code_checker", city.volunteers["b"]),
    ]
    make_roster(period, rows, version=1)
    return period


def test_exports_mask_the_numbers_of_reinforcements_from_elsewhere(
    app: Flask, city: City, reinforced: PlanningPeriod
) -> None:
    own, other = "13900000001", "13900001001"
    client = client_of(app, city.coordinators["a"])
    body = client.get(f"/sheets/periods/{reinforced.id}/roster.csv")
    assert body.status_code == 200
    rows = list(csv.DictReader(io.StringIO(body.get_data().decode("utf-8-sig"))))
    phones = {r["volunteer_name"]: r["volunteer_phone"] for r in rows}
    assert phones == {"甲区志愿者": own, "乙区志愿者": "139****1001"}
    book = client.get(f"/sheets/periods/{reinforced.id}/roster.xlsx")
    workbook = load_workbook(io.BytesIO(book.get_data()))
    cells = {str(c.value) for ws in workbook.worksheets for row in ws.iter_rows() for c in row}
    assert own in cells
    assert "139****1001" in cells
    assert other not in cells
    # The city's coordinator sees both in full, and so does the CLI (an internal caller).
    city_rows = client_of(app, city.coordinators["city"]).get(
        f"/sheets/periods/{reinforced.id}/roster.csv"
    )
    assert other in city_rows.get_data(as_text=True)
    assert other in exports.roster_csv(exports.roster_for_export(reinforced.id)).decode("utf-8-sig")


# 3. The role catalogue is the city's ------------------------------------------------------


def test_only_the_city_edits_the_role_catalogue(app: Flask, city: City) -> None:
    lead = db.session.scalars(select(Role).where(Role.code == "site_lead")).one()
    district = client_of(app, city.coordinators["a"])
    listed = district.get("/coordinator/catalogue")
    assert listed.status_code == 200
    assert "/coordinator/catalogue/roles/new" not in listed.get_data(as_text=True)
    assert district.get("/coordinator/catalogue/roles/new").status_code == 403
    assert district.post("/coordinator/catalogue/skills/new", data={}).status_code == 403
    assert district.post(f"/coordinator/catalogue/roles/{lead.id}/delete").status_code == 403
    data = RoleData(name_zh="点位长", name_en="Lead", is_lead=True, sort_order=1)
    with pytest.raises(CatalogueError):
        catalogue_admin.save_role(lead, data, city.coordinators["a"])
    for who in ("city", "admin"):
        assert scope.may_edit_catalogue(city.coordinators[who])
        page = client_of(app, city.coordinators[who]).get("/coordinator/catalogue/roles/new")
        assert page.status_code == 200
    catalogue_admin.save_role(lead, data, city.coordinators["city"])
    assert lead.name_en == "Lead"


# 4. Urgent requests reach the staff whose scope holds them --------------------------------


def test_an_urgent_request_notifies_only_the_staff_whose_scope_holds_it(
    app: Flask, city: City, reinforced: PlanningPeriod
) -> None:
    checker = db.session.scalars(select(Role).where(Role.code == "code_checker")).one()
    request = urgent.create_request(
        reinforced,
        site_id=city.sites["a"].id,
        day=date(2026, 12, 8),
        start=time(9),
        end=time(12),
        needs={checker.id: 1},
        note="",
        by=city.coordinators["a"],
    )
    told = set(
        db.session.scalars(
            select(Notification.user_id).where(Notification.kind == urgent.URGENT_REQUEST)
        )
    )
    assert request.id is not None
    assert told == {city.coordinators["city"].id, city.coordinators["admin"].id}
    assert city.coordinators["b"].id not in told


# 5. A reset code is texted only to an account ---------------------------------------------


def test_a_number_without_an_account_is_texted_nothing_and_still_rate_limited(
    app_factory: Callable[..., Flask],
) -> None:
    app = app_factory(RATELIMIT_ENABLED=True)
    with app.app_context(), smtp_receiver() as gateway:
        app.config.update(gateway.config())
        answers = [
            app.test_client().post(
                "/password/forgot",
                data={"phone": "13700000009"},
                environ_base={"REMOTE_ADDR": f"203.0.113.{n}"},
            )
            for n in range(6)
        ]
        assert [a.status_code for a in answers] == [302] * 5 + [429]
        assert "asked for codes too often" in answers[-1].get_data(as_text=True)
        assert gateway.messages == []
