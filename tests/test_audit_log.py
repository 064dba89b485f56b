"""The audit log: every coordinator, liaison and admin change writes exactly one row in its
own transaction, with the before/after of the changed fields and phones masked; a refused
change writes none; rows cannot be edited or deleted through the app and outlive the account
that made them."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from datetime import date, time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import (
    ADMIN,
    COORDINATOR,
    AuditEntry,
    Availability,
    PlanningPeriod,
    Role,
    Site,
    User,
    WorkUnit,
)
from scheduler.services import (
    admin,
    audit,
    catalogue_admin,
    claims,
    editing,
    importer,
    my_shifts,
    periods,
    pool,
    publishing,
    sites,
    urgent,
)
from scheduler.services.admin import AdminError
from scheduler.services.catalogue_admin import CatalogueError
from scheduler.services.periods import PeriodData, PeriodError
from scheduler.services.profile import delete_account
from scheduler.services.sites import SiteData, SiteError
from tests.fixtures.auth import PASSWORD, signed_in
from tests.fixtures.rosters import make_roster

ROOT = Path(__file__).resolve().parent.parent
DAY = date(2026, 12, 8)


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, app_factory: Callable[..., Flask]) -> Iterator[Flask]:
    """Every test here on SQLite and on PostgreSQL (JSON columns, transactions)."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    flask_app = app_factory(url)
    with flask_app.app_context():
        yield flask_app


def rows() -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def one(action: str) -> AuditEntry:
    """The only row there is, which must be of `action`."""
    found = rows()
    assert [r.action for r in found] == [action]
    return found[0]


def role(code: str) -> Role:
    found = db.session.scalar(select(Role).where(Role.code == code))
    assert found is not None
    return found


# Masking ----------------------------------------------------------------------------------


def test_clean_masks_every_mobile_number_however_written() -> None:
    assert audit.clean("+8613812345678") == "138****5678"
    assert audit.clean("call 13812345678 or 8613900001111") == "call 138****5678 or 139****1111"
    assert audit.clean({"phones": ["+8613812345678"]}) == {"phones": ["138****5678"]}
    assert audit.clean(date(2026, 12, 8)) == "2026-12-08"
    assert audit.clean("0513-85123456") == "0513-85123456"  # not a mobile number


def test_diff_keeps_only_changed_fields() -> None:
    assert audit.diff({"a": 1, "b": "x"}, {"a": 1, "b": "y", "c": None}) == {"b": ["x", "y"]}


# Sites and demand ---------------------------------------------------------------------------


def _site_data(**overrides: object) -> SiteData:
    values: dict[str, object] = {
        "kind": "checkpoint",
        "name": "小海高速卡口",
        "address": "值班电话 13812345678",
        "demand": {("day", role("code_checker").id): 2},
    }
    values.update(overrides)
    return SiteData(**values)  # type: ignore[arg-type]  # the test's own values


def test_site_create_update_archive_each_write_one_row_with_masked_phones(app: Flask) -> None:
    site = sites.save_site(None, _site_data())
    created = one(audit.SITE_CREATE)
    assert created.object_id == site.id
    assert created.site_id == site.id
    assert created.changes["address"] == [None, "值班电话 138****5678"]
    assert "13812345678" not in str(created.changes)

    checker = role("code_checker").id
    db.session.execute(db.delete(AuditEntry))  # (test set-up only: start the next count at 0)
    db.session.commit()
    sites.save_site(site, _site_data(address="如东县小海镇", demand={("day", checker): 3}))
    updated = one(audit.SITE_UPDATE)
    assert updated.changes == {
        "address": ["值班电话 138****5678", "如东县小海镇"],
        f"demand day/{checker}": [2, 3],
    }


def test_a_refused_site_save_writes_no_row(app: Flask) -> None:
    with pytest.raises(SiteError):
        sites.save_site(None, _site_data(name=""))
    db.session.rollback()
    assert rows() == []


def test_archiving_writes_one_row_and_archiving_again_none(
    app: Flask, make_site: Callable[..., Site]
) -> None:
    site = make_site()
    sites.set_archived(site, True)
    sites.set_archived(site, True)
    assert [r.action for r in rows()] == [audit.SITE_ARCHIVE]


# Periods ----------------------------------------------------------------------------------


