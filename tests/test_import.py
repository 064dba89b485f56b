"""Importing a work unit's list of volunteers: upload -> preview with row errors -> confirm."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from scheduler.extensions import db
from scheduler.models import District, Skill, User, Volunteer, WorkUnit
from scheduler.models.accounts import IMPORTED_PASSWORD_HASH
from scheduler.services import importer
from scheduler.services.accounts import create_account
from scheduler.sessions import SESSION_KEY, password_version
from tests.fixtures.auth import PASSWORD, login
from tests.fixtures.auth import signed_in as signed_in_as

HEADER_ZH = [
    "序号",
    "姓名",
    "手机号",
    "区县",
    "技能",
    "可夜班",
    "每周上限",
    "紧急联系人",
    "紧急联系电话",
]
GOOD_ROWS = [
    ["1", "张伟", "13812340001", "崇川区", "组织带队经验、驾驶", "是", "4", "李娜", "13812349999"],
    ["2", "王芳", "138 1234 0002", "", "医护资质", "否", "", "", ""],
    ["3", "陆建国", "+86 13812340003", "", "", "Y", "5", "陆敏", "0513-85123456"],
]
GOOD_PHONES = {"+8613812340001", "+8613812340002", "+8613812340003"}


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8-sig", delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def signed_in(flask_app: Flask, user: User, tmp_path: Path) -> FlaskClient:
    flask_app.config["IMPORT_DIR"] = str(tmp_path / "imports")
    return signed_in_as(flask_app, user)


def upload(
    client: FlaskClient, data: bytes, filename: str = "名单.csv", work_unit: str = ""
) -> Any:
    return client.post(
        "/coordinator/import",
        data={"file": (io.BytesIO(data), filename), "work_unit": work_unit},
        content_type="multipart/form-data",
    )


def token_of(response: Any) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    match = re.search(r"/coordinator/import/([A-Za-z0-9_-]{32})$", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def fingerprint(page: str) -> str:
    match = re.search(r'name="fingerprint"[^>]*value="([0-9a-f]+)"', page) or re.search(
        r'value="([0-9a-f]+)"[^>]*name="fingerprint"', page
    )
    assert match, page[:3000]
    return match.group(1)


def confirm(client: FlaskClient, token: str, page: str, only_if_all_valid: bool = False) -> Any:
    data = {"fingerprint": fingerprint(page)}
    if only_if_all_valid:
        data["only_if_all_valid"] = "y"
    return client.post(f"/coordinator/import/{token}", data=data)


def row_html(page: str, line: int) -> str:
    match = re.search(rf'<tr class="import-row-\w+" id="import-row-{line}">(.*?)</tr>', page, re.S)
    assert match, f"row {line} not in preview"
    return match.group(1)


def user_count() -> int:
    return db.session.scalar(select(func.count(User.id))) or 0


def imported_phones() -> set[str]:
    return set(db.session.scalars(select(User.phone).where(User.password_hash.startswith("!"))))


@pytest.fixture
def districts() -> None:
    db.session.add_all([District(name="崇川区"), District(name="通州区")])
    db.session.commit()


@pytest.fixture
def coordinator_client(
    app: Flask, make_user: Callable[..., User], tmp_path: Path, districts: None
) -> FlaskClient:
    return signed_in(app, make_user("coordinator", name="协调员"), tmp_path)


# --- happy paths ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("名单.csv", csv_bytes([HEADER_ZH, *GOOD_ROWS], "utf-8-sig")),
        ("名单.csv", csv_bytes([HEADER_ZH, *GOOD_ROWS], "utf-8")),
        ("名单.csv", csv_bytes([HEADER_ZH, *GOOD_ROWS], "gbk")),
        ("名单.CSV", csv_bytes([HEADER_ZH, *GOOD_ROWS], "gbk", delimiter="\t")),
        ("名单.xlsx", xlsx_bytes([HEADER_ZH, *GOOD_ROWS])),
    ],
    ids=["utf8-bom", "utf8", "gbk", "gbk-tabs", "xlsx"],
)
def test_import_writes_exactly_the_previewed_rows(
    coordinator_client: FlaskClient, filename: str, data: bytes
) -> None:
    response = upload(coordinator_client, data, filename, work_unit="国网南通供电公司工会")
    token = token_of(response)
    assert user_count() == 1  # the upload and the preview write nothing

    page = coordinator_client.get(f"/coordinator/import/{token}").get_data(as_text=True)
    assert "3 rows can be imported" in page
    assert "0 rows have errors" in page
    for name in ("张伟", "王芳", "陆建国"):
        assert name in page
    assert "13812340002" in page
    assert "序号" in page  # listed among the ignored columns
    assert user_count() == 1

    response = confirm(coordinator_client, token, page)
    assert response.status_code == 302
    # On to the claim codes of the people just imported (tests/test_claim_imported.py).
    assert "/coordinator/import/codes/" in response.headers["Location"]
    flashed = coordinator_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Imported 3 volunteers; 0 rows with errors were skipped" in flashed

    assert imported_phones() == GOOD_PHONES
    zhang = db.session.scalar(select(User).where(User.phone == "+8613812340001"))
    assert zhang.name == "张伟"
    assert zhang.role == "volunteer"
    assert zhang.active
    assert not zhang.check_password("")
    assert not zhang.check_password(IMPORTED_PASSWORD_HASH)
    volunteer = zhang.volunteer
    assert volunteer.work_unit.name == "国网南通供电公司工会"
    assert volunteer.district.name == "崇川区"
    assert volunteer.accepts_nights is True
    assert volunteer.weekly_cap == 4
    assert volunteer.emergency_name == "李娜"
    assert volunteer.emergency_phone == "+8613812349999"
    assert {s.skill.code for s in volunteer.skills} == {"leadership", "driving"}
    wang = db.session.scalar(select(User).where(User.phone == "+8613812340002")).volunteer
    assert wang.accepts_nights is False
    assert wang.weekly_cap == importer.DEFAULT_WEEKLY_CAP
    assert [(s.skill.code, s.verified_at) for s in wang.skills] == [("medical", None)]
    lu = db.session.scalar(select(User).where(User.phone == "+8613812340003")).volunteer
    assert lu.emergency_phone == "0513-85123456"
    assert db.session.scalar(select(func.count(WorkUnit.id))) == 1

    # The stored upload is gone: confirming again imports nothing twice.
    again = confirm(coordinator_client, token, page)
    assert again.status_code == 302
    assert user_count() == 4


def test_work_unit_column_overrides_the_file_wide_choice(
    app: Flask, coordinator_client: FlaskClient
) -> None:
    db.session.add(WorkUnit(name="南通大学工会"))
    db.session.commit()
    rows = [
        ["name", "phone", "work unit", "nights", "weekly_cap"],
        ["Li Lei", "13812340011", "", "yes", "3"],
        ["Han Meimei", "13812340012", "中天科技工会", "0", "7"],
    ]
    token = token_of(upload(coordinator_client, csv_bytes(rows), "list.csv", "南通大学工会"))
    page = coordinator_client.get(f"/coordinator/import/{token}").get_data(as_text=True)
    assert confirm(coordinator_client, token, page).status_code == 302
    units = {
        u.name: u.volunteer.work_unit.name
        for u in db.session.scalars(select(User).where(User.role == "volunteer"))
    }
    assert units == {"Li Lei": "南通大学工会", "Han Meimei": "中天科技工会"}
    assert db.session.scalar(select(func.count(WorkUnit.id))) == 2  # 中天 created, 南大 reused


# --- bad rows ---------------------------------------------------------------------------------

HALF_BAD = [
    ["姓名", "手机", "区县", "技能", "可夜班", "每周上限", "紧急联系人", "紧急联系电话"],
    ["好人甲", "13812340021", "崇川区", "驾驶", "是", "4", "", ""],  # 2 ok
    ["坏号码", "1234567", "", "", "", "", "", ""],  # 3 bad phone
    ["重复者", "13812340021", "", "", "", "", "", ""],  # 4 duplicate of row 2
    ["老用户", "13812340099", "", "", "", "", "", ""],  # 5 already registered
    ["怪技能", "13812340025", "", "开挖掘机", "", "", "", ""],  # 6 unknown skill
    ["", "13812340026", "", "", "", "", "", ""],  # 7 missing name
    ["长" * 51, "13812340027", "", "", "", "", "", ""],  # 8 overlong name
    ["上限错", "13812340028", "", "", "", "9", "", ""],  # 9 bad cap
    ["夜班错", "13812340029", "", "", "也许", "", "", ""],  # 10 bad nights
    ["远区县", "13812340030", "火星区", "", "", "", "", ""],  # 11 unknown district
    ["<script>alert(1)</script>", "13812340031", "", "", "", "", "", ""],  # 12 ok, escaped
    ["紧急错", "13812340032", "", "", "", "", "某人", "abc"],  # 13 bad emergency phone
]
HALF_BAD_REASONS = {
    3: "Not a valid Chinese mobile number.",
    4: "Same mobile number as row 2.",
    5: "This mobile number is already registered.",
    6: "Unknown skill: 开挖掘机.",
    7: "Name is missing.",
    8: "Name is longer than 50 characters.",
    9: "Weekly cap must be a whole number from 1 to 7.",
    10: "Nights must be 是/否 (yes/no).",
    11: "Unknown district: 火星区.",
    13: "Emergency phone is not a phone number.",
}


@pytest.fixture
def db_coordinator(
    any_db_app: Flask, make_user: Callable[..., User], tmp_path: Path
) -> FlaskClient:
    db.session.add_all([District(name="崇川区"), District(name="通州区")])
    db.session.commit()
    make_user("volunteer", name="老用户", phone="13812340099")
    return signed_in(any_db_app, make_user("coordinator", name="协调员"), tmp_path)


def test_half_bad_file_lists_each_reason_and_imports_only_valid_rows(
    db_coordinator: FlaskClient,
) -> None:
    before = user_count()
    token = token_of(upload(db_coordinator, csv_bytes(HALF_BAD)))
    response = db_coordinator.get(f"/coordinator/import/{token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2 rows can be imported" in page
    assert "10 rows have errors" in page
    assert "Rows with errors are skipped" in page
    for line, reason in HALF_BAD_REASONS.items():
        assert reason in row_html(page, line), line
    assert "OK" in row_html(page, 2)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in row_html(page, 12)
    assert user_count() == before

    # "Only if every row is valid": nothing is written, and the upload stays for another go.
    refused = confirm(db_coordinator, token, page, only_if_all_valid=True)
    assert refused.status_code == 422
    assert "Nothing was imported: 10 rows have errors" in refused.get_data(as_text=True)
    assert user_count() == before

    assert confirm(db_coordinator, token, page).status_code == 302
    assert imported_phones() == {"+8613812340021", "+8613812340031"}
    assert user_count() == before + 2
    escaped = db.session.scalar(select(User).where(User.phone == "+8613812340031"))
    assert escaped.name == "<script>alert(1)</script>"  # stored as written, escaped on output


def test_phone_registered_between_preview_and_confirm_blocks_the_whole_batch(
    db_coordinator: FlaskClient,
) -> None:
    rows = [["姓名", "手机"], ["甲", "13812340041"], ["乙", "13812340042"], ["丙", "13812340043"]]
    token = token_of(upload(db_coordinator, csv_bytes(rows)))
    page = db_coordinator.get(f"/coordinator/import/{token}").get_data(as_text=True)
    assert "3 rows can be imported" in page
    create_account(name="抢先注册", phone="13812340042", password=PASSWORD)
    before = user_count()

    response = confirm(db_coordinator, token, page)
    changed = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Something changed since the preview" in changed
    assert "This mobile number is already registered." in row_html(changed, 3)
    assert "2 rows can be imported" in changed
    assert user_count() == before
    assert imported_phones() == set()

    # Confirming what is now shown writes the two remaining rows.
    assert confirm(db_coordinator, token, changed).status_code == 302
    assert imported_phones() == {"+8613812340041", "+8613812340043"}


def test_write_lost_to_a_concurrent_registration_rolls_back_everything(
    any_db_app: Flask,
) -> None:
    rows = [
        ["姓名", "手机", "工作单位"],
        ["甲", "13812340051", "新单位"],
        ["乙", "13812340052", ""],
    ]
    preview = importer.preview_import(csv_bytes(rows), "list.csv", None)
    assert len(preview.valid_rows) == 2
    # Someone registers row 3's phone after the check but before the write.
    create_account(name="并发注册", phone="13812340052", password=PASSWORD)
    with pytest.raises(importer.ImportConflict) as raised:
        importer.write_import(preview)
    with any_db_app.test_request_context():
        assert "Nothing was imported" in str(raised.value.message)
    assert user_count() == 1
    assert db.session.scalar(select(func.count(WorkUnit.id))) == 0
    assert db.session.scalar(select(func.count(Volunteer.id))) == 1


# --- bad files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("名单.pdf", b"%PDF-1.7 ...", "Only CSV and XLSX files can be imported."),
        ("名单.csv", b"", "The file is empty."),
        ("名单.csv", b"\xef\xbb\xbf\r\n,,\r\n", "The file is empty."),
        ("名单.csv", csv_bytes([["姓名", "手机"]]), "no volunteers below it"),
        ("名单.csv", csv_bytes([["姓名", "单位"], ["张三", "某单位"]]), "No header row"),
        ("名单.csv", csv_bytes([["电话"], ["13812340001"]]), "No header row"),
        ("名单.csv", bytes(range(256)) * 8, "not a readable CSV or XLSX file"),
        ("名单.xlsx", b"PK\x03\x04" + b"\x00garbage" * 50, "cannot be read"),
        ("名单.xlsx", csv_bytes([["姓名", "手机"], ["张三", "13812340001"]]), "cannot be read"),
        ("名单.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old Excel (.xls)"),
    ],
    ids=[
        "pdf",
        "empty",
        "blank-lines",
        "header-only",
        "no-phone-column",
        "no-name-column",
        "binary",
        "broken-zip",
        "csv-named-xlsx",
        "xls",
    ],
)
def test_unusable_file_gives_a_clear_message_and_writes_nothing(
    coordinator_client: FlaskClient, app: Flask, filename: str, data: bytes, message: str
) -> None:
    before = user_count()
    response = upload(coordinator_client, data, filename)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert user_count() == before
    imports = Path(app.config["IMPORT_DIR"])
    assert not imports.exists() or not any(imports.iterdir())


def test_upload_without_a_file_is_refused(coordinator_client: FlaskClient) -> None:
    response = coordinator_client.post("/coordinator/import", data={"work_unit": "x"})
    assert response.status_code == 422
    assert "Choose a file to import." in response.get_data(as_text=True)


def test_file_over_5_mb_is_refused(coordinator_client: FlaskClient, app: Flask) -> None:
    before = user_count()
    big = csv_bytes([["姓名", "手机"]]) + b"a,b\n" * (5 * 1024 * 1024 // 4 + 10)
    # Encoded in memory: the test client would spool a big upload to a temporary file that a
    # 413 leaves open (a ResourceWarning, which this suite turns into an error).
    boundary, body = encode_multipart(
        MultiDict({"file": FileStorage(io.BytesIO(big), "big.csv"), "work_unit": ""})
    )
    response = coordinator_client.post(
        "/coordinator/import",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 413
    assert "The file is too large." in response.get_data(as_text=True)
    assert user_count() == before
    with pytest.raises(importer.ImportFileError) as raised:
        importer.read_table(big, "big.csv")
    with app.test_request_context():
        assert "larger than 5 MB" in str(raised.value.message)


def test_overlong_work_unit_is_a_field_error(coordinator_client: FlaskClient) -> None:
    response = upload(coordinator_client, csv_bytes([HEADER_ZH, *GOOD_ROWS]), work_unit="单" * 101)
    assert response.status_code == 422
    assert "aria-invalid" in response.get_data(as_text=True)
    assert user_count() == 1


# --- reading files (pure) ---------------------------------------------------------------------


def test_title_row_numeric_phones_and_english_headers_in_xlsx() -> None:
    data = xlsx_bytes(
        [
            ["南通供电公司疫情防控志愿者名单"],
            [],
            ["Name", "Mobile Phone", "Skills", "Nights", "Weekly cap", "Emergency Contact"],
            ["Zhou Jie", 13812340061, "leadership; Driving", "N", 4.0, "Zhou Min"],
        ]
    )
    table = importer.read_table(data, "x.xlsx")
    assert table.rows[0][0] == 4  # line numbers as the spreadsheet shows them
    rows = importer.check_rows(
        table,
        default_work_unit=None,
        skill_lookup={"leadership": "leadership", "driving": "driving"},
        district_names=[],
        registered_phones=[],
    )
    assert len(rows) == 1
    row = rows[0]
    assert row.ok, row.errors
    assert (row.phone, row.skills, row.accepts_nights, row.weekly_cap) == (
        "+8613812340061",
        ("leadership", "driving"),
        False,
        4,
    )
    assert row.emergency_name == "Zhou Min"


def test_header_spellings_are_recognised() -> None:
    data = csv_bytes(
        [
            ["*姓名（必填）", "联系电话", "所在单位", "Emergency_Phone"],
            ["甲", "13812340071", "某厂", ""],
        ]
    )
    table = importer.read_table(data, "x.csv")
    assert set(table.columns) == {"name", "phone", "work_unit", "emergency_phone"}


def test_skill_names_match_in_either_language(app: Flask) -> None:
    medical = db.session.scalar(select(Skill).where(Skill.code == "medical"))
    data = csv_bytes(
        [
            ["姓名", "手机", "技能"],
            ["甲", "13812340081", f"{medical.name_zh}，{medical.name_en.upper()}"],
        ]
    )
    preview = importer.preview_import(data, "x.csv", None)
    assert preview.rows[0].ok
    assert preview.rows[0].skills == ("medical",)


# --- access -----------------------------------------------------------------------------------

TOKEN = "A" * 32
IMPORT_URLS = [
    ("get", "/coordinator/import"),
    ("post", "/coordinator/import"),
    ("get", f"/coordinator/import/{TOKEN}"),
    ("post", f"/coordinator/import/{TOKEN}"),
    ("post", f"/coordinator/import/{TOKEN}/discard"),
]


@pytest.mark.parametrize(("method", "url"), IMPORT_URLS)
def test_anonymous_is_sent_to_log_in(client: FlaskClient, method: str, url: str) -> None:
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["volunteer", "site_lead"])
@pytest.mark.parametrize(("method", "url"), IMPORT_URLS)
def test_volunteers_and_site_leads_are_refused(
    app: Flask,
    make_user: Callable[..., User],
    tmp_path: Path,
    role: str,
    method: str,
    url: str,
) -> None:
    client = signed_in(app, make_user(role), tmp_path)
    response = getattr(client, method)(url)
    assert response.status_code == 403
    assert user_count() == 1


def test_admin_may_import_and_upload_is_bound_to_its_uploader(
    app: Flask, make_user: Callable[..., User], tmp_path: Path
) -> None:
    admin = signed_in(app, make_user("admin", name="管理员"), tmp_path)
    token = token_of(upload(admin, csv_bytes([["姓名", "手机"], ["甲", "13812340091"]])))
    page = admin.get(f"/coordinator/import/{token}").get_data(as_text=True)

    other = app.test_client()
    login(other, make_user("coordinator", name="另一位协调员"))
    stolen = other.get(f"/coordinator/import/{token}")
    assert stolen.status_code == 302
    refused = other.post(f"/coordinator/import/{token}", data={"fingerprint": fingerprint(page)})
    assert refused.status_code == 302
    other.post(f"/coordinator/import/{token}/discard")
    assert imported_phones() == set()

    assert confirm(admin, token, page).status_code == 302
    assert imported_phones() == {"+8613812340091"}


def test_discard_forgets_the_upload(coordinator_client: FlaskClient, app: Flask) -> None:
    token = token_of(upload(coordinator_client, csv_bytes([HEADER_ZH, *GOOD_ROWS])))
    page = coordinator_client.get(f"/coordinator/import/{token}").get_data(as_text=True)
    assert coordinator_client.post(f"/coordinator/import/{token}/discard").status_code == 302
    assert not any(Path(app.config["IMPORT_DIR"]).iterdir())
    expired = coordinator_client.get(f"/coordinator/import/{token}", follow_redirects=True)
    assert "This upload has expired or was already imported" in expired.get_data(as_text=True)
    confirm(coordinator_client, token, page)
    assert imported_phones() == set()


def test_upload_needs_a_csrf_token(
    app_factory: Callable[..., Flask], make_user: Callable[..., User], tmp_path: Path
) -> None:
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        user = make_user("coordinator")
        app.config["IMPORT_DIR"] = str(tmp_path / "imports")
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = str(user.id)
            session["_fresh"] = True
            session[SESSION_KEY] = password_version(user)
        response = upload(client, csv_bytes([HEADER_ZH, *GOOD_ROWS]))
        assert response.status_code == 400
        assert user_count() == 1
