"""Claiming an imported account: a union's list was imported, so the volunteer's account exists
without a password; registering with that phone completes the account instead of failing."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm.attributes import set_committed_value

from scheduler.extensions import db
from scheduler.models import COORDINATOR, District, Skill, User, WorkUnit
from scheduler.models.accounts import IMPORTED_PASSWORD_HASH
from scheduler.services import importer, registration
from tests.fixtures.auth import PASSWORD
from tests.test_auth import registration_form
from tests.test_registration_concurrency import register_in_parallel

PHONE = "13812340001"
E164 = "+8613812340001"
# Full-width brackets as unions type them: the name differs from its normalised form.
UNIT = "中建三局（南通）"
HEADER = [
    "姓名",
    "手机号",
    "工作单位",
    "区县",
    "技能",
    "可夜班",
    "每周上限",
    "紧急联系人",
    "紧急联系电话",
]
ROW = ["张伟", PHONE, UNIT, "崇川区", "医护资质、驾驶", "是", "4", "李娜", "13812349999"]
CLAIM_SUCCESS = "Your union had already added you to Muster"
LOGIN_HINT = "Register with your mobile number to set your password."


def import_rows(rows: list[list[str]], header: list[str] = HEADER) -> list[User]:
    """Import `rows` through the importer service, as the coordinator's confirm does."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    preview = importer.preview_import(buffer.getvalue().encode(), "名单.csv", None)
    assert not preview.invalid_rows, [r.errors for r in preview.invalid_rows]
    assert importer.write_import(preview) == len(rows)
    return list(db.session.scalars(select(User).order_by(User.id)))


@pytest.fixture
def imported(app: Flask) -> User:
    """One imported volunteer whose medical qualification a coordinator verified, and who
    has been trained: what the claim must not lose."""
    db.session.add(District(name="崇川区"))
    db.session.commit()
    (user,) = import_rows([ROW])
    assert user.volunteer is not None
    coordinator = User(name="协调员", phone="+8613900000001", role=COORDINATOR)
    coordinator.set_password(PASSWORD)
    db.session.add(coordinator)
    db.session.flush()
    medical = next(vs for vs in user.volunteer.skills if vs.skill.code == "medical")
    medical.verified_at = datetime(2026, 11, 30, 9, tzinfo=UTC)
    medical.verified_by_id = coordinator.id
    user.volunteer.trained_at = datetime(2026, 12, 1, 10, tzinfo=UTC)
    db.session.commit()
    return user


def users_with_phone(phone: str) -> int:
    return db.session.scalar(select(func.count(User.id)).where(User.phone == phone)) or 0


def claim_form(**overrides: Any) -> dict[str, Any]:
    return registration_form(
        **{
            "name": "张伟伟",
            "phone": "138 1234 0001",
            "work_unit": "",
            "emergency_name": "张母",
            "emergency_phone": "13700137000",
            "weekly_cap": "3",
            **overrides,
        }
    )


def test_claim_completes_the_imported_account_and_logs_in(
    client: FlaskClient, app: Flask, imported: User
) -> None:
    user_id, unit_id, district_id = (
        imported.id,
        imported.volunteer.work_unit_id,
        imported.volunteer.district_id,
    )
    units_before = db.session.scalar(select(func.count(WorkUnit.id)))

    response = client.post("/register", data=claim_form())

    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert response.headers["Location"] == "/me"
    me = client.get("/me")
    assert me.status_code == 200
    assert CLAIM_SUCCESS in me.get_data(as_text=True)

    db.session.expire_all()
    assert users_with_phone(E164) == 1
    user = db.session.get(User, user_id)
    assert user is not None
    assert user.volunteer is not None
    assert user.name == "张伟伟"
    assert user.has_usable_password
    assert user.check_password(PASSWORD)
    volunteer = user.volunteer
    # Left empty on the form: the union's entries stay, and no second unit appears.
    assert volunteer.work_unit_id == unit_id
    assert volunteer.work_unit.name == UNIT
    assert db.session.scalar(select(func.count(WorkUnit.id))) == units_before
    assert volunteer.district_id == district_id
    # Submitted: replaces the import (nights unticked, cap 3, new emergency contact).
    assert volunteer.accepts_nights is False
    assert volunteer.weekly_cap == 3
    assert (volunteer.emergency_name, volunteer.emergency_phone) == ("张母", "+8613700137000")
    # The verified qualification and the training stay; the unticked, unverified skill goes.
    assert {vs.skill.code: vs.verified_at is not None for vs in volunteer.skills} == {
        "medical": True
    }
    assert volunteer.trained_at is not None
    assert volunteer.consented_at is not None

    # The password now works on the login page, from another browser.
    other = app.test_client()
    login = other.post("/login", data={"phone": PHONE, "password": PASSWORD})
    assert login.status_code == 302
    assert login.headers["Location"] == "/me"