def test_period_create_update_and_availability_switch(
    app: Flask, make_site: Callable[..., Site]
) -> None:
    site = make_site()
    data = PeriodData(
        name="第一期", start_date=DAY, end_date=date(2026, 12, 20), site_ids=[site.id]
    )
    period = periods.save_period(None, data)
    created = one(audit.PERIOD_CREATE)
    assert created.changes["name"] == [None, "第一期"]
    assert created.changes["site_ids"] == [None, [site.id]]
    data.end_date = date(2026, 12, 21)
    periods.save_period(period, data)
    assert rows()[-1].changes == {"end_date": ["2026-12-20", "2026-12-21"]}
    periods.set_open(period, False)
    periods.set_self_signup(period, True)
    assert [r.action for r in rows()] == [
        audit.PERIOD_CREATE,
        audit.PERIOD_UPDATE,
        audit.PERIOD_LOCK,
        audit.PERIOD_SIGNUP,
    ]
    with pytest.raises(PeriodError):
        periods.save_period(period, PeriodData(name="", start_date=DAY, end_date=DAY))
    db.session.rollback()
    assert len(rows()) == 4


# Catalogue, imports, claim codes ----------------------------------------------------------


def test_catalogue_saves_and_merges(app: Flask, make_volunteer: Callable[..., User]) -> None:
    district = catalogue_admin.save_district(None, "崇川区")
    catalogue_admin.save_district(district, "崇川")
    with pytest.raises(CatalogueError):
        catalogue_admin.save_district(None, "崇川")  # the name is taken
    db.session.rollback()
    first, second = WorkUnit(name="甲"), WorkUnit(name="乙")
    db.session.add_all([first, second])
    db.session.commit()
    make_volunteer(work_unit=first)
    catalogue_admin.merge_work_units(first, second)
    found = rows()
    assert [r.action for r in found] == [
        audit.CATALOGUE_SAVE,
        audit.CATALOGUE_SAVE,
        audit.WORK_UNIT_MERGE,
    ]
    assert found[1].changes == {"name": ["崇川区", "崇川"]}
    assert found[1].district_id == district.id
    assert found[2].details == {"merged_id": first.id, "volunteers_moved": 1}


def test_an_import_writes_one_row_for_the_whole_file(app: Flask) -> None:
    data = "姓名,手机,工作单位\n甲,13812340051,新单位\n乙,13812340052,\n".encode()
    preview = importer.preview_import(data, "list.csv", None)
    importer.write_import(preview)
    entry = one(audit.IMPORT)
    assert entry.details["accounts_created"] == 2
    assert entry.details["work_units"] == ["新单位"]
    assert "13812340051" not in str(entry.details)


def test_a_claim_code_reset_is_recorded_and_a_refused_one_is_not(
    app: Flask, make_volunteer: Callable[..., User]
) -> None:
    registered = make_volunteer()
    with pytest.raises(claims.ClaimError):
        claims.reissue_code(registered)
    db.session.rollback()
    assert rows() == []
    data = "姓名,手机\n甲,13812340061\n".encode()
    importer.write_import(importer.preview_import(data, "list.csv", None))
    imported = db.session.scalar(select(User).where(User.phone == "+8613812340061"))
    assert imported is not None
    claims.reissue_code(imported)
    entry = rows()[-1]
    assert (entry.action, entry.object_type, entry.object_id) == (
        audit.CLAIM_CODE_RESET,
        "user",
        imported.id,
    )


# Accounts -----------------------------------------------------------------------------------


def test_role_changes_deactivation_and_password_resets(
    app: Flask, make_user: Callable[..., User]
) -> None:
    boss = make_user(ADMIN, name="管理员")
    person = make_user(name="张三", phone="13812345678")
    admin.change_role(person, COORDINATOR)
    admin.set_active(boss, person, False)
    admin.set_password(person, "another-pass-1")
    with pytest.raises(AdminError):
        admin.set_active(boss, boss, False)  # not yourself
    with pytest.raises(AdminError):
        admin.change_role(boss, COORDINATOR)  # the last admin
    db.session.rollback()
    found = rows()
    assert [r.action for r in found] == [
        audit.ROLE_CHANGE,
        audit.ACCOUNT_DEACTIVATE,
        audit.PASSWORD_RESET,
    ]
    assert found[0].changes == {"role": ["volunteer", "coordinator"]}
    assert found[1].changes == {"active": [True, False]}
    assert found[1].actor_id == boss.id
    assert found[1].actor_name == "管理员"
    assert found[2].changes == {}  # never the password or its hash
    assert all(r.summary == "张三 (138****5678)" for r in found)
    assert "13812345678" not in str([(r.summary, r.changes, r.details) for r in found])


