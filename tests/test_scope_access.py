# ruff: noqa: E501 — the cross-scope table below is one route per line, so it reads as a table.
"""Scope (issue 13): a coordinator of district A, one of district B, the city coordinator and a
liaison of a grassroots union in district A, in a world of two districts.

The table CROSS holds, for every route that takes an id, a request by the district-A
coordinator (and by the liaison) for district B's object: each must answer as the table says
(404 for what exists only in another scope) and write nothing. A meta-test fails when a route
with an id in its URL has no row. The city coordinator reaches every GET of the table, and the
district-A coordinator reaches the same GET for district A's objects, so a 404 here means
"outside your scope" and never "this URL is wrong"."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.routing.converters import NumberConverter

from scheduler.extensions import db
from scheduler.models import (
    CITY,
    COORDINATOR,
    GRASSROOTS,
    LIAISON,
    VOLUNTEER,
    Assignment,
    Availability,
    CallUp,
    Demand,
    District,
    Organisation,
    PlanningPeriod,
    Role,
    Roster,
    Site,
    Skill,
    SolveRun,
    UrgentNeed,
    UrgentRequest,
    User,
    Volunteer,
    VolunteerSkill,
    WorkUnit,
)
from scheduler.models.base import utcnow
from scheduler.models.rosters import DRAFT, PUBLISHED
from scheduler.services import attendance, claims, dashboard, importer, scope
from scheduler.services.accounts import create_account
from scheduler.services.catalogue import ensure_default_catalogue
from tests.fixtures.app import build_app
from tests.fixtures.auth import PASSWORD
from tests.fixtures.database import POSTGRES_URL, postgres_schema_url
from tests.test_access import sign_in

GET, POST = "GET", "POST"
MON = date(2026, 12, 7)
DASH, ME, FEAT = "/coordinator/", "/me", None
IMPORT = "/coordinator/import"
A, B = "a", "b"
COORD_A, COORD_B, CITY_COORD, LIAISON_A = "coord_a", "coord_b", "city", "liaison_a"


@dataclass(frozen=True)
class Cross:
    """District-A coordinator and district-A liaison asking for district B's object ({...}
    filled with B's ids; {own_*} with A's where a route needs the asker's own thing)."""

    endpoint: str
    method: str
    url: str
    coordinator: Any
    liaison: Any

    @property
    def id(self) -> str:
        return f"{self.method} {self.endpoint}"