def test_claim_with_typed_work_unit_and_skills_replaces_the_imported_ones(
    client: FlaskClient, app: Flask, imported: User
) -> None:
    user_id, imported_unit = imported.id, imported.volunteer.work_unit_id
    disinfection = db.session.scalar(select(Skill.id).where(Skill.code == "disinfection"))
    response = client.post(
        "/register",
        data=claim_form(work_unit="南通供电公司", skills=[str(disinfection)], accepts_nights="y"),
    )
    assert response.status_code == 302
    db.session.expire_all()
    volunteer = db.session.get(User, user_id).volunteer
    assert volunteer.work_unit.name == "南通供电公司"
    assert volunteer.work_unit_id != imported_unit
    assert volunteer.accepts_nights is True
    assert sorted(vs.skill.code for vs in volunteer.skills) == ["disinfection", "medical"]


def test_claim_escapes_the_typed_name(client: FlaskClient, imported: User) -> None:
    response = client.post("/register", data=claim_form(name="<script>x</script>"))
    assert response.status_code == 302
    html = client.get("/me").get_data(as_text=True)
    assert "<script>x</script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html


def assert_refused_and_unchanged(response: Any, user_id: int, password_hash: str) -> None:
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "This mobile number is already registered." in html
    assert CLAIM_SUCCESS not in html
    db.session.expire_all()
    user = db.session.get(User, user_id)
    assert user is not None
    assert user.volunteer is not None
    assert user.password_hash == password_hash
    assert user.name == "张伟"
    assert user.volunteer.consented_at is None
    assert user.volunteer.weekly_cap == 4
    assert db.session.scalar(select(func.count(User.id))) == 2  # the import and the coordinator


def test_deactivated_imported_account_is_not_claimed(
    client: FlaskClient, app: Flask, imported: User
) -> None:
    imported.active = False
    db.session.commit()
    response = client.post("/register", data=claim_form())
    assert_refused_and_unchanged(response, imported.id, IMPORTED_PASSWORD_HASH)
    assert client.get("/me").status_code == 302  # not logged in


def test_imported_account_with_a_password_is_not_claimed(
    client: FlaskClient, app: Flask, imported: User
) -> None:
    imported.set_password("set-by-an-admin")  # as the admin's "set password" does
    db.session.commit()
    stored = imported.password_hash
    response = client.post("/register", data=claim_form(password="x" * 10, confirm="x" * 10))
    assert_refused_and_unchanged(response, imported.id, stored)
    db.session.expire_all()
    assert db.session.get(User, imported.id).check_password("set-by-an-admin")


def test_staff_account_without_a_password_is_not_claimable(
    client: FlaskClient, app: Flask, make_user: Callable[..., User]
) -> None:
    staff = make_user(COORDINATOR, phone=PHONE)
    staff.password_hash = IMPORTED_PASSWORD_HASH
    db.session.commit()
    response = client.post("/register", data=claim_form(work_unit="某单位"))
    assert response.status_code == 422
    assert "This mobile number is already registered." in response.get_data(as_text=True)
    db.session.expire_all()
    staff = db.session.get(User, staff.id)
    assert staff.password_hash == IMPORTED_PASSWORD_HASH
    assert staff.volunteer is None


def test_claim_needs_a_work_unit_when_the_import_had_none(client: FlaskClient, app: Flask) -> None:
    (user,) = import_rows([["陆建国", PHONE]], header=["姓名", "手机号"])
    response = client.post("/register", data=claim_form())
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="work_unit-error"' in html
    assert "This field is required." in html
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == IMPORTED_PASSWORD_HASH

    response = client.post("/register", data=claim_form(work_unit="如东县总工会"))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).volunteer.work_unit.name == "如东县总工会"