def test_training_and_verification(
    app: Flask, make_volunteer: Callable[..., User], coordinator: User
) -> None:
    person = make_volunteer()
    assert person.volunteer is not None
    pool.set_trained(person.volunteer, True)
    pool.set_trained(person.volunteer, True)  # marking again keeps the date: no change
    assert [r.action for r in rows()] == [audit.VOLUNTEER_TRAINED]
    assert rows()[0].volunteer_id == person.volunteer.id


def test_marking_a_volunteer_unavailable(
    app: Flask, make_volunteer: Callable[..., User], coordinator: User
) -> None:
    person = make_volunteer()
    assert person.volunteer is not None
    with pytest.raises(my_shifts.ShiftError):
        my_shifts.mark_unavailable(person.volunteer, DAY, DAY, "", coordinator)
    db.session.rollback()
    assert rows() == []
    my_shifts.mark_unavailable(person.volunteer, DAY, DAY, "电话 13812345678 说病了", coordinator)
    entry = one(audit.VOLUNTEER_UNAVAILABLE)
    assert entry.actor_id == coordinator.id
    assert entry.details == {
        "first": "2026-12-08",
        "last": "2026-12-08",
        "reason": "电话 138****5678 说病了",
        "shifts_cancelled": 0,
    }


# Hand edits, overrides, publish, urgent requests ------------------------------------------


@pytest.fixture
def draft_world(
    app: Flask,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
) -> tuple[PlanningPeriod, Site, User, User]:
    site = make_site(name="小海高速卡口", demand={"registrar": 2})
    period = make_period(sites=[site])
    alice = make_volunteer(name="张三")
    bob = make_volunteer(name="李四")
    for person in (alice, bob):
        assert person.volunteer is not None
        db.session.add(Availability(volunteer_id=person.volunteer.id, day=DAY, start_hour=8))
    db.session.commit()
    make_roster(period, [])
    return period, site, alice, bob


def test_hand_edits_and_an_override_each_write_one_row(
    draft_world: tuple[PlanningPeriod, Site, User, User],
) -> None:
    period, site, alice, bob = draft_world
    assert alice.volunteer is not None
    assert bob.volunteer is not None
    checker = role("registrar")
    outcome = editing.assign(period, site, DAY, "day", checker, alice.volunteer.id)
    db.session.commit()
    assert outcome.applied
    assert not outcome.warnings
    entry = one(audit.EDIT_ASSIGN)
    assert entry.changes == {
        "volunteer_id": [None, alice.volunteer.id],
        "volunteer": [None, "张三"],
    }
    assert (entry.period_id, entry.site_id, entry.volunteer_id) == (
        period.id,
        site.id,
        alice.volunteer.id,
    )

    # Bob is not available for the evening: a warning; unconfirmed, nothing is written.
    refused = editing.assign(period, site, DAY, "evening", checker, bob.volunteer.id)
    db.session.commit()
    assert not refused.applied
    assert refused.warnings
    assert len(rows()) == 1
    confirmed = editing.assign(
        period, site, DAY, "evening", checker, bob.volunteer.id, confirm=True, note="人手不够"
    )
    db.session.commit()
    assert confirmed.applied
    override = rows()[-1]
    assert override.action == audit.EDIT_OVERRIDE
    assert override.details["note"] == "人手不够"
    assert override.details["warnings"]

    placed = db.session.get(editing.Assignment, entry.object_id)
    assert placed is not None
    editing.set_pinned(placed, True)
    editing.unassign(placed)
    db.session.commit()
    assert [r.action for r in rows()][-2:] == [audit.EDIT_PIN, audit.EDIT_UNASSIGN]
    assert rows()[-1].changes == {
        "volunteer_id": [alice.volunteer.id, None],
        "volunteer": ["张三", None],
    }


def test_publish_and_an_urgent_request(
    draft_world: tuple[PlanningPeriod, Site, User, User], coordinator: User
) -> None:
    period, site, alice, _bob = draft_world
    assert alice.volunteer is not None
    editing.assign(period, site, DAY, "day", role("registrar"), alice.volunteer.id)
    db.session.commit()
    publishing.publish(period, coordinator)
    db.session.commit()
    published = rows()[-1]
    assert (published.action, published.actor_id, published.actor_name) == (
        audit.PUBLISH,
        coordinator.id,
        "协调员",
    )
    assert published.details["version"] == 1
    assert published.details["base_version"] is None

    with pytest.raises(urgent.UrgentError):
        urgent.create_request(period, site.id, DAY, time(9), time(9), {}, "", coordinator)
    db.session.rollback()
    count = len(rows())
    request = urgent.create_request(
        period,
        site.id,
        date(2026, 12, 9),
        time(8),
        time(12),
        {role("registrar").id: 2},
        "急需 13812345678 联系",
        coordinator,
    )
    found = rows()
    assert len(found) == count + 1
    assert (found[-1].action, found[-1].object_id) == (audit.URGENT_CREATE, request.id)
    assert found[-1].details["note"] == "急需 138****5678 联系"
    urgent.withdraw(request)
    assert rows()[-1].action == audit.URGENT_WITHDRAW