C = Cross
# fmt: off
CROSS: list[Cross] = [
    #  endpoint                              method URL (B's ids)                                                           coord A  liaison A
    C("coordinator.site_edit",               GET,  "/coordinator/sites/{site}/edit",                                         404,     403),
    C("coordinator.site_edit",               POST, "/coordinator/sites/{site}/edit",                                         404,     403),
    C("coordinator.site_archive",            POST, "/coordinator/sites/{site}/archive",                                      404,     403),
    C("coordinator.site_unarchive",          POST, "/coordinator/sites/{site}/unarchive",                                    404,     403),
    # The catalogue (roles, skills) is the whole city's: only its coordinators and admins change
    # it (scope.may_edit_catalogue); a district's coordinator reads the list but gets 403 here.
    C("coordinator.role_edit",               GET,  "/coordinator/catalogue/roles/{role}/edit",                               403,     403),
    C("coordinator.role_edit",               POST, "/coordinator/catalogue/roles/{role}/edit",                               403,     403),
    C("coordinator.role_delete",             POST, "/coordinator/catalogue/roles/{role}/delete",                             403,     403),
    C("coordinator.skill_edit",              GET,  "/coordinator/catalogue/skills/{skill}/edit",                             403,     403),
    C("coordinator.skill_edit",              POST, "/coordinator/catalogue/skills/{skill}/edit",                             403,     403),
    C("coordinator.period_edit",             GET,  "/coordinator/periods/{period}/edit",                                     404,     403),
    C("coordinator.period_edit",             POST, "/coordinator/periods/{period}/edit",                                     404,     403),
    C("coordinator.period_open",             POST, "/coordinator/periods/{period}/open",                                     404,     403),
    C("coordinator.period_close",            POST, "/coordinator/periods/{period}/close",                                    404,     403),
    C("coordinator.period_self_signup",      POST, "/coordinator/periods/{period}/self-signup",                              404,     403),
    C("coordinator.roster",                  GET,  "/coordinator/periods/{period}/roster",                                   404,     403),
    C("coordinator.roster_generate",         POST, "/coordinator/periods/{period}/roster/runs",                              404,     403),
    C("coordinator.roster_run_status",       GET,  "/coordinator/periods/{period}/roster/runs/{run}",                        404,     403),
    C("coordinator.roster_run_cancel",       POST, "/coordinator/periods/{period}/roster/runs/{run}/cancel",                 404,     403),
    C("coordinator.roster_shift",            GET,  "/coordinator/periods/{period}/roster/shifts/{site}/2026-12-09/day",      404,     403),
    C("coordinator.roster_post",             GET,  "/coordinator/periods/{period}/roster/posts/{site}/2026-12-09/day/{lead_role}", 404, 403),
    C("coordinator.roster_assign",           POST, "/coordinator/periods/{period}/roster/posts/{site}/2026-12-09/day/{lead_role}/assign", 404, 403),
    C("coordinator.roster_unassign",         POST, "/coordinator/periods/{period}/roster/assignments/{assignment}/unassign", 404,     403),
    C("coordinator.roster_pin",              POST, "/coordinator/periods/{period}/roster/assignments/{assignment}/pin",      404,     403),
    C("coordinator.roster_swap",             GET,  "/coordinator/periods/{period}/roster/assignments/{assignment}/swap",     404,     403),
    C("coordinator.roster_swap_post",        POST, "/coordinator/periods/{period}/roster/assignments/{assignment}/swap",     404,     403),
    C("coordinator.roster_publish_confirm",  GET,  "/coordinator/periods/{period}/roster/publish",                           404,     403),
    C("coordinator.roster_publish",          POST, "/coordinator/periods/{period}/roster/publish",                           404,     403),
    C("coordinator.roster_repair_confirm",   GET,  "/coordinator/periods/{period}/roster/repair",                            404,     403),
    C("coordinator.roster_repair",           POST, "/coordinator/periods/{period}/roster/repair",                            404,     403),
    C("coordinator.roster_repair_publish",   POST, "/coordinator/periods/{period}/roster/repair/publish",                    404,     403),
    C("coordinator.roster_unfilled",         GET,  "/coordinator/periods/{period}/roster/unfilled",                          404,     403),
    C("coordinator.roster_versions",         GET,  "/coordinator/periods/{period}/roster/versions",                          404,     403),
    C("coordinator.roster_version",          GET,  "/coordinator/periods/{period}/roster/versions/1",                        404,     403),
    C("coordinator.urgent_requests",         GET,  "/coordinator/periods/{period}/urgent",                                   404,     403),
    C("coordinator.urgent_requests",         POST, "/coordinator/periods/{period}/urgent",                                   404,     403),
    C("coordinator.urgent_request",          GET,  "/coordinator/urgent/{urgent}",                                           404,     403),
    C("coordinator.urgent_fill",             POST, "/coordinator/urgent/{urgent}/fill",                                      404,     403),
    C("coordinator.urgent_withdraw",         POST, "/coordinator/urgent/{urgent}/withdraw",                                  404,     403),
    C("coordinator.district_edit",           GET,  "/coordinator/districts/{district}/edit",                                 404,     403),
    C("coordinator.district_edit",           POST, "/coordinator/districts/{district}/edit",                                 404,     403),
    C("coordinator.work_unit_edit",          GET,  "/coordinator/work-units/{unit}/edit",                                    404,     403),
    C("coordinator.work_unit_edit",          POST, "/coordinator/work-units/{unit}/edit",                                    404,     403),
    C("coordinator.work_unit_merge",         POST, "/coordinator/work-units/{unit}/merge",                                   404,     403),
    C("coordinator.work_unit_claim_codes",   POST, "/coordinator/work-units/{unit}/claim-codes",                             404,     404),
    C("coordinator.volunteer_detail",        GET,  "/coordinator/volunteers/{volunteer}",                                    404,     404),
    C("coordinator.volunteer_training",      POST, "/coordinator/volunteers/{volunteer}/training",                           404,     403),
    C("coordinator.volunteer_unavailable",   POST, "/coordinator/volunteers/{volunteer}/unavailable",                        404,     403),
    C("coordinator.volunteer_verify",        POST, "/coordinator/volunteers/{volunteer}/skills/{medical}/verification",      404,     403),
    C("coordinator.volunteer_claim_code",    POST, "/coordinator/volunteers/{volunteer}/claim-code",                         404,     404),
    # Claim codes are read through the asker's own download token (the liaison is sent back to
    # the import page): a unit number there is only ever a group of the asker's own import.
    C("coordinator.import_slips",            GET,  "/coordinator/import/codes/{own_codes}/slips/3",                          404,     IMPORT),
    C("coordinator.import_slips_pdf",        GET,  "/coordinator/import/codes/{own_codes}/slips/3.pdf",                      404,     IMPORT),
    C("sheets.roster_csv",                   GET,  "/sheets/periods/{period}/roster.csv",                                    404,     403),
    C("sheets.roster_xlsx",                  GET,  "/sheets/periods/{period}/roster.xlsx",                                   404,     403),
    C("sheets.wall",                         GET,  "/sheets/periods/{period}/wall",                                          404,     403),
    C("sheets.wall_pdf",                     GET,  "/sheets/periods/{period}/wall.pdf",                                      404,     403),
    C("sheets.signin",                       GET,  "/sheets/sites/{site}/2026-12-11/signin",                                 404,     403),
    C("sheets.signin_pdf",                   GET,  "/sheets/sites/{site}/2026-12-11/signin.pdf",                             404,     403),
    C("checkin.site_day",                    GET,  "/checkin/sites/{site}/2026-12-11",                                       404,     403),
    C("checkin.mark",                        POST, "/checkin/sites/{site}/2026-12-11/day/{lead_volunteer}/status",           404,     403),
    C("checkin.times",                       POST, "/checkin/sites/{site}/2026-12-11/day/{lead_volunteer}/times",            404,     403),
    C("checkin.walk_in",                     POST, "/checkin/sites/{site}/2026-12-11/day/walk-ins",                          404,     403),
    # A volunteer's own shifts: staff without a volunteer profile are sent to their home page.
    C("volunteer.shift",                     GET,  "/me/shifts/{assignment}",                                                DASH,    ME),
    C("volunteer.shift_confirm",             POST, "/me/shifts/{assignment}/confirm",                                        DASH,    ME),
    C("volunteer.shift_cancel",              GET,  "/me/shifts/{assignment}/cancel",                                         DASH,    ME),
    C("volunteer.shift_cancel",              POST, "/me/shifts/{assignment}/cancel",                                         DASH,    ME),
    C("volunteer.signup_withdraw",           POST, "/me/signup/{assignment}/withdraw",                                       DASH,    ME),
    # Accounts and the union tree: admins only.
    C("admin.change_role",                   POST, "/admin/accounts/{user}/role",                                            403,     403),
    C("admin.deactivate",                    POST, "/admin/accounts/{user}/deactivate",                                      403,     403),
    C("admin.reactivate",                    POST, "/admin/accounts/{user}/reactivate",                                      403,     403),
    C("admin.set_password",                  GET,  "/admin/accounts/{user}/password",                                        403,     403),
    C("admin.set_password",                  POST, "/admin/accounts/{user}/password",                                        403,     403),
    C("admin.organisation",                  GET,  "/admin/organisations/{org}",                                             403,     403),
    C("admin.organisation_rename",           POST, "/admin/organisations/{org}/rename",                                      403,     403),
    C("admin.organisation_move",             POST, "/admin/organisations/{org}/move",                                        403,     403),
    C("admin.organisation_merge",            POST, "/admin/organisations/{org}/merge",                                       403,     403),
    C("admin.organisation_archive",          POST, "/admin/organisations/{org}/archive",                                     403,     403),
    C("admin.organisation_appoint",          POST, "/admin/organisations/{org}/appoint",                                     403,     403),
    # Reinforcement across districts: B's period and B's urgent request stay B's.
    C("coordinator.period_reinforcements",   POST, "/coordinator/periods/{period}/reinforcements",                           404,     403),
    C("coordinator.urgent_escalate",         POST, "/coordinator/urgent/{urgent}/escalate",                                  404,     403),
    C("admin.organisation_reinforcement",    POST, "/admin/organisations/{org}/reinforcement",                               403,     403),
    # Issue 12's pages (call-ups, messages, ending a period, reset slips) through the scope.
    C("checkin.shift_message",               GET,  "/checkin/sites/{site}/2026-12-11/day/message",                           404,     404),
    C("checkin.shift_message",               POST, "/checkin/sites/{site}/2026-12-11/day/message",                           404,     404),
    C("coordinator.callup_new",              GET,  "/coordinator/periods/{period}/callups/new",                              404,     403),
    C("coordinator.callup_compose",          POST, "/coordinator/periods/{period}/callups/new",                              404,     403),
    C("coordinator.callups_list",            GET,  "/coordinator/periods/{period}/callups",                                  404,     403),
    C("coordinator.callup_detail",           GET,  "/coordinator/callups/{callup}",                                          404,     403),
    C("coordinator.callup_poster",           GET,  "/coordinator/callups/{callup}/poster.pdf",                               404,     403),
    C("coordinator.period_end",              GET,  "/coordinator/periods/{period}/end",                                      404,     403),
    C("coordinator.period_end",              POST, "/coordinator/periods/{period}/end",                                      404,     403),
    C("coordinator.volunteer_reset_code",    POST, "/coordinator/volunteers/{volunteer}/reset-code",                         404,     403),
]
# fmt: on

