"""Retention: a coordinator ends a period when the emergency is over; RETENTION_DAYS later
`flask retention` anonymises its volunteers who have no later period. The dry run lists them
and writes nothing; the real run anonymises exactly them, is idempotent, is audited, and keeps
counts, hours per work unit and the published rosters' shape. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import (
    COORDINATOR,
    SITE_LEAD,
    Assignment,
    Attendance,
    AuditEntry,
    Availability,
    PlanningPeriod,
    Role,
    Site,
    User,
    Volunteer,
    WorkUnit,
)
from scheduler.models.base import set_clock
from scheduler.services import audit, hours, periods, retention
from scheduler.services.periods import PeriodError
from tests.fixtures.app import TEST_CLOCK_START
from tests.fixtures.auth import signed_in
from tests.fixtures.rosters import make_roster

ENDED = datetime(2026, 12, 21, 4, 0, tzinfo=UTC)  # the first period's emergency is over
DAYS = 180
DUE_AT = ENDED + timedelta(days=DAYS, hours=1)


@dataclass
class World:
    first: PlanningPeriod
    later: PlanningPeriod
    site: Site
    people: dict[str, User]

    def vid(self, name: str) -> int:
        volunteer = self.people[name].volunteer
        assert volunteer is not None
        return volunteer.id


def _attend(user: User, site: Site, day: date, minutes: int) -> None:
    assert user.volunteer is not None
    start = datetime(day.year, day.month, day.day, 0, 0, tzinfo=UTC)
    db.session.add(
        Attendance(
            volunteer_id=user.volunteer.id,
            site_id=site.id,
            day=day,
            shift="day",
            role_id=db.session.scalar(select(Role.id).where(Role.code == "code_checker")),
            status="present",
            time_in=start,
            time_out=start + timedelta(minutes=minutes),
        )
    )


def build_world(
    make_user: Callable[..., User],
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
) -> World:
    """The first period (Dec 7-20) over one site, ended at ENDED; a later period (Jan) still
    running. alice served in the first only (roster and hours), erin only entered
    availability for it, bob served in the first and is on the later one, lee (a site lead)
    served in the first, carol signed up after the first ended, and a coordinator."""
    east = WorkUnit(name="甲单位")
    west = WorkUnit(name="乙单位")
    db.session.add_all([east, west])
    db.session.commit()
    site = make_site(name="小海高速卡口")
    people = {
        "alice": make_user(
            name="张三", work_unit=east, emergency_name="张父", emergency_phone="+8613900000001"
        ),
        "erin": make_user(name="王五", work_unit=west),
        "bob": make_user(name="李四", work_unit=east),
        "lee": make_user(name="赵六", work_unit=west),
        "coord": make_user(COORDINATOR, name="协调员"),
    }
    people["lee"].role = SITE_LEAD
    first = make_period(sites=[site], name="第一期")
    later = make_period(start=date(2027, 6, 1), end=date(2027, 6, 14), sites=[site], name="第二期")
    make_roster(
        first,
        [
            (site, date(2026, 12, 8), "day", "code_checker", people["alice"]),
            (site, date(2026, 12, 8), "day", "site_lead", people["lee"]),
            (site, date(2026, 12, 9), "day", "code_checker", people["bob"]),
        ],
        version=1,
    )
    make_roster(later, [(site, date(2027, 6, 2), "day", "code_checker", people["bob"])])
    db.session.add(
        Availability(volunteer_id=_vid(people["erin"]), day=date(2026, 12, 10), start_hour=8)
    )
    _attend(people["alice"], site, date(2026, 12, 8), 480)
    _attend(people["lee"], site, date(2026, 12, 8), 300)
    _attend(people["bob"], site, date(2026, 12, 9), 420)
    db.session.commit()
    set_clock(ENDED)
    periods.close_period(first)
    set_clock(ENDED + timedelta(days=3))
    people["carol"] = make_user(name="钱七", work_unit=east)
    return World(first, later, site, people)


def _vid(user: User) -> int:
    assert user.volunteer is not None
    return user.volunteer.id


@pytest.fixture
def world(
    any_db_app: Flask,
    make_user: Callable[..., User],
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
) -> World:
    return build_world(make_user, make_site, make_period)


def _hours_per_unit() -> dict[str, int]:
    table = hours.hours_table(now=DUE_AT)
    totals: dict[str, int] = {}
    for row in table.rows:
        totals[row.work_unit] = totals.get(row.work_unit, 0) + row.minutes
    return totals


def _audit_count() -> int:
    return db.session.scalar(select(func.count(AuditEntry.id))) or 0


def test_nobody_is_due_before_the_retention_days_have_passed(world: World) -> None:
    set_clock(ENDED + timedelta(days=DAYS - 1))
    outcome = retention.run(dry_run=False)
    assert outcome.due == []
    assert outcome.retired_periods == []
    assert db.session.scalar(select(User.name).where(User.id == world.people["alice"].id)) == "张三"


def test_dry_run_lists_exactly_the_people_of_the_ended_period_and_writes_nothing(
    world: World,
) -> None:
    set_clock(DUE_AT)
    before = _audit_count()
    outcome = retention.run(dry_run=True)
    assert [p.id for p in outcome.retired_periods] == [world.first.id]
    # bob is on the later period; carol signed up after; the coordinator is staff.
    assert sorted(d.volunteer_id for d in outcome.due) == sorted(
        world.vid(n) for n in ("alice", "erin", "lee")
    )
    alice = next(d for d in outcome.due if d.volunteer_id == world.vid("alice"))
    assert alice.name == "张三"
    assert alice.phone.count("*") == 4  # masked in the listing
    assert alice.work_unit == "甲单位"
    db.session.expire_all()
    assert _audit_count() == before
    assert db.session.get(User, world.people["alice"].id).name == "张三"  # type: ignore[union-attr]  # the row exists


def test_real_run_anonymises_exactly_them_keeps_hours_and_rosters_and_is_idempotent(
    world: World,
) -> None:
    set_clock(DUE_AT)
    alice = world.people["alice"].name
    audit.record(
        audit.VOLUNTEER_UNAVAILABLE,
        object_type="volunteer",
        object_id=world.vid("alice"),
        summary=alice,
        volunteer_id=world.vid("alice"),
    )
    db.session.commit()
    hours_before = _hours_per_unit()
    posts_before = db.session.scalar(select(func.count(Assignment.id)))
    volunteers_before = db.session.scalar(select(func.count(Volunteer.id)))
    before = _audit_count()

    outcome = retention.run(dry_run=False)
    db.session.expire_all()

    gone = {"alice", "erin", "lee"}
    assert {d.volunteer_id for d in outcome.due} == {world.vid(n) for n in gone}
    for name, user in world.people.items():
        row = db.session.get(User, user.id)
        assert row is not None
        if name in gone:
            assert row.name == f"Anonymised volunteer #{row.id}"
            assert row.phone == f"deleted-{row.id}"
            assert not row.active
            assert not row.has_usable_password
            assert row.volunteer is not None
            assert row.volunteer.emergency_name is None
            assert row.volunteer.emergency_phone is None
            assert row.volunteer.work_unit_id is not None  # hours per union stay
        else:
            assert not row.phone.startswith("deleted-")
            assert row.active
    assert (
        db.session.scalar(
            select(func.count(Availability.volunteer_id)).where(
                Availability.volunteer_id == world.vid("erin")
            )
        )
        == 0
    )
    assert _hours_per_unit() == hours_before
    assert db.session.scalar(select(func.count(Assignment.id))) == posts_before
    assert db.session.scalar(select(func.count(Volunteer.id))) == volunteers_before

    rows = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == audit.RETENTION_ANONYMISE)
    ).all()
    assert _audit_count() == before + 3
    assert {r.volunteer_id for r in rows} == {world.vid(n) for n in gone}
    assert all(r.actor_id is None and r.actor_name == audit.SYSTEM for r in rows)
    assert all("张三" not in r.summary for r in rows)
    # Their names leave the log too (the rows stay).
    log = [
        (e.actor_name, e.summary, e.changes, e.details)
        for e in db.session.scalars(select(AuditEntry))
    ]
    assert alice not in repr(log)
    assert f"Anonymised volunteer #{world.people['alice'].id}" in repr(log)

    again = retention.run(dry_run=False)
    assert again.due == []
    assert _audit_count() == before + 3


def test_the_command_line_dry_run_and_real_run(world: World, any_db_app: Flask) -> None:
    set_clock(DUE_AT)
    runner = any_db_app.test_cli_runner()
    dry = runner.invoke(args=["retention", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would anonymise 3 volunteer(s)" in dry.output
    assert "张三" in dry.output
    assert "李四" not in dry.output
    assert "钱七" not in dry.output
    assert "13900000001" not in dry.output
    db.session.expire_all()
    assert db.session.get(User, world.people["alice"].id).name == "张三"  # type: ignore[union-attr]  # the row exists

    real = runner.invoke(args=["retention"])
    assert real.exit_code == 0, real.output
    assert "anonymised 3 volunteer(s)" in real.output
    assert "张三" not in real.output  # the names it removed are not repeated
    assert "anonymised 0 volunteer(s)" in runner.invoke(args=["retention"]).output


def test_days_come_from_the_setting(world: World, any_db_app: Flask) -> None:
    set_clock(ENDED + timedelta(days=31))
    assert retention.run(dry_run=True).due == []
    any_db_app.config["RETENTION_DAYS"] = 30
    assert len(retention.run(dry_run=True).due) == 3


def test_a_later_period_ended_recently_still_protects_its_people(world: World) -> None:
    set_clock(DUE_AT - timedelta(days=1))
    periods.close_period(world.later)  # ended yesterday: bob's data stays another 180 days
    set_clock(DUE_AT)
    due = {d.volunteer_id for d in retention.run(dry_run=True).due}
    assert world.vid("bob") not in due


# Ending a period --------------------------------------------------------------------------


def test_ending_a_period_is_audited_refused_twice_and_it_cannot_be_reopened(
    app: Flask, make_period: Callable[..., PlanningPeriod]
) -> None:
    period = make_period()
    periods.close_period(period)
    assert period.closed_at is not None
    assert not period.is_open
    rows = db.session.scalars(select(AuditEntry)).all()
    assert [r.action for r in rows] == [audit.PERIOD_CLOSE]
    assert rows[0].changes["is_open"] == [True, False]
    with pytest.raises(PeriodError):
        periods.close_period(period)
    with pytest.raises(PeriodError):
        periods.set_open(period, True)
    with pytest.raises(PeriodError):
        periods.set_self_signup(period, True)
    db.session.rollback()
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 1


def test_coordinator_ends_a_period_on_its_page(
    app: Flask, coordinator: User, make_period: Callable[..., PlanningPeriod]
) -> None:
    period = make_period()
    client = signed_in(app, coordinator)
    page = client.get(f"/coordinator/periods/{period.id}/end")
    assert page.status_code == 200
    assert "180" in page.get_data(as_text=True)
    unconfirmed = client.post(f"/coordinator/periods/{period.id}/end", data={})
    assert unconfirmed.status_code == 422
    db.session.expire_all()
    assert db.session.get(PlanningPeriod, period.id).closed_at is None  # type: ignore[union-attr]  # exists
    done = client.post(f"/coordinator/periods/{period.id}/end", data={"confirm": "1"})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(PlanningPeriod, period.id).closed_at is not None  # type: ignore[union-attr]  # exists
    entry = db.session.scalar(select(AuditEntry))
    assert entry is not None
    assert (entry.action, entry.actor_id, entry.period_id) == (
        audit.PERIOD_CLOSE,
        coordinator.id,
        period.id,
    )
    listing = client.get("/coordinator/periods").get_data(as_text=True)
    assert "ended 20" in listing
    reopen = client.post(f"/coordinator/periods/{period.id}/open", follow_redirects=True)
    assert "cannot be opened again" in reopen.get_data(as_text=True)


def test_privacy_notice_tells_about_retention_in_both_languages(app: Flask) -> None:
    client = app.test_client()
    zh = client.get("/privacy", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "180 天后" in zh
    assert "已匿名志愿者" in zh
    en = client.get("/privacy", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "180 days later" in en
    assert "Anonymised volunteer #N" in en


def test_clock_start_is_before_the_fixture_dates() -> None:
    assert TEST_CLOCK_START < ENDED