# Through the app: who and from where ----------------------------------------------------------


def test_a_request_records_the_logged_in_actor_and_address(
    app: Flask, coordinator: User, make_period: Callable[..., PlanningPeriod]
) -> None:
    period = make_period()
    client = signed_in(app, coordinator)
    response = client.post(f"/coordinator/periods/{period.id}/self-signup", data={"open": "1"})
    assert response.status_code == 302
    entry = one(audit.PERIOD_SIGNUP)
    assert (entry.actor_id, entry.actor_name, entry.actor_role, entry.ip) == (
        coordinator.id,
        "协调员",
        COORDINATOR,
        "127.0.0.1",
    )
    assert entry.changes == {"self_signup_open": [False, True]}


def test_a_personal_data_export_is_recorded(
    app: Flask,
    coordinator: User,
    draft_world: tuple[PlanningPeriod, Site, User, User],
) -> None:
    period, site, alice, _bob = draft_world
    make_roster(period, [(site, DAY, "day", "code_checker", alice)], version=1)
    client = signed_in(app, coordinator)
    assert client.get(f"/sheets/periods/{period.id}/roster.csv").status_code == 200
    entry = one(audit.EXPORT)
    assert (entry.object_type, entry.actor_id, entry.period_id) == (
        "roster_csv",
        coordinator.id,
        period.id,
    )
    assert entry.details == {"version": 1, "rows": 1}


# Append-only, and rows outlive accounts ----------------------------------------------------


def test_rows_survive_the_deletion_of_the_account_that_made_them_without_its_name(
    app: Flask, make_user: Callable[..., User], make_period: Callable[..., PlanningPeriod]
) -> None:
    """The row stays (who did it: the account id), but the deleted person's name leaves the
    log with the rest of their personal data, wherever the log names them."""
    lead = make_user("volunteer", name="王队长")
    period = make_period()
    audit.record(
        audit.PERIOD_SIGNUP, object_type="period", object_id=period.id, summary="x", actor=lead
    )
    audit.record(
        audit.PERIOD_UPDATE,
        object_type="period",
        object_id=period.id,
        summary="王队长 改了名称",
        before={"contact": "王队长"},
        after={"contact": "李四"},
    )
    db.session.commit()
    delete_account(lead, PASSWORD)
    entry, other = rows()
    anonymous = db.session.get(User, lead.id).name
    assert (entry.actor_id, entry.actor_name) == (lead.id, anonymous)
    assert other.summary == f"{anonymous} 改了名称"
    assert other.changes == {"contact": [anonymous, "李四"]}
    assert "王队长" not in repr(
        [
            (e.actor_name, e.summary, e.changes, e.details)
            for e in db.session.scalars(select(AuditEntry))
        ]
    )
    # A row removed from the database outright (the app never does) leaves the log as it is.
    db.session.delete(db.session.get(User, lead.id))
    db.session.commit()
    assert rows()[0].actor_name == anonymous


def _names_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
    }


def test_nothing_in_the_app_updates_or_deletes_audit_rows() -> None:
    """Only services/audit.py uses AuditEntry (besides its definition and export), and
    services/audit.py has no update or delete at all."""
    users = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "scheduler").rglob("*.py")
        if "AuditEntry" in _names_in(path)
    }
    assert users == {"scheduler/services/audit.py"}
    names = _names_in(ROOT / "scheduler" / "services" / "audit.py")
    assert not names & {"update", "delete", "merge"}


def test_the_log_has_no_route_that_writes(app: Flask) -> None:
    for rule in app.url_map.iter_rules():
        if "audit" in rule.rule:
            assert rule.methods is not None
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule


def test_every_action_has_a_label() -> None:
    from scheduler.labels import AUDIT_ACTION_LABELS

    assert set(AUDIT_ACTION_LABELS) == set(audit.ACTIONS)


def test_count_is_exact(app: Flask) -> None:
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 0