# Ids of B's objects in form fields of A's own routes: refused, nothing written.
FIELDS: list[tuple[str, str, dict[str, Any], int | str]] = [
    (
        "/coordinator/periods/new",
        POST,
        {
            "name": "越界联系人",
            "start_date": "2027-01-04",
            "end_date": "2027-01-10",
            "site_ids": ["{own_site}"],
            "contact_id": "{coordinator}",
        },
        422,
    ),
    (
        "/coordinator/periods/new",
        POST,
        {
            "name": "越界期",
            "start_date": "2027-01-04",
            "end_date": "2027-01-10",
            "site_ids": ["{site}"],
        },
        422,
    ),
    (
        "/coordinator/periods/{own_period}/edit",
        POST,
        {
            "name": "越界期",
            "start_date": "2026-12-07",
            "end_date": "2026-12-13",
            "site_ids": ["{site}"],
        },
        422,
    ),
    (
        "/coordinator/sites/new",
        POST,
        {
            "kind": "testing",
            "name": "越界点",
            "address": "x",
            "timezone": "Asia/Shanghai",
            "first_shift_hour": "0",
            "shifts": ["day"],
            "district_id": "{district}",
        },
        422,
    ),
    (
        "/coordinator/sites/new",
        POST,
        {
            "kind": "testing",
            "name": "无区点",
            "address": "x",
            "timezone": "Asia/Shanghai",
            "first_shift_hour": "0",
            "shifts": ["day"],
        },
        422,
    ),
    (
        "/coordinator/periods/{own_period}/roster/posts/{own_site}/2026-12-10/day/{lead_role}/assign",
        POST,
        {"volunteer_id": "{volunteer}"},
        422,
    ),
    ("/coordinator/work-units/{own_unit}/merge", POST, {"target_id": "{unit}"}, 422),
    (
        "/checkin/sites/{own_site}/2026-12-11/day/{volunteer}/status",
        POST,
        {"status": "present"},
        404,
    ),
    (
        "/checkin/sites/{own_site}/2026-12-11/day/walk-ins",
        POST,
        {"volunteer_id": "{volunteer}", "role_id": "{lead_role}"},
        "/checkin/sites/{own_site}/2026-12-11",  # back to the page, with the message
    ),
]

