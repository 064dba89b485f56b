"""Roster exports: the CSV (columns, ISO times with the site's offset, BOM, which version and
whether cancelled shifts count), the XLSX workbook (a sheet per site, frozen bold header,
column widths, volunteer totals), the export-roster command and the staff-only downloads."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from scheduler.extensions import db
from scheduler.models import PlanningPeriod, Site, User, WorkUnit
from scheduler.services import exports, sheets
from scheduler.services.exports import CSV_COLUMNS
from scheduler.services.spreadsheets import sheet_titles
from tests.fixtures.auth import login
from tests.fixtures.rosters import cancel_shift, make_roster

D7, D8, D9 = date(2026, 12, 7), date(2026, 12, 8), date(2026, 12, 9)
LONG_NAME = "南通北:核酸/检测[2]号*社区?点位\\以及一个非常非常长的名字用来测试"


@dataclass
class Roster2:
    period: PlanningPeriod
    checkpoint: Site  # 小海: night from 23:00, so it crosses midnight
    testing: Site  # the long name full of characters Excel refuses
    far: Site  # Asia/Urumqi
    zhang: User
    li: User
    wang: User


@pytest.fixture
def roster2(
    app: Flask,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
) -> Roster2:
    """Version 1 and 2 of a period; 2 adds 张三's day shift on the 9th. 李四 has cancelled
    his evening at the Urumqi site (a post of both versions)."""
    checkpoint = make_site(name="小海高速卡口", first_shift_hour=23)
    testing = make_site(name=LONG_NAME, kind="testing", runs_night=False)
    far = make_site(name="乌鲁木齐点", kind="other", timezone="Asia/Urumqi")
    unit_a, unit_b = WorkUnit(name="甲单位"), WorkUnit(name="=乙单位")
    db.session.add_all([unit_a, unit_b])
    db.session.commit()
    zhang = make_volunteer(name="张三", phone="13811110001", work_unit=unit_a)
    li = make_volunteer(name="李四", phone="13811110002", work_unit=unit_b)
    wang = make_volunteer(name="王五", phone="13811110003")
    period = make_period(sites=[checkpoint, testing, far])
    v1 = [
        (checkpoint, D7, "night", "site_lead", zhang),
        (checkpoint, D7, "night", "code_checker", li),
        (testing, D7, "day", "site_lead", wang),
        (far, D8, "evening", "code_checker", li),
    ]
    make_roster(period, v1, version=1)
    make_roster(period, [*v1, (checkpoint, D9, "day", "code_checker", zhang)], version=2)
    cancel_shift(li, far, D8, "evening")
    return Roster2(period, checkpoint, testing, far, zhang, li, wang)


def read_csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "no byte order mark: Excel would garble Chinese"
    assert b"\r\n" in body
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


# CSV ---------------------------------------------------------------------------------------


def test_csv_of_the_latest_version_lists_who_is_expected(roster2: Roster2) -> None:
    export = exports.roster_for_export(roster2.period.id)
    assert (export.version, export.current) == (2, True)

    rows = read_csv(exports.roster_csv(export))

    assert rows[0] == list(CSV_COLUMNS)
    assert rows[1:] == [
        # Same day: sites by name, then the shift's start, the lead first.
        [LONG_NAME, "testing", "2026-12-07", "day", "2026-12-07T08:00:00+08:00",
         "2026-12-07T16:00:00+08:00", "Site lead", "王五", "13811110003", "", ""],
        # The night starts at 23:00 on the 7th and ends on the next date.
        ["小海高速卡口", "checkpoint", "2026-12-07", "night", "2026-12-07T23:00:00+08:00",
         "2026-12-08T07:00:00+08:00", "Site lead", "张三", "13811110001", "甲单位", ""],
        ["小海高速卡口", "checkpoint", "2026-12-07", "night", "2026-12-07T23:00:00+08:00",
         "2026-12-08T07:00:00+08:00", "Code checker", "李四", "13811110002", "'=乙单位", ""],
        # 李四's cancelled evening of the 8th is not there; version 2's new post is.
        ["小海高速卡口", "checkpoint", "2026-12-09", "day", "2026-12-09T07:00:00+08:00",
         "2026-12-09T15:00:00+08:00", "Code checker", "张三", "13811110001", "甲单位", ""],
    ]  # fmt: skip


def test_csv_of_an_older_version_is_as_it_was_published(roster2: Roster2) -> None:
    export = exports.roster_for_export(roster2.period.id, version=1)
    assert (export.version, export.current) == (1, False)

    rows = read_csv(exports.roster_csv(export))

    assert [(r[0], r[2], r[3], r[7]) for r in rows[1:]] == [
        (LONG_NAME, "2026-12-07", "day", "王五"),
        ("小海高速卡口", "2026-12-07", "night", "张三"),
        ("小海高速卡口", "2026-12-07", "night", "李四"),
        ("乌鲁木齐点", "2026-12-08", "evening", "李四"),  # cancelled later: still in v1
    ]
    urumqi = rows[4]
    assert (urumqi[4], urumqi[5]) == ("2026-12-08T16:00:00+06:00", "2026-12-09T00:00:00+06:00")
    assert datetime.fromisoformat(urumqi[4]).utcoffset() is not None


def test_csv_naming_the_latest_version_explicitly_is_the_same_as_the_default(
    roster2: Roster2,
) -> None:
    default = exports.roster_csv(exports.roster_for_export(roster2.period.id))
    explicit = exports.roster_csv(exports.roster_for_export(roster2.period.id, version=2))
    assert default == explicit


def test_export_refuses_unknown_period_version_and_nothing_published(
    roster2: Roster2, make_period: Callable[..., PlanningPeriod]
) -> None:
    empty = make_period(name="第二期")
    with pytest.raises(exports.ExportError, match="no planning period 9999"):
        exports.roster_for_export(9999)
    with pytest.raises(exports.ExportError, match="Nothing is published yet for 第二期"):
        exports.roster_for_export(empty.id)
    with pytest.raises(
        exports.ExportError, match=re.escape("no published version 7 (the latest is 2)")
    ):
        exports.roster_for_export(roster2.period.id, version=7)


# XLSX --------------------------------------------------------------------------------------


def test_xlsx_has_a_sheet_per_site_with_a_frozen_bold_header(roster2: Roster2) -> None:
    export = exports.roster_for_export(roster2.period.id)

    wb = load_workbook(io.BytesIO(exports.roster_xlsx(export)))

    long_title = wb.sheetnames[0]
    # Sites in pinyin order: nan, wu, xiao.
    assert wb.sheetnames == [long_title, "乌鲁木齐点", "小海高速卡口", "Coverage", "Volunteers"]
    assert len(long_title) <= 31
    assert not set("[]:*?/\\") & set(long_title)
    assert long_title.startswith("南通北_核酸_检测_2_号_社区_点位_")
    header = ["Date", "Shift", "Time", "Role", "Name", "Work unit", "Home union", "Phone"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert all(cell.font.bold for cell in ws[1]), ws.title
        for col in "ABCDEF":
            assert (ws.column_dimensions[col].width or 0) >= 8, (ws.title, col)
    checkpoint = wb["小海高速卡口"]
    assert [c.value for c in checkpoint[1]] == header
    values = [[c.value for c in row] for row in checkpoint.iter_rows(min_row=2)]
    assert values == [
        [datetime(2026, 12, 7), "Night", "23:00–07:00 (+1)", "Site lead", "张三", "甲单位",
         None, "13811110001"],
        [datetime(2026, 12, 7), "Night", "23:00–07:00 (+1)", "Code checker", "李四", "=乙单位",
         None, "13811110002"],
        [datetime(2026, 12, 9), "Day", "07:00–15:00", "Code checker", "张三", "甲单位",
         None, "13811110001"],
    ]  # fmt: skip
    # Text stays text: the work unit starting with "=" is no formula.
    assert checkpoint["F3"].data_type == "s"
    assert checkpoint["A2"].number_format == "yyyy-mm-dd"
    # The name column fits Chinese names (two widths a character), the time column its text.
    assert checkpoint.column_dimensions["C"].width >= len("23:00–07:00 (+1)")
    assert [[c.value for c in row] for row in wb[long_title].iter_rows(min_row=2)] == [
        [
            datetime(2026, 12, 7),
            "Day",
            "08:00–16:00",
            "Site lead",
            "王五",
            None,
            None,
            "13811110003",
        ]
    ]
    # The Urumqi site's only post was cancelled: an empty sheet with its header.
    assert wb["乌鲁木齐点"].max_row == 1


def test_xlsx_volunteer_sheet_totals_shifts_nights_and_hours(roster2: Roster2) -> None:
    latest = load_workbook(
        io.BytesIO(exports.roster_xlsx(exports.roster_for_export(roster2.period.id)))
    )
    old = load_workbook(
        io.BytesIO(exports.roster_xlsx(exports.roster_for_export(roster2.period.id, 1)))
    )

    def totals(wb: Any) -> list[list[Any]]:
        return [[c.value for c in row] for row in wb["Volunteers"].iter_rows()]

    header = ["Name", "Work unit", "Phone", "Shifts", "Night shifts", "Rostered hours"]
    # By pinyin: li, wang, zhang.
    assert totals(latest) == [
        header,
        ["李四", "=乙单位", "13811110002", 1, 1, 8],
        ["王五", None, "13811110003", 1, 0, 8],
        ["张三", "甲单位", "13811110001", 2, 1, 16],
    ]
    assert totals(old) == [
        header,
        ["李四", "=乙单位", "13811110002", 2, 1, 16],
        ["王五", None, "13811110003", 1, 0, 8],
        ["张三", "甲单位", "13811110001", 1, 1, 8],
    ]
    assert latest["Volunteers"].freeze_panes == "A2"


def test_xlsx_hours_follow_the_shift_window_across_a_clock_change(
    app: Flask,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
) -> None:
    """Where clocks change, a night shift is 7 or 9 hours long, and counts as such."""
    site = make_site(name="柏林", timezone="Europe/Berlin", first_shift_hour=0)
    anna = make_volunteer(name="安娜")
    period = make_period(start=date(2026, 10, 24), end=date(2026, 10, 26), sites=[site])
    make_roster(period, [(site, date(2026, 10, 25), "night", "code_checker", anna)], version=1)

    wb = load_workbook(io.BytesIO(exports.roster_xlsx(exports.roster_for_export(period.id))))

    assert [c.value for c in wb["Volunteers"][2]][3:] == [1, 1, 9]


@pytest.mark.parametrize(
    ("names", "reserved", "expected"),
    [
        (["a/b", "c:d", "[x]", "*?\\"], [], ["a_b", "c_d", "_x_", "___"]),
        (["A" * 40], [], ["A" * 31]),
        (["点位", "点位", "点位"], [], ["点位", "点位 (2)", "点位 (3)"]),
        (["Site", "SITE"], [], ["Site", "SITE (2)"]),
        (["B" * 31, "B" * 31], [], ["B" * 31, "B" * 27 + " (2)"]),
        (["Volunteers", "history", "'quoted'", "   "], ["Volunteers"],
         ["Volunteers (2)", "history (2)", "quoted", "_"]),
    ],
)  # fmt: skip
def test_sheet_titles_are_valid_for_excel_and_unique(
    names: list[str], reserved: list[str], expected: list[str]
) -> None:
    titles = sheet_titles(names, reserved)
    assert titles == expected
    assert all(len(t) <= 31 for t in titles)


# The command -------------------------------------------------------------------------------


def invoke(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["export-roster", *args])


def test_cli_writes_the_csv_and_the_xlsx(app: Flask, roster2: Roster2, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "roster.csv"
    result = invoke(app, "--period", str(roster2.period.id), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "wrote 4 assignments of 第一期 version 2" in result.output
    assert out.read_bytes() == exports.roster_csv(exports.roster_for_export(roster2.period.id))

    old = folder / "v1.csv"
    result = invoke(app, "--period", str(roster2.period.id), "--version", "1", "--out", str(old))
    assert result.exit_code == 0, result.output
    assert [r[7] for r in read_csv(old.read_bytes())[1:]] == ["王五", "张三", "李四", "李四"]

    book = folder / "roster.xlsx"
    result = invoke(app, "--period", str(roster2.period.id), "--out", str(book))
    assert result.exit_code == 0, result.output
    assert load_workbook(book).sheetnames[-1] == "Volunteers"
    assert sorted(p.name for p in folder.iterdir()) == ["roster.csv", "roster.xlsx", "v1.csv"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "9999"], "There is no planning period 9999."),
        (["--period", "{empty}"], "Nothing is published yet for 第二期."),
        (
            ["--period", "{period}", "--version", "3"],
            "第一期 has no published version 3 (the latest is 2).",
        ),
    ],
)
def test_cli_errors_are_clear_and_write_nothing(
    app: Flask,
    roster2: Roster2,
    make_period: Callable[..., PlanningPeriod],
    tmp_path: Path,
    args: list[str],
    message: str,
) -> None:
    empty = make_period(name="第二期")
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "roster.csv"
    ids = {"empty": empty.id, "period": roster2.period.id}
    result = invoke(app, *[a.format(**ids) for a in args], "--out", str(out))
    assert result.exit_code == 1
    assert f"Error: {message}" in result.output
    assert list(folder.iterdir()) == []
    out.write_text("kept")
    result = invoke(app, *[a.format(**ids) for a in args], "--out", str(out))
    assert result.exit_code == 1
    assert out.read_text() == "kept"  # an existing file is left as it was


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--version", "0"),
        ("--version", "2147483648"),
        ("--version", "9223372036854775808"),
        ("--period", "0"),
        ("--period", "9223372036854775808"),
    ],
)
def test_cli_refuses_numbers_out_of_range(
    app: Flask, roster2: Roster2, tmp_path: Path, option: str, value: str
) -> None:
    out = tmp_path / "roster.csv"
    args = {"--period": str(roster2.period.id), option: value}
    result = invoke(app, *[a for pair in args.items() for a in pair], "--out", str(out))
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}'" in result.output
    assert not out.exists()


# Downloads ---------------------------------------------------------------------------------


@pytest.fixture
def staff(client: FlaskClient, coordinator: User) -> FlaskClient:
    login(client, coordinator)
    return client


def test_coordinator_downloads_the_csv_with_a_proper_filename(
    staff: FlaskClient, roster2: Roster2
) -> None:
    pid = roster2.period.id
    response = staff.get(f"/sheets/periods/{pid}/roster.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="roster-period-{pid}-v2.csv"; '
        f"filename*=UTF-8''{quote('第一期-v2.csv')}"
    )
    assert "no-store" in response.headers["Cache-Control"]
    assert response.data == exports.roster_csv(exports.roster_for_export(pid))

    old = staff.get(f"/sheets/periods/{pid}/roster.csv?version=1")
    assert old.status_code == 200
    assert "v1.csv" in old.headers["Content-Disposition"]
    assert len(read_csv(old.data)) == 5


def test_coordinator_downloads_the_xlsx(staff: FlaskClient, roster2: Roster2) -> None:
    pid = roster2.period.id
    response = staff.get(f"/sheets/periods/{pid}/roster.xlsx?version=1")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == exports.XLSX_MEDIA_TYPE
    assert f'filename="roster-period-{pid}-v1.xlsx"' in response.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.data))
    assert wb["乌鲁木齐点"].max_row == 2  # version 1, as published


def test_the_xlsx_speaks_the_coordinators_language(staff: FlaskClient, roster2: Roster2) -> None:
    staff.post("/language", data={"lang": "zh_Hans", "next": "/coordinator/"})
    response = staff.get(f"/sheets/periods/{roster2.period.id}/roster.xlsx")
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames[-1] == "志愿者"
    assert [c.value for c in wb["小海高速卡口"]["D"]][1:] == ["点位长", "查验双码", "查验双码"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?version=9", "第一期 has no published version 9 (the latest is 2)."),
        ("?version=2147483647", "has no published version 2147483647"),
        ("?version=abc", "“abc” is not a version number."),
        ("?version=0", "“0” is not a version number."),
        ("?version=-1", "“-1” is not a version number."),
        ("?version=2147483648", "“2147483648” is not a version number."),
        ("?version=9223372036854775808", "is not a version number."),
    ],
)
def test_an_unknown_version_is_explained(
    staff: FlaskClient, roster2: Roster2, query: str, message: str
) -> None:
    pid = roster2.period.id
    for ext in ("csv", "xlsx"):
        response = staff.get(f"/sheets/periods/{pid}/roster.{ext}{query}")
        assert response.status_code == 302
        assert urlsplit(response.headers["Location"]).path == (
            f"/coordinator/periods/{pid}/roster/versions"
        )
        page = staff.get(response.headers["Location"]).get_data(as_text=True)
        assert message in page


def test_the_wall_chart_explains_a_bad_version_as_the_download_does(
    staff: FlaskClient, roster2: Roster2
) -> None:
    page = staff.get(f"/sheets/periods/{roster2.period.id}/wall?version=abc")
    assert page.status_code == 422
    assert "“abc” is not a version number." in page.get_data(as_text=True)


@pytest.mark.parametrize("version", [1, 2])
def test_a_versions_wall_chart_and_its_files_show_the_same_people(
    roster2: Roster2, version: int
) -> None:
    """The latest version without the cancelled shift, version 1 as it was published."""
    export = exports.roster_for_export(roster2.period.id, version)
    in_files = sorted((a.site.name, a.day, a.shift, a.volunteer.user.name) for a in export.rows)
    chart = sheets.wall_chart(roster2.period, version)
    on_the_wall = sorted(
        (row.site.name, day, row.kind, name.name)
        for row in chart.rows
        for day, names in zip(chart.days, row.cells, strict=True)
        for name in names
    )
    assert on_the_wall == in_files
    cancelled = ("乌鲁木齐点", D8, "evening", "李四")
    assert (cancelled in on_the_wall) is (version == 1)


def test_nothing_published_is_explained_and_unknown_period_is_404(
    staff: FlaskClient, make_period: Callable[..., PlanningPeriod]
) -> None:
    empty = make_period(name="第二期")
    response = staff.get(f"/sheets/periods/{empty.id}/roster.xlsx", follow_redirects=True)
    assert "Nothing is published yet for 第二期." in response.get_data(as_text=True)
    assert staff.get("/sheets/periods/9999/roster.csv").status_code == 404


def test_the_versions_page_links_the_downloads(staff: FlaskClient, roster2: Roster2) -> None:
    pid = roster2.period.id
    page = staff.get(f"/coordinator/periods/{pid}/roster/versions").get_data(as_text=True)
    for version in (1, 2):
        assert f"/sheets/periods/{pid}/roster.xlsx?version={version}" in page
        assert f"/sheets/periods/{pid}/roster.csv?version={version}" in page
    one = staff.get(f"/coordinator/periods/{pid}/roster/versions/1").get_data(as_text=True)
    assert f"/sheets/periods/{pid}/roster.csv?version=1" in one


@pytest.mark.parametrize("role", ["volunteer", "site_lead"])
def test_volunteers_and_site_leads_cannot_download_the_roster(
    client: FlaskClient, make_user: Callable[..., User], roster2: Roster2, role: str
) -> None:
    login(client, make_user(role))
    for ext in ("csv", "xlsx"):
        response = client.get(f"/sheets/periods/{roster2.period.id}/roster.{ext}")
        assert response.status_code == 403
        assert response.mimetype == "text/html"  # the error page, not a file
        assert "Content-Disposition" not in response.headers
