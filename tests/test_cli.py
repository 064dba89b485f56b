"""Flask commands: seed-demo (repeatable, --if-empty), create-user, demo-logins."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import (
    Availability,
    DayOff,
    PlanningPeriod,
    Site,
    User,
    Volunteer,
    VolunteerSkill,
)
from scheduler.services.availability import starts_of_kind
from scheduler.services.demo import DEMO_ACCOUNTS, PERIOD_DAYS, next_monday
from scheduler.services.phones import normalize_mobile

SEED_ARGS = ["seed-demo", "--volunteers", "50", "--seed", "3"]


def invoke(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def snapshot(app: Flask) -> list[tuple[Any, ...]]:
    """Everyone the demo created, with what matters about them, in a comparable form."""
    with app.app_context():
        period = db.session.scalar(select(PlanningPeriod))
        people = []
        for user in db.session.scalars(select(User).order_by(User.phone)):
            volunteer = user.volunteer
            details: tuple[Any, ...] = ()
            if volunteer is not None:
                cells = db.session.execute(
                    select(Availability.day, Availability.start_hour).where(
                        Availability.volunteer_id == volunteer.id
                    )
                ).all()
                days_off = db.session.scalars(
                    select(DayOff.day).where(DayOff.volunteer_id == volunteer.id)
                ).all()
                details = (
                    volunteer.work_unit.name,
                    volunteer.district.name,
                    volunteer.accepts_nights,
                    volunteer.weekly_cap,
                    volunteer.partner_phone,
                    volunteer.trained_at is not None,
                    sorted((s.skill.code, s.verified_at is not None) for s in volunteer.skills),
                    sorted(((day - period.start_date).days, shift) for day, shift in cells),
                    sorted((day - period.start_date).days for day in days_off),
                )
            people.append((user.name, user.phone, user.role, details))
        return people


def test_seed_demo_is_repeatable_for_a_seed(app_factory: Callable[..., Flask]) -> None:
    first, second, other = app_factory(), app_factory(), app_factory()
    for app in (first, second):
        result = invoke(app, *SEED_ARGS)
        assert result.exit_code == 0, result.output
        assert "demo ready" in result.output
    assert invoke(other, "seed-demo", "--volunteers", "50", "--seed", "4").exit_code == 0

    people = snapshot(first)
    assert people == snapshot(second)
    assert people != snapshot(other)
    assert len(people) == 50 + len(DEMO_ACCOUNTS)
    assert sum(len(details[7]) for *_, details in people if details) > 300


def test_demo_content_is_realistic(app_factory: Callable[..., Flask]) -> None:
    app = app_factory()
    result = invoke(app, "seed-demo", "--volunteers", "200", "--seed", "7")
    assert result.exit_code == 0, result.output
    with app.app_context():
        sites = db.session.scalars(select(Site)).all()
        checkpoints = [s for s in sites if s.kind == "checkpoint"]
        testing = [s for s in sites if s.kind == "testing"]
        assert {s.name for s in checkpoints} == {
            "南通北高速卡口",
            "小海高速卡口",
            "S28如东出口卡口",
            "G40如皋港出口卡口",
        }
        assert len(testing) == 6
        assert all(s.name.endswith("核酸检测点") and s.district for s in testing)
        for site in checkpoints:
            assert site.shift_kinds == ("night", "day", "evening")
            for shift in site.shift_kinds:
                demand = {d.role.code: d.headcount for d in site.demands if d.shift == shift}
                assert demand == {
                    "site_lead": 1,
                    "code_checker": 2,
                    "temperature": 1,
                    "registrar": 1,
                }
        for site in testing:
            assert site.shift_kinds == ("day", "evening")
            assert {d.role.code for d in site.demands} >= {"sampler", "registrar", "queue_marshal"}

        period = db.session.scalar(select(PlanningPeriod))
        assert period.is_open
        assert period.start_date == next_monday(date.today())
        assert period.start_date.weekday() == 0
        assert (period.end_date - period.start_date).days == PERIOD_DAYS - 1
        assert {s.id for s in period.sites} == {s.id for s in sites}

        users = db.session.scalars(select(User)).all()
        phones = [u.phone for u in users]
        assert len(set(phones)) == len(phones)
        assert all(normalize_mobile(p) == p for p in phones)
        assert all(2 <= len(u.name) <= 4 for u in users)

        volunteers = db.session.scalars(select(Volunteer)).all()
        by_phone = {v.user.phone: v for v in volunteers}
        night_owls = sum(v.accepts_nights for v in volunteers) / len(volunteers)
        assert 0.25 < night_owls < 0.55
        assert all(3 <= v.weekly_cap <= 5 for v in volunteers)
        partnered = [v for v in volunteers if v.partner_phone]
        assert partnered
        assert all(by_phone[v.partner_phone].partner_phone == v.user.phone for v in partnered)
        night_cells = db.session.scalars(
            select(Availability.volunteer_id).where(
                Availability.start_hour.in_(starts_of_kind("night"))
            )
        ).all()
        nightly = {v.id for v in volunteers if v.accepts_nights}
        assert set(night_cells) <= nightly
        verified_medical = db.session.scalar(
            select(func.count())
            .select_from(VolunteerSkill)
            .where(VolunteerSkill.verified_at.is_not(None))
        )
        assert verified_medical > 5
        leads = [v for v in volunteers if any(s.skill.code == "leadership" for s in v.skills)]
        assert len(leads) > 15
        assert all(v.trained_at is not None for v in leads)

        demo_volunteer = by_phone[normalize_mobile(DEMO_ACCOUNTS[3][1])]
        assert db.session.scalar(
            select(func.count())
            .select_from(Availability)
            .where(Availability.volunteer_id == demo_volunteer.id)
        )

    for role, phone, password, _name in DEMO_ACCOUNTS:
        response = app.test_client().post("/login", data={"phone": phone, "password": password})
        assert response.status_code == 302, role


def test_seed_demo_if_empty_leaves_a_used_database_alone(
    app_factory: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    used = app_factory()
    with used.app_context():
        make_user("coordinator", name="已有协调员")
    result = invoke(used, "seed-demo", "--volunteers", "10", "--if-empty")
    assert result.exit_code == 0
    assert "database not empty" in result.output
    with used.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 1
        assert db.session.scalar(select(func.count(Site.id))) == 0

    empty = app_factory()
    result = invoke(empty, "seed-demo", "--volunteers", "10", "--if-empty")
    assert result.exit_code == 0
    assert "demo ready" in result.output
    with empty.app_context():
        assert db.session.scalar(select(func.count(Site.id))) == 10


def test_create_user(app_factory: Callable[..., Flask]) -> None:
    app = app_factory()
    ok = invoke(
        app, "create-user", "--role", "coordinator", "--phone", "138 0013 8000",
        "--password", "long-enough-1", "--name", "协调员",
    )  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert "created coordinator 协调员 (+8613800138000)" in ok.output

    bad_phone = invoke(
        app, "create-user", "--role", "coordinator", "--phone", "12345",
        "--password", "long-enough-1", "--name", "坏号码",
    )  # fmt: skip
    assert bad_phone.exit_code != 0
    assert "Not a valid Chinese mobile number." in bad_phone.output

    taken = invoke(
        app, "create-user", "--phone", "13800138000", "--password", "long-enough-1",
        "--name", "重复",
    )  # fmt: skip
    assert taken.exit_code != 0
    assert "already registered" in taken.output

    bad_role = invoke(
        app, "create-user", "--role", "king", "--phone", "13800138001",
        "--password", "long-enough-1", "--name", "国王",
    )  # fmt: skip
    assert bad_role.exit_code != 0

    with app.app_context():
        users = db.session.execute(select(User.name, User.role)).all()
        assert users == [("协调员", "coordinator")]
        coordinator = db.session.scalar(select(User))
        assert coordinator.check_password("long-enough-1")
        assert coordinator.volunteer is None


def test_demo_logins_lists_the_demo_accounts_that_exist(app_factory: Callable[..., Flask]) -> None:
    app = app_factory()
    before = invoke(app, "demo-logins")
    assert before.exit_code == 0
    assert "muster-demo" not in before.output

    invoke(app, "seed-demo", "--volunteers", "5")
    after = invoke(app, "demo-logins")
    for role, phone, password, _name in DEMO_ACCOUNTS:
        assert f"{role:<12} {phone}  {password}" in after.output