BODIES: dict[str, dict[str, Any]] = {
    "coordinator.site_edit": {
        "kind": "testing",
        "name": "改名",
        "address": "x",
        "timezone": "Asia/Shanghai",
        "first_shift_hour": "0",
        "shifts": ["day"],
    },
    "coordinator.period_edit": {
        "name": "改名",
        "start_date": "2026-12-07",
        "end_date": "2026-12-13",
        "site_ids": [],
    },
    "coordinator.period_self_signup": {"open": "1"},
    "coordinator.roster_generate": {"site_ids": ["{site}"], "time_limit": "5"},
    "coordinator.roster_assign": {"volunteer_id": "{volunteer}"},
    "coordinator.roster_pin": {"pinned": "y"},
    "coordinator.roster_swap_post": {"other_id": "{assignment}"},
    "coordinator.district_edit": {"name": "改名区"},
    "coordinator.work_unit_edit": {"name": "改名单位"},
    "coordinator.work_unit_merge": {"target_id": "{own_unit}"},
    "coordinator.volunteer_training": {"value": "1"},
    "coordinator.volunteer_unavailable": {
        "first_day": "2026-12-07",
        "last_day": "2026-12-08",
        "reason": "x",
    },
    "coordinator.volunteer_verify": {"value": "1"},
    "checkin.mark": {"status": "present"},
    "checkin.times": {"time_in": "08:00", "time_out": "16:00"},
    "checkin.walk_in": {"volunteer_id": "{volunteer}", "role_id": "{lead_role}"},
    "admin.change_role": {"role": "admin"},
    "admin.set_password": {"password": "brand-new-pass-77", "confirm": "brand-new-pass-77"},
    "admin.organisation_rename": {"name": "改名"},
    "admin.organisation_move": {"parent_id": "{city_org}"},
    "admin.organisation_merge": {"target_id": "{own_org}"},
    "admin.organisation_archive": {"archived": "1"},
    "admin.organisation_appoint": {"phone": "13900000101", "role": "coordinator"},
    "coordinator.period_reinforcements": {"node_ids": ["{own_org}"]},
    "admin.organisation_reinforcement": {"allowed": "1"},
    "checkin.shift_message": {"text": "越界消息", "action": "send"},
    "coordinator.callup_compose": {
        "token": "a-fresh-call-up-token-0001",
        "locale": "zh_Hans",
        "message": "越界集结",
        "action": "send",
    },
    "coordinator.period_end": {"confirm": "1"},
}