def test_claim_with_invalid_input_writes_nothing(client: FlaskClient, imported: User) -> None:
    response = client.post("/register", data=claim_form(emergency_phone="123"))
    assert response.status_code == 422
    assert "Not a valid Chinese mobile number." in response.get_data(as_text=True)
    db.session.expire_all()
    user = db.session.get(User, imported.id)
    assert user.password_hash == IMPORTED_PASSWORD_HASH
    assert user.name == "张伟"
    assert user.volunteer.consented_at is None


# --- login ------------------------------------------------------------------------------------


def test_login_page_always_shows_the_register_hint(client: FlaskClient) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert "Added by your work unit?" in html
    assert f'<a href="/register">{LOGIN_HINT}</a>' in html


def test_login_hint_and_claim_welcome_are_translated(client: FlaskClient, imported: User) -> None:
    zh = {"Accept-Language": "zh-CN"}
    assert "用您的手机号注册，即可设置密码。" in client.get("/login", headers=zh).get_data(
        as_text=True
    )
    assert client.post("/register", data=claim_form(), headers=zh).status_code == 302
    assert "您的工会此前已将您录入集结号" in client.get("/me", headers=zh).get_data(as_text=True)


@pytest.mark.parametrize("password", [PASSWORD, "!imported", "imported", ""])
def test_unclaimed_imported_account_cannot_log_in_and_is_not_revealed(
    client: FlaskClient, imported: User, password: str
) -> None:
    response = client.post("/login", data={"phone": PHONE, "password": password or "x"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Mobile number or password is not correct." in html
    assert "registered" not in html
    assert LOGIN_HINT in html  # the same page anyone gets after a failed login
    assert client.get("/me").status_code == 302


# --- two claims at once -----------------------------------------------------------------------


def test_two_claims_at_once_exactly_one_wins(any_db_app: Flask) -> None:
    (user,) = import_rows([["张伟", PHONE, UNIT, "", "", "", "", "", ""]])
    forms = [
        claim_form(name="甲", password="password-of-a", confirm="password-of-a"),
        claim_form(
            name="乙", phone="+86 138 1234 0001", password="password-of-b", confirm="password-of-b"
        ),
    ]
    results = register_in_parallel(any_db_app, forms)
    assert sorted(status for status, _ in results) == [302, 422]
    loser = next(body for status, body in results if status == 422)
    assert "This mobile number is already registered." in loser
    winner = next(i for i, (status, _) in enumerate(results) if status == 302)

    db.session.expire_all()
    assert users_with_phone(E164) == 1
    claimed = db.session.get(User, user.id)
    assert claimed.name == ("甲", "乙")[winner]
    assert claimed.check_password(("password-of-a", "password-of-b")[winner])
    assert not claimed.check_password(("password-of-a", "password-of-b")[1 - winner])
    assert claimed.volunteer.consented_at is not None


def test_claim_lost_after_a_stale_check_is_refused_not_overwritten(
    any_db_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same race made deterministic: the second claim's check still sees the account
    without a password (it ran just before the first claim committed), so only the
    conditional UPDATE stands between it and silently replacing the first password."""
    (user,) = import_rows([["张伟", PHONE, UNIT, "", "", "", "", "", ""]])
    first = any_db_app.test_client().post("/register", data=claim_form(name="先到"))
    assert first.status_code == 302

    real = registration._claimable_account

    def stale(phone: str) -> User | None:
        account = db.session.scalar(select(User).where(User.phone == E164))
        assert account is not None
        assert real(phone) is None  # really claimed by now
        set_committed_value(account, "password_hash", IMPORTED_PASSWORD_HASH)
        return account

    monkeypatch.setattr(registration, "_claimable_account", stale)
    second = any_db_app.test_client().post(
        "/register",
        data=claim_form(name="后到", password="another-password", confirm="another-password"),
    )
    assert second.status_code == 422
    assert "This mobile number is already registered." in second.get_data(as_text=True)
    db.session.expire_all()
    claimed = db.session.get(User, user.id)
    assert claimed.name == "先到"
    assert claimed.check_password(PASSWORD)
    assert not claimed.check_password("another-password")
