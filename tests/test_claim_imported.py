"""Claiming an imported account (issue 9, item 5): a union's list was imported, so the
volunteer's account exists without a password. The phone number alone never claims it: the
one-time claim code from the import (a slip per person) is needed, works once, expires,
is stored only as a keyed digest, and failed attempts are rate limited per phone."""

from __future__ import annotations

import csv
import io
import re
import stat
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import func, select, text
from sqlalchemy.orm.attributes import set_committed_value

from scheduler.extensions import db
from scheduler.models import COORDINATOR, District, User
from scheduler.models.accounts import IMPORTED_PASSWORD_HASH
from scheduler.models.base import utcnow
from scheduler.services import claims, importer
from tests.fixtures.auth import PASSWORD, login, without_csrf_tokens
from tests.test_auth import registration_form

PHONE = "13812340001"
E164 = "+8613812340001"
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
REFUSED = "do not match an account waiting to be claimed"
CODE_SHAPE = re.compile(r"^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$")


def import_rows(rows: list[list[str]], header: list[str] = HEADER) -> list[claims.ClaimSlip]:
    """Import `rows` through the importer service, as the coordinator's confirm does."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    preview = importer.preview_import(buffer.getvalue().encode(), "名单.csv", None)
    assert not preview.invalid_rows, [r.errors for r in preview.invalid_rows]
    slips = importer.write_import(preview)
    assert len(slips) == len(rows)
    return slips


@pytest.fixture
def imported(app: Flask) -> tuple[User, str]:
    """One imported volunteer, with a verified qualification and training, and their code."""
    db.session.add(District(name="崇川区"))
    db.session.commit()
    (slip,) = import_rows([ROW])
    user = db.session.scalar(select(User).where(User.phone == E164))
    assert user is not None
    assert user.volunteer is not None
    medical = next(vs for vs in user.volunteer.skills if vs.skill.code == "medical")
    medical.verified_at = datetime(2026, 11, 30, 9, tzinfo=UTC)
    user.volunteer.trained_at = datetime(2026, 12, 1, 10, tzinfo=UTC)
    db.session.commit()
    return user, slip.code


def claim_form(code: str, **overrides: Any) -> dict[str, Any]:
    data = {
        "phone": "138 1234 0001",
        "code": code,
        "password": PASSWORD,
        "confirm": PASSWORD,
        "consent": "y",
        **overrides,
    }
    return {k: v for k, v in data.items() if v is not None}


def fresh(user_id: int) -> User:
    db.session.expire_all()
    user = db.session.get(User, user_id)
    assert user is not None
    return user


def assert_unclaimed(user_id: int) -> None:
    user = fresh(user_id)
    assert user.password_hash == IMPORTED_PASSWORD_HASH
    assert user.volunteer is not None
    assert user.volunteer.consented_at is None


# --- codes ----------------------------------------------------------------------------------


def test_codes_are_easy_to_type_and_typed_loosely() -> None:
    codes = {claims.new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == 8
        assert not set(code) & set("01OIL")
        assert CODE_SHAPE.match(claims.format_code(code))
    assert claims.normalise_code(" k7qm-3wxd ") == "K7QM3WXD"
    assert claims.normalise_code("K7QM 3WXD") == "K7QM3WXD"
    for bad in ("K7QM3WX", "K7QM3WXDD", "K7QM3WX0", "", None):
        assert claims.normalise_code(bad) is None


def test_each_imported_person_gets_a_code_stored_only_as_a_digest(
    imported: tuple[User, str],
) -> None:
    user, code = imported
    assert CODE_SHAPE.match(code)
    stored = fresh(user.id)
    assert stored.claim_code_hash is not None
    assert len(stored.claim_code_hash) == 64
    assert code.replace("-", "") not in stored.claim_code_hash
    expires = stored.claim_code_expires_at
    assert expires is not None
    assert timedelta(days=13, hours=23) < expires - utcnow() <= timedelta(days=14)
    # Nowhere in the table in plain text.
    dump = " ".join(str(v) for v in db.session.execute(text("SELECT * FROM users")).one())
    assert code.replace("-", "") not in dump
    assert code not in dump


def test_claim_code_days_is_a_setting(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(CLAIM_CODE_DAYS=3)
    with app.app_context():
        import_rows([["陆建国", PHONE]], header=["姓名", "手机号"])
        user = db.session.scalar(select(User).where(User.phone == E164))
        assert user.claim_code_expires_at is not None
        assert user.claim_code_expires_at - utcnow() <= timedelta(days=3)


# --- claiming -------------------------------------------------------------------------------


def test_claim_with_the_code_completes_the_account_and_logs_in(
    client: FlaskClient, app: Flask, imported: tuple[User, str]
) -> None:
    user, code = imported
    unit_id = user.volunteer.work_unit_id
    assert client.get("/claim").status_code == 200
    response = client.post("/claim", data=claim_form(code.lower().replace("-", " ")))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert response.headers["Location"] == "/me/profile"
    assert "Your union had already added you" in client.get("/me/profile").get_data(as_text=True)

    claimed = fresh(user.id)
    assert claimed.check_password(PASSWORD)
    assert claimed.claim_code_hash is None
    assert claimed.claim_code_expires_at is None
    volunteer = claimed.volunteer
    assert volunteer.consented_at is not None
    assert volunteer.work_unit_id == unit_id
    assert volunteer.trained_at is not None
    assert {vs.skill.code: vs.verified_at is not None for vs in volunteer.skills} == {
        "medical": True,
        "driving": False,
    }
    other = app.test_client()
    assert other.post("/login", data={"phone": PHONE, "password": PASSWORD}).status_code == 302


def test_the_phone_number_alone_claims_nothing(
    client: FlaskClient, imported: tuple[User, str]
) -> None:
    """The old path: registering with the imported number used to take the account over."""
    user, _code = imported
    response = client.post(
        "/register", data=registration_form(phone=PHONE, name="冒名者", work_unit="某单位")
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "This mobile number is already registered." in html
    assert "Claim your account with the code from your slip" in html
    assert_unclaimed(user.id)
    assert fresh(user.id).name == "张伟"
    assert client.get("/me").status_code == 302


def test_registering_a_registered_or_an_imported_number_reads_the_same(
    client: FlaskClient, imported: tuple[User, str], make_volunteer: Callable[..., User]
) -> None:
    make_volunteer(phone="13812340099")
    answers = []
    for phone in (PHONE, "13812340099"):
        form = registration_form(phone=phone, name="某人", work_unit="某单位")
        response = client.post("/register", data=form)
        assert response.status_code == 422
        page = response.get_data(as_text=True).replace(phone, "N")
        answers.append(without_csrf_tokens(page))
    assert answers[0] == answers[1]


@pytest.mark.parametrize(
    "overrides",
    [
        {"code": "ABCD-EFGH"},  # a wrong code
        {"code": ""},  # no code
        {"code": "not a code at all"},
        {"phone": "13812340002"},  # a number that was not imported
    ],
)
def test_a_wrong_code_or_number_is_refused_with_one_message(
    client: FlaskClient, imported: tuple[User, str], overrides: dict[str, str]
) -> None:
    user, code = imported
    response = client.post("/claim", data=claim_form(**{"code": code, **overrides}))
    assert response.status_code == 422
    if overrides.get("code") != "":
        assert REFUSED in response.get_data(as_text=True)
    assert_unclaimed(user.id)


def test_another_persons_code_does_not_claim(
    client: FlaskClient, imported: tuple[User, str]
) -> None:
    user, _code = imported
    (other,) = import_rows([["李四", "13812340002"]], header=["姓名", "手机号"])
    response = client.post("/claim", data=claim_form(other.code))
    assert response.status_code == 422
    assert_unclaimed(user.id)


def test_a_code_works_once(app: Flask, imported: tuple[User, str]) -> None:
    user, code = imported
    assert app.test_client().post("/claim", data=claim_form(code)).status_code == 302
    again = app.test_client().post(
        "/claim", data=claim_form(code, password="another-pass-1", confirm="another-pass-1")
    )
    assert again.status_code == 422
    assert REFUSED in again.get_data(as_text=True)
    assert fresh(user.id).check_password(PASSWORD)


def test_an_expired_code_is_refused(client: FlaskClient, imported: tuple[User, str]) -> None:
    user, code = imported
    user.claim_code_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = client.post("/claim", data=claim_form(code))
    assert response.status_code == 422
    assert REFUSED in response.get_data(as_text=True)
    assert_unclaimed(user.id)


def test_deactivated_and_staff_accounts_are_never_claimed(
    client: FlaskClient, imported: tuple[User, str], make_user: Callable[..., User]
) -> None:
    user, code = imported
    user.active = False
    db.session.commit()
    assert client.post("/claim", data=claim_form(code)).status_code == 422
    assert fresh(user.id).password_hash == IMPORTED_PASSWORD_HASH
    staff = make_user(COORDINATOR, phone="13812340009")
    staff.password_hash = IMPORTED_PASSWORD_HASH
    db.session.commit()
    with pytest.raises(claims.ClaimError):
        claims.reissue_code(staff)


def test_bad_password_or_no_consent_writes_nothing(
    client: FlaskClient, imported: tuple[User, str]
) -> None:
    user, code = imported
    for overrides in ({"password": "short", "confirm": "short"}, {"consent": None}):
        response = client.post("/claim", data=claim_form(code, **overrides))
        assert response.status_code == 422
        assert_unclaimed(user.id)
    assert client.post("/claim", data=claim_form(code)).status_code == 302  # code not used up


def test_claim_attempts_are_rate_limited_per_phone(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(RATELIMIT_ENABLED=True)  # the default: 5 failures per 15 minutes
    with app.app_context():
        slips = import_rows([["张伟", PHONE], ["李四", "13812340002"]], header=["姓名", "手机号"])
        office = {"REMOTE_ADDR": "203.0.113.7"}
        for n in range(5):
            wrong = claim_form(f"ABCD-EFG{n + 2}")
            assert (
                app.test_client().post("/claim", data=wrong, environ_base=office).status_code == 422
            )
        # The sixth try for that number is refused, even with the right code.
        right = app.test_client().post(
            "/claim", data=claim_form(slips[0].code), environ_base=office
        )
        assert right.status_code == 429
        assert_unclaimed(db.session.scalar(select(User.id).where(User.phone == E164)))
        # A colleague from the same network claims as usual.
        colleague = app.test_client().post(
            "/claim",
            data=claim_form(slips[1].code, phone="13812340002"),
            environ_base=office,
        )
        assert colleague.status_code == 302


def test_two_claims_with_the_code_at_once_exactly_one_wins(any_db_app: Flask) -> None:
    (slip,) = import_rows([["张伟", PHONE, UNIT, "", "", "", "", "", ""]])
    passwords = ["password-of-a", "password-of-b"]
    barrier = threading.Barrier(2)
    results: list[int] = [0, 0]

    def worker(i: int) -> None:
        client = any_db_app.test_client()
        client.get("/claim")
        barrier.wait(timeout=10)
        form = claim_form(slip.code, password=passwords[i], confirm=passwords[i])
        results[i] = client.post("/claim", data=form).status_code

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [302, 422]
    winner = results.index(302)
    user = db.session.scalar(select(User).where(User.phone == E164))
    db.session.refresh(user)
    assert user.check_password(passwords[winner])
    assert not user.check_password(passwords[1 - winner])


def test_a_claim_lost_after_a_stale_check_is_refused_not_overwritten(
    any_db_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race made deterministic: the second claim read the account before the first one
    committed, so only the conditional UPDATE stands between it and a second password."""
    (slip,) = import_rows([["张伟", PHONE, UNIT, "", "", "", "", "", ""]])
    user = db.session.scalar(select(User).where(User.phone == E164))
    stale_hash, stale_expiry = user.claim_code_hash, user.claim_code_expires_at
    assert any_db_app.test_client().post("/claim", data=claim_form(slip.code)).status_code == 302

    real_scalar = db.session.scalar

    def stale_scalar(statement: Any, *args: Any, **kwargs: Any) -> Any:
        found = real_scalar(statement, *args, **kwargs)
        if isinstance(found, User) and found.phone == E164:
            set_committed_value(found, "password_hash", IMPORTED_PASSWORD_HASH)
            set_committed_value(found, "claim_code_hash", stale_hash)
            set_committed_value(found, "claim_code_expires_at", stale_expiry)
        return found

    monkeypatch.setattr(db.session, "scalar", stale_scalar)
    second = any_db_app.test_client().post(
        "/claim", data=claim_form(slip.code, password="another-pass-1", confirm="another-pass-1")
    )
    monkeypatch.undo()
    assert second.status_code == 422
    db.session.expire_all()
    claimed = db.session.scalar(select(User).where(User.phone == E164))
    assert claimed.check_password(PASSWORD)
    assert not claimed.check_password("another-pass-1")