@dataclass
class ScopedWorld:
    app: Flask
    users: dict[str, User]
    clients: dict[str, FlaskClient]
    ids: dict[str, dict[str, Any]]
    import_dir: Path

    def fill(self, template: str, district: str = B) -> str:
        own = {f"own_{k}": v for k, v in self.ids[A].items()}
        return template.format(**self.ids[district], **own)

    def body(self, template: dict[str, Any], district: str = B) -> dict[str, Any]:
        return {
            k: [self.fill(x, district) for x in v]
            if isinstance(v, list)
            else self.fill(v, district)
            for k, v in template.items()
        }


def build_scoped_world(app: Flask, import_dir: Path) -> ScopedWorld:
    """The city union; districts 甲区 (A) and 乙区 (B), each with a grassroots union, a site, an
    open period with a draft and a published roster, a volunteer on both, a solve run and an
    urgent request. Coordinators of A, of B and of the city, and a liaison of A's union."""
    app.config["IMPORT_DIR"] = str(import_dir)
    city = Organisation(kind=CITY, name="市总工会")
    db.session.add(city)
    db.session.flush()
    roles = {r.code: r for r in db.session.scalars(select(Role))}
    lead = roles["site_lead"]
    medical = db.session.scalars(select(Skill).where(Skill.code == "medical")).one()
    ids: dict[str, dict[str, Any]] = {}
    users: dict[str, User] = {}
    for n, (key, district_name, unit_name) in enumerate(((A, "甲区", "甲厂"), (B, "乙区", "乙厂"))):
        district = District(name=district_name)  # gets its node under the city on flush
        db.session.add(district)
        db.session.flush()
        assert district.organisation_id is not None
        unit = WorkUnit(
            name=unit_name,
            organisation=Organisation(
                kind=GRASSROOTS, name=unit_name, parent_id=district.organisation_id
            ),
        )
        site = Site(name=f"{district_name}点位", kind="testing", address="路1号", district=district)
        site.demands.append(Demand(shift="day", role=lead, headcount=1))
        period = PlanningPeriod(
            name=f"{district_name}一期",
            start_date=MON,
            end_date=date(2026, 12, 20),
            is_open=True,
            sites=[site],
            organisation_id=district.organisation_id,
        )
        db.session.add_all([unit, site, period])
        db.session.flush()
        account = create_account(
            name=f"{district_name}志愿者",
            phone=f"139000001{n}1",
            password=PASSWORD,
            role=VOLUNTEER,
            volunteer=Volunteer(
                work_unit=unit, district=district, skills=[VolunteerSkill(skill=medical)]
            ),
        )
        volunteer = account.volunteer
        assert volunteer is not None
        db.session.add(Availability(volunteer_id=volunteer.id, day=MON, start_hour=8))
        run = SolveRun(period_id=period.id, time_limit=30, status="succeeded", finished_at=utcnow())
        draft = Roster(period_id=period.id, status=DRAFT)
        published = Roster(period_id=period.id, status=PUBLISHED, version=1, published_at=utcnow())
        db.session.add_all([run, draft, published])
        db.session.flush()
        drafted = Assignment(
            roster_id=draft.id,
            site_id=site.id,
            day=date(2026, 12, 9),
            shift="day",
            role_id=lead.id,
            slot=1,
            volunteer_id=volunteer.id,
        )
        on_duty = Assignment(
            roster_id=published.id,
            site_id=site.id,
            day=date(2026, 12, 11),
            shift="day",
            role_id=lead.id,
            slot=1,
            volunteer_id=volunteer.id,
        )
        urgent = UrgentRequest(
            period_id=period.id,
            site_id=site.id,
            day=date(2026, 12, 12),
            start_time=time(10),
            end_time=time(14),
            needs=[UrgentNeed(role_id=lead.id, headcount=1)],
        )
        db.session.add_all([drafted, on_duty, urgent])
        db.session.flush()
        coordinator = create_account(
            name=f"{district_name}协调员",
            phone=f"139000002{n}1",
            password=PASSWORD,
            role=COORDINATOR,
        )
        coordinator.organisation_id = district.organisation_id
        users[COORD_A if key == A else COORD_B] = coordinator
        callup = CallUp(
            period_id=period.id,
            token=f"call-up-of-district-{key}-0000000",
            message=f"{district_name}集结",
            locale="zh_Hans",
            created_by_id=coordinator.id,
        )
        db.session.add(callup)
        db.session.flush()
        ids[key] = {
            "site": site.id,
            "period": period.id,
            "run": run.id,
            "assignment": drafted.id,
            "urgent": urgent.id,
            "volunteer": volunteer.id,
            "district": district.id,
            "unit": unit.id,
            "role": lead.id,
            "skill": medical.id,
            "medical": medical.id,
            "user": account.id,
            "org": district.organisation_id,
            "lead_role": lead.id,
            "lead_volunteer": volunteer.id,
            "coordinator": coordinator.id,
            "city_org": city.id,
            "unit_org": unit.organisation_id,
            "callup": callup.id,
        }
    users[CITY_COORD] = create_account(
        name="市协调员", phone="13900000301", password=PASSWORD, role=COORDINATOR
    )
    users[CITY_COORD].organisation_id = city.id
    users[LIAISON_A] = create_account(
        name="甲厂联络员", phone="13900000401", password=PASSWORD, role=LIAISON
    )
    users[LIAISON_A].organisation_id = ids[A]["unit_org"]
    db.session.commit()
    # District A's coordinator imported two people of two work units (the claim-code pages).
    csv = "姓名,手机号,工作单位\n甲一,13800000501,甲厂\n甲二,13800000502,甲厂新车间\n".encode()
    slips = importer.write_import(importer.preview_import(csv, "名单.csv", None), users[COORD_A])
    codes = claims.store_slips(import_dir, slips, user_id=users[COORD_A].id)
    for each in (A, B):
        ids[each]["codes"] = codes
    clients = {}
    for name, user in users.items():
        clients[name] = app.test_client()
        sign_in(clients[name], user)
    return ScopedWorld(app, users, clients, ids, import_dir)


def snapshot() -> dict[str, list[str]]:
    db.session.rollback()
    return {
        table.name: sorted(repr(tuple(row)) for row in db.session.execute(select(table)))
        for table in db.metadata.sorted_tables
    }


def check(response: Any, expected: int | str, where: str) -> None:
    body = response.get_data()[:200].decode(errors="replace")
    if isinstance(expected, int):
        assert response.status_code == expected, f"{where}: {response.status_code} {body}"
        return
    assert response.status_code in (302, 303), f"{where}: {response.status_code} {body}"
    assert urlsplit(response.headers["Location"]).path == expected, where


def send(world: ScopedWorld, who: str, method: str, url: str, data: dict[str, Any] | None) -> Any:
    client = world.clients[who]
    if method == GET:
        return client.get(url)
    return client.post(url, data=data or {})


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def scoped(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Iterator[ScopedWorld]:
    """One world per database for the whole module: every request the tables send is
    asserted to write nothing, so sharing it is safe."""
    folder = tmp_path_factory.mktemp("scope")
    if request.param == "postgresql":
        if not POSTGRES_URL:
            pytest.skip("MUSTER_TEST_DATABASE_URL is not set: PostgreSQL variant not run")
        url = postgres_schema_url(f"{worker_id}_scope")
    else:
        url = f"sqlite:///{folder / 'muster.sqlite'}"
    app = build_app(url)
    with app.app_context():
        db.create_all()
        ensure_default_catalogue()
        try:
            yield build_scoped_world(app, folder / "imports")
        finally:
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize("row", CROSS, ids=[row.id for row in CROSS])
def test_cross_scope_request_is_refused_and_writes_nothing(scoped: ScopedWorld, row: Cross) -> None:
    endpoint, _ = scoped.app.url_map.bind("localhost").match(
        scoped.fill(row.url), method=row.method
    )
    assert endpoint == row.endpoint, f"{row.url} is {endpoint}"
    for who, expected in ((COORD_A, row.coordinator), (LIAISON_A, row.liaison)):
        if expected is FEAT:
            continue
        before = snapshot()
        data = scoped.body(BODIES.get(row.endpoint, {}))
        check(
            send(scoped, who, row.method, scoped.fill(row.url), data),
            expected,
            f"{row.id} as {who}",
        )
        assert snapshot() == before, f"{row.id} as {who} changed the database"
    if row.method == GET and row.coordinator == 404 and "own_" not in row.url:
        # The same page is there: for the city coordinator, and for A's coordinator on A's ids.
        for who, district in ((CITY_COORD, B), (COORD_A, A)):
            response = send(scoped, who, GET, scoped.fill(row.url, district), None)
            assert response.status_code != 404, f"{row.id} as {who} on {district}: 404"


@pytest.mark.parametrize(("url", "method", "body", "expected"), FIELDS)
def test_other_scopes_ids_in_form_fields_are_refused(
    scoped: ScopedWorld, url: str, method: str, body: dict[str, Any], expected: int | str
) -> None:
    before = snapshot()
    response = send(scoped, COORD_A, method, scoped.fill(url), scoped.body(body))
    check(response, scoped.fill(expected) if isinstance(expected, str) else expected, url)
    assert snapshot() == before


def test_every_route_with_an_id_has_a_cross_scope_row(scoped: ScopedWorld) -> None:
    """A new route with an id in its URL (or a new method on one) fails here until it has a
    row in CROSS. Routes named by a secret token (uploads, calendar feeds) are bound to their
    owner instead: tests/test_access.py covers them."""
    in_table = {(row.method, row.endpoint) for row in CROSS}
    with_ids = {
        (method, rule.endpoint)
        for rule in scoped.app.url_map.iter_rules()
        if any(isinstance(c, NumberConverter) for c in rule._converters.values())
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert with_ids - in_table == set(), "routes with an id but no cross-scope row"
    assert in_table - with_ids == set(), "rows for routes without an id"


def test_lists_and_counts_follow_the_scope(scoped: ScopedWorld) -> None:
    """The pool, sites, periods and the dashboard counts of each coordinator: A sees A's, the
    city sees both, the liaison only the members of their union."""
    page = {
        who: scoped.clients[who].get("/coordinator/volunteers").get_data(as_text=True)
        for who in (COORD_A, CITY_COORD, LIAISON_A)
    }
    assert "甲区志愿者" in page[COORD_A]
    assert "乙区志愿者" not in page[COORD_A]
    assert "甲区志愿者" in page[CITY_COORD]
    assert "乙区志愿者" in page[CITY_COORD]
    assert "甲区志愿者" in page[LIAISON_A]
    assert "乙区志愿者" not in page[LIAISON_A]
    assert "甲二" not in page[LIAISON_A]  # imported to a new unit of district A, not the liaison's
    member = scoped.clients[LIAISON_A].get(f"/coordinator/volunteers/{scoped.ids[A]['volunteer']}")
    assert member.status_code == 200
    assert "甲区点位" in member.get_data(as_text=True)  # the member's upcoming published shift
    sites = scoped.clients[COORD_A].get("/coordinator/sites").get_data(as_text=True)
    assert "甲区点位" in sites
    assert "乙区点位" not in sites
    periods = scoped.clients[COORD_B].get("/coordinator/periods").get_data(as_text=True)
    assert "乙区一期" in periods
    assert "甲区一期" not in periods
    counts = {who: dashboard.counts(scoped.users[who]) for who in (COORD_A, COORD_B, CITY_COORD)}
    # A: its volunteer and the two it imported; B: its volunteer; the city: all four.
    assert (
        counts[COORD_A].volunteers,
        counts[COORD_A].active_sites,
        counts[COORD_A].open_periods,
    ) == (3, 1, 1)
    assert (
        counts[COORD_B].volunteers,
        counts[COORD_B].active_sites,
        counts[COORD_B].open_periods,
    ) == (1, 1, 1)
    assert (
        counts[CITY_COORD].volunteers,
        counts[CITY_COORD].active_sites,
        counts[CITY_COORD].open_periods,
    ) == (4, 2, 2)
    dash = scoped.clients[COORD_A].get("/coordinator/").get_data(as_text=True)
    assert "乙区一期" not in dash


def test_checkin_index_and_period_counts_follow_the_scope(scoped: ScopedWorld) -> None:
    """Today's check-in list shows a coordinator their scope's sites; a period's count of
    volunteers who offered time counts only the people it may draw on."""
    morning = datetime(2026, 12, 11, 2, tzinfo=UTC)  # 10:00 in Shanghai, both sites on duty
    sites = {
        who: {e.site.name for e in attendance.todays_shifts(scoped.users[who], morning)}
        for who in (COORD_A, CITY_COORD)
    }
    assert sites == {COORD_A: {"甲区点位"}, CITY_COORD: {"甲区点位", "乙区点位"}}
    period = db.session.get_one(PlanningPeriod, scoped.ids[A]["period"])
    (state,) = dashboard.period_states([period], [])
    assert state.offered == 1  # both volunteers offered Monday; only A's counts for A


def test_scope_helpers(scoped: ScopedWorld) -> None:
    a, b, city = scoped.users[COORD_A], scoped.users[COORD_B], scoped.users[CITY_COORD]
    assert scope.visible_org_ids(city) is None
    a_ids = scope.visible_org_ids(a)
    assert a_ids is not None
    assert scoped.ids[A]["org"] in a_ids
    assert scoped.ids[B]["org"] not in a_ids
    assert scope.get_in_scope(Site, scoped.ids[B]["site"], a) is None
    assert scope.get_in_scope(Site, scoped.ids[B]["site"], b) is not None
    liaison = scope.visible_org_ids(scoped.users[LIAISON_A])
    assert liaison == frozenset({scoped.ids[A]["unit_org"]})


def test_a_coordinator_of_no_node_reaches_nobodys_objects(scoped: ScopedWorld) -> None:
    """Made a coordinator without an appointment (an old promotion, a script): every page of
    the table is "not found" for district A's objects as for B's, and the pool is empty
    (scope.visible_org_ids). Before, such an account saw the whole city."""
    loose = create_account(
        name="未任命协调员", phone="13900000501", password=PASSWORD, role=COORDINATOR
    )
    db.session.commit()
    client = scoped.app.test_client()
    sign_in(client, loose)
    try:
        for row in CROSS:
            if row.method != GET or row.coordinator != 404 or "own_" in row.url:
                continue
            for district in (A, B):
                url = scoped.fill(row.url, district)
                assert client.get(url).status_code == 404, f"{row.id} on {district}"
        pool = client.get("/coordinator/volunteers").get_data(as_text=True)
        assert "甲区志愿者" not in pool
        assert "乙区志愿者" not in pool
    finally:
        db.session.delete(db.session.get_one(User, loose.id))
        db.session.commit()