# --- login ----------------------------------------------------------------------------------


def test_login_page_points_to_the_claim_page(client: FlaskClient) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert 'href="/claim"' in html


@pytest.mark.parametrize("password", [PASSWORD, "!imported", "imported"])
def test_unclaimed_imported_account_cannot_log_in(
    client: FlaskClient, imported: tuple[User, str], password: str
) -> None:
    response = client.post("/login", data={"phone": PHONE, "password": password})
    assert response.status_code == 422
    assert "Mobile number or password is not correct." in response.get_data(as_text=True)


def test_claim_page_in_chinese(client: FlaskClient) -> None:
    html = client.get("/claim", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "认领账号" in html
    assert "认领码" in html


# --- the coordinator's side -----------------------------------------------------------------


def upload_and_confirm(client: FlaskClient, rows: list[list[str]]) -> Any:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["姓名", "手机号", "工作单位"], *rows])
    response = client.post(
        "/coordinator/import",
        data={"file": (io.BytesIO(buffer.getvalue().encode()), "名单.csv"), "work_unit": ""},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    preview_url = response.headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    fingerprint = re.search(r'name="fingerprint" type="hidden" value="([^"]+)"', page)
    assert fingerprint
    return client.post(preview_url, data={"fingerprint": fingerprint.group(1)})


ROWS = [
    ["甲一", "13812340011", "甲单位"],
    ["甲二", "13812340012", "甲单位"],
    ["乙一", "13812340021", "乙单位"],
    ["无单位", "13812340031", ""],
]


@pytest.fixture
def codes_page(
    app: Flask, client: FlaskClient, coordinator: User, tmp_path: Path
) -> tuple[FlaskClient, str]:
    app.config["IMPORT_DIR"] = str(tmp_path / "imports")
    login(client, coordinator)
    response = upload_and_confirm(client, ROWS)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/coordinator/import/codes/")
    return client, response.headers["Location"]


def test_the_import_lists_a_code_per_person_as_csv_and_xlsx(
    app: Flask, codes_page: tuple[FlaskClient, str], tmp_path: Path
) -> None:
    client, url = codes_page
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "not shown again" in html
    for unit in ("甲单位", "乙单位", "No work unit"):
        assert unit in html
    csv_response = client.get(f"{url}/codes.csv")
    assert csv_response.status_code == 200
    assert csv_response.headers["Cache-Control"] == "private, no-store"
    rows = list(csv.reader(io.StringIO(csv_response.get_data().decode("utf-8-sig"))))
    assert rows[0] == ["Name", "Mobile number", "Work unit", "Claim code", "Valid until"]
    by_phone = {row[1]: row[3] for row in rows[1:]}
    assert sorted(by_phone) == sorted(r[1] for r in ROWS)
    assert all(CODE_SHAPE.match(code) for code in by_phone.values())
    assert len(set(by_phone.values())) == len(ROWS)

    workbook = load_workbook(io.BytesIO(client.get(f"{url}/codes.xlsx").get_data()))
    sheet_rows = list(workbook.active.iter_rows(values_only=True))
    assert {r[1]: r[3] for r in sheet_rows[1:]} == by_phone

    # The plain copy is readable by the app's user only.
    (kept,) = (tmp_path / "imports").glob("*.codes.json")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600

    # Each listed code claims its own account.
    other = app.test_client()
    response = other.post("/claim", data=claim_form(by_phone["13812340021"], phone="13812340021"))
    assert response.status_code == 302


def test_a_slip_page_per_work_unit_as_html_and_pdf(codes_page: tuple[FlaskClient, str]) -> None:
    client, url = codes_page
    codes = {
        row[1]: row[3]
        for row in csv.reader(
            io.StringIO(client.get(f"{url}/codes.csv").get_data().decode("utf-8-sig"))
        )
    }
    first = client.get(f"{url}/slips/1")  # 甲单位, named units first by name
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    assert "甲一" in html
    assert "甲二" in html
    assert "乙一" not in html
    assert codes["13812340011"] in html
    assert codes["13812340021"] not in html
    assert "138****0011" in html
    assert "13812340011" not in html
    assert "css/print.css" in html
    assert "http://localhost/claim" in html
    pdf = client.get(f"{url}/slips/1.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.get_data().startswith(b"%PDF")
    assert client.get(f"{url}/slips/3").status_code == 200  # the people without a unit
    assert client.get(f"{url}/slips/4").status_code == 404


def test_codes_are_the_coordinators_own_and_can_be_discarded(
    app: Flask, codes_page: tuple[FlaskClient, str], make_user: Callable[..., User]
) -> None:
    client, url = codes_page
    colleague = app.test_client()
    login(colleague, make_user(COORDINATOR, phone="13900000099"))
    refused = colleague.get(url)
    assert refused.status_code == 302
    assert refused.headers["Location"] == "/coordinator/import"
    assert colleague.get(f"{url}/codes.csv").status_code == 302
    assert client.post(f"{url}/discard").status_code == 302
    assert client.get(url).status_code == 302
    assert client.get(f"{url}/codes.csv").status_code == 302


def test_a_coordinator_issues_a_new_code_the_old_one_stops(
    app: Flask, client: FlaskClient, coordinator: User, imported: tuple[User, str]
) -> None:
    user, old_code = imported
    login(client, coordinator)
    page = client.get(f"/coordinator/volunteers/{user.volunteer.id}").get_data(as_text=True)
    assert "Issue a new claim code" in page
    response = client.post(f"/coordinator/volunteers/{user.volunteer.id}/claim-code")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    new_code = re.search(r"<strong>([2-9A-Z]{4}-[2-9A-Z]{4})</strong>", html)
    assert new_code
    assert new_code.group(1) != old_code
    assert app.test_client().post("/claim", data=claim_form(old_code)).status_code == 422
    assert app.test_client().post("/claim", data=claim_form(new_code.group(1))).status_code == 302
    # Claimed now: no more codes for this account.
    page = client.get(f"/coordinator/volunteers/{user.volunteer.id}").get_data(as_text=True)
    assert "Issue a new claim code" not in page
    refused = client.post(f"/coordinator/volunteers/{user.volunteer.id}/claim-code")
    assert refused.status_code == 302
    assert fresh(user.id).claim_code_hash is None


def test_no_code_for_a_registered_volunteer(
    client: FlaskClient, coordinator: User, make_volunteer: Callable[..., User]
) -> None:
    volunteer = make_volunteer()
    login(client, coordinator)
    response = client.post(f"/coordinator/volunteers/{volunteer.volunteer.id}/claim-code")
    assert response.status_code == 302
    assert fresh(volunteer.id).claim_code_hash is None
    assert (
        db.session.scalar(select(func.count(User.id)).where(User.claim_code_hash.is_not(None))) == 0
    )
