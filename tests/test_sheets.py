"""Printed sheets: the sign-in sheet (PDF with an embedded Chinese font, masked phones, clean
page breaks), never a draft or a cancelled shift, the wall chart, the personal schedule, the
headcount, the all-sites PDF, `flask export-sheets`, and who may print what.

PDF tests are few and small: WeasyPrint takes about a second per document."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from scheduler import printing as render
from scheduler.extensions import db
from scheduler.models import SITE_LEAD, District, PlanningPeriod, Roster, Site, User
from scheduler.services import duty, sheets
from scheduler.services.phones import mask, national
from tests.fixtures.auth import login
from tests.fixtures.rosters import cancel_shift, make_roster

DAY = date(2026, 12, 11)
KINDS = ("night", "day", "evening")
CHECKER_PHONE = "13912345678"  # a volunteer's number: never printed in full


@dataclass
class World:
    checkpoint: Site
    testing: Site
    period: PlanningPeriod
    lead: User  # leads the checkpoint's day shift on DAY (account role site_lead)
    other_lead: User  # leads the testing site's day shift on DAY
    crew: dict[str, list[User]]  # the checkpoint's people on DAY per shift, lead first
    testers: list[User]  # the testing site's day shift on DAY, lead first


def spaced(phone: str) -> str:
    """'13912345678' -> '139 1234 5678', how people also write a number."""
    return f"{phone[:3]} {phone[3:7]} {phone[7:]}"


@pytest.fixture
def world(
    app: Flask,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
    make_user: Callable[..., User],
) -> World:
    checkpoint = make_site(name="南通北高速卡口", demand={"site_lead": 1, "code_checker": 4})
    checkpoint.address = "沈海高速南通北收费站出口"
    testing = make_site(
        name="百花村社区核酸检测点",
        kind="testing",
        first_shift_hour=23,
        runs_night=False,
        demand={"site_lead": 1, "registrar": 2},
    )
    period = make_period(start=date(2026, 11, 16), sites=[checkpoint, testing])
    lead = make_user(SITE_LEAD, name="侯志强", phone="13912340003", accepts_nights=True)
    other_lead = make_user(SITE_LEAD, name="周点长", phone="13912340013", accepts_nights=True)
    crew: dict[str, list[User]] = {}
    for k, kind in enumerate(KINDS):
        people = [lead] if kind == "day" else [make_volunteer(name=f"{kind[0]}班长{k}")]
        for i in range(4):
            phone = CHECKER_PHONE if (kind, i) == ("day", 0) else None
            people.append(make_volunteer(name=f"王{'一二三'[k]}{'甲乙丙丁'[i]}", phone=phone))
        crew[kind] = people
    testers = [other_lead, make_volunteer(name="李登记"), make_volunteer(name="赵登记")]
    rows: list[Any] = []
    for kind, people in crew.items():
        rows += [(checkpoint, DAY, kind, "site_lead", people[0])]
        rows += [(checkpoint, DAY, kind, "code_checker", p) for p in people[1:]]
    rows += [(testing, DAY, "day", "site_lead", testers[0])]
    rows += [(testing, DAY, "day", "registrar", p) for p in testers[1:]]
    make_roster(period, rows, version=1)
    return World(checkpoint, testing, period, lead, other_lead, crew, testers)


def pdf_file(tmp_path: Path, body: bytes, name: str = "sheet.pdf") -> Path:
    assert body.startswith(b"%PDF"), body[:200]
    path = tmp_path / name
    path.write_bytes(body)
    return path


def pdf_text(path: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(
        ["pdftotext", *pages, str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def pdf_pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True)
    match = re.search(r"^Pages:\s+(\d+)", info.stdout, re.MULTILINE)
    assert match, info.stdout
    return int(match.group(1))


def staff(client: FlaskClient, coordinator: User) -> FlaskClient:
    login(client, coordinator)
    return client


# The sign-in sheet ---------------------------------------------------------------------------


def test_signin_sheet_pdf_embeds_the_chinese_font_and_masks_every_volunteers_phone(
    world: World, client: FlaskClient, coordinator: User, tmp_path: Path
) -> None:
    staff(client, coordinator)
    url = f"/sheets/sites/{world.checkpoint.id}/{DAY}/signin"
    volunteers = [p for people in world.crew.values() for p in people[1:]]
    leads = [people[0] for people in world.crew.values()]

    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    response = client.get(f"{url}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    path = pdf_file(tmp_path, response.data)
    fonts = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True)
    assert re.search(r"WenQuanYi\S*\s.*\byes\b", fonts.stdout), fonts.stdout
    text = pdf_text(path)

    for shown in (html, text):
        assert "南通北高速卡口" in shown
        assert "沈海高速南通北收费站出口" in shown
        for person in volunteers + leads:
            assert person.name in shown
        for person in volunteers:
            assert mask(person.phone) in shown
            assert national(person.phone) not in shown
            assert spaced(national(person.phone)) not in shown
        assert CHECKER_PHONE not in shown
        assert spaced(CHECKER_PHONE) not in shown
        assert "139****5678" in shown
        # The leads' numbers are printed in full: they are meant to be called.
        for lead in leads:
            assert national(lead.phone) in shown
        assert "00:00–08:00" in shown
        assert "16:00–24:00" in shown
        assert f"/checkin/sites/{world.checkpoint.id}/{DAY}" in shown
        assert "第一期 v1" in shown
    assert "<svg" in html
    # A normal load (three shifts of five, and the walk-in rows) fits one A4 page.
    assert pdf_pages(path) == 1
    assert response.headers["Cache-Control"] == "private, no-store"


def test_a_long_shift_breaks_across_pages_and_repeats_the_table_header(
    app: Flask,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
    client: FlaskClient,
    coordinator: User,
    tmp_path: Path,
) -> None:
    site = make_site(name="小海高速卡口")
    period = make_period(sites=[site])
    people = [make_volunteer(name=f"志愿者{i:02d}") for i in range(60)]
    make_roster(period, [(site, DAY, "day", "code_checker", p) for p in people], version=1)
    staff(client, coordinator)

    path = pdf_file(tmp_path, client.get(f"/sheets/sites/{site.id}/{DAY}/signin.pdf").data)

    pages = pdf_pages(path)
    assert pages > 1
    for number in range(1, pages + 1):
        text = pdf_text(path, number)
        assert "Signature" in text, number
        assert "Time in" in text, number
    whole = pdf_text(path)
    assert all(p.name in whole for p in people)


def test_drafts_superseded_versions_and_cancelled_shifts_are_never_printed(
    world: World, make_volunteer: Callable[..., User], client: FlaskClient, coordinator: User
) -> None:
    draft_only = make_volunteer(name="草稿人")
    superseded = make_volunteer(name="旧版人")
    cancelled = world.crew["evening"][2]
    make_roster(world.period, [(world.checkpoint, DAY, "day", "code_checker", draft_only)])
    # Version 2 has only `superseded` (at the testing site); version 3, the latest, only the
    # checkpoint's people.
    rows: list[Any] = [
        (world.checkpoint, DAY, kind, "site_lead" if i == 0 else "code_checker", p)
        for kind, people in world.crew.items()
        for i, p in enumerate(people)
    ]
    make_roster(world.period, [(world.testing, DAY, "day", "registrar", superseded)], version=2)
    make_roster(world.period, rows, version=3)
    cancel_shift(cancelled, world.checkpoint, DAY, "evening")
    staff(client, coordinator)

    html = client.get(f"/sheets/sites/{world.checkpoint.id}/{DAY}/signin").get_data(as_text=True)
    assert world.crew["evening"][1].name in html
    assert cancelled.name not in html
    assert draft_only.name not in html
    assert "第一期 v3" in html
    assert "第一期 v1" not in html
    # The testing site has no one in the latest version (3): nothing to print there.
    response = client.get(f"/sheets/sites/{world.testing.id}/{DAY}/signin")
    assert response.status_code == 404
    assert "No published roster has anyone at" in response.get_data(as_text=True)
    assert superseded.name not in response.get_data(as_text=True)


def test_all_sites_of_a_day_in_one_pdf(
    world: World, client: FlaskClient, coordinator: User, tmp_path: Path
) -> None:
    staff(client, coordinator)
    index = client.get(f"/sheets/?day={DAY}").get_data(as_text=True)
    assert f"/sheets/days/{DAY}/signin.pdf" in index
    for site in (world.checkpoint, world.testing):
        assert site.name in index
        assert f"/sheets/sites/{site.id}/{DAY}/signin.pdf" in index

    response = client.get(f"/sheets/days/{DAY}/signin.pdf")
    path = pdf_file(tmp_path, response.data)
    text = pdf_text(path)
    assert "南通北高速卡口" in text
    assert "百花村社区核酸检测点" in text
    assert "07:00–15:00" in text  # the testing site's day shift
    assert pdf_pages(path) == 2  # a page per site
    assert "百花村社区核酸检测点" in pdf_text(path, 1)  # sites by name in pinyin: bai, nan
    assert "南通北高速卡口" in pdf_text(path, 2)
    # Each site's sheet counts its own pages: it is handed out on its own.
    assert re.search(r"\b1\s*/\s*1\b", pdf_text(path, 2))
    # A day without a published roster says so.
    empty = client.get("/sheets/days/2027-03-01/signin.pdf")
    assert empty.status_code == 404
    assert "No published roster has anyone on duty on 2027-03-01" in empty.get_data(as_text=True)


def test_export_sheets_command_writes_a_pdf_per_site_and_all_pdf(
    world: World, runner: Any, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        args=[
            "export-sheets",
            "--date",
            DAY.isoformat(),
            "--out",
            str(out),
            "--base-url",
            "https://muster.example.org/",
            "--lang",
            "en",
        ]
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [
            f"{world.checkpoint.id}-nan-tong-bei-gao-su-ka-kou.pdf",
            f"{world.testing.id}-bai-hua-cun-she-qu-he-suan-jian-ce-dian.pdf",
            "all.pdf",
        ]
    )
    text = pdf_text(out / f"{world.testing.id}-bai-hua-cun-she-qu-he-suan-jian-ce-dian.pdf")
    assert "李登记" in text
    assert "南通北高速卡口" not in text
    url = f"https://muster.example.org/checkin/sites/{world.testing.id}/{DAY}"
    assert url in text.replace("\n", "")
    assert "3 files" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--date", "2026-13-45"], "2026-13-45"),
        (["--date", "2027-03-01"], "No published roster has anyone on duty on 2027-03-01"),
        (["--date", DAY.isoformat(), "--base-url", "ftp://x"], "http"),
    ],
)
def test_export_sheets_command_refuses_bad_input_and_writes_nothing(
    world: World, runner: Any, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "out"
    base = [] if "--base-url" in args else ["--base-url", "https://muster.example.org"]
    result = runner.invoke(args=["export-sheets", *args, *base, "--out", str(out)])
    assert result.exit_code != 0
    assert message in result.output
    assert not out.exists() or not any(out.iterdir())


def export_sheets(runner: Any, out: Path, day: date = DAY) -> Any:
    return runner.invoke(
        args=[
            "export-sheets",
            *("--date", day.isoformat(), "--out", str(out)),
            *("--base-url", "https://muster.example.org/", "--lang", "en"),
        ]
    )


def test_export_sheets_leaves_the_folder_as_it_was_when_a_pdf_fails(
    world: World, runner: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "sheets" / "out"  # the database lives in tmp_path
    out.mkdir(parents=True)
    (out / "all.pdf").write_bytes(b"yesterday")
    real = render.html_to_document
    calls = 0

    def fails_the_second_time(html: str, base_url: str) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError("disk full")
        return real(html, base_url)

    monkeypatch.setattr(render, "html_to_document", fails_the_second_time)

    result = export_sheets(runner, out)

    assert result.exit_code != 0
    assert [p.name for p in out.iterdir()] == ["all.pdf"]
    assert (out / "all.pdf").read_bytes() == b"yesterday"
    assert [p.name for p in out.parent.iterdir()] == ["out"]  # no temporary folder left


def test_export_sheets_removes_the_sheets_of_sites_no_longer_on_duty(
    world: World, runner: Any, tmp_path: Path
) -> None:
    out = tmp_path / "sheets" / "out"  # the database lives in tmp_path
    out.mkdir(parents=True)
    (out / "notes.txt").write_text("mine")
    (out / "99-old-site.pdf").write_bytes(b"stale")
    (out / "all.pdf").write_bytes(b"stale")
    # Only the checkpoint has people on the 12th.
    make_roster(
        world.period,
        [(world.checkpoint, date(2026, 12, 12), "day", "site_lead", world.lead)],
        version=2,
    )

    result = export_sheets(runner, out, date(2026, 12, 12))

    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        f"{world.checkpoint.id}-nan-tong-bei-gao-su-ka-kou.pdf",
        "all.pdf",
        "notes.txt",
    ]
    assert (out / "all.pdf").read_bytes().startswith(b"%PDF")
    assert (out / "notes.txt").read_text() == "mine"
    assert [p.name for p in out.parent.iterdir()] == ["out"]


def test_export_sheets_needs_to_know_where_the_app_is_served(
    world: World, runner: Any, tmp_path: Path
) -> None:
    result = runner.invoke(args=["export-sheets", "--date", str(DAY), "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert "PUBLIC_BASE_URL" in result.output


# Wall chart, personal schedule, headcount -------------------------------------------------


def test_wall_chart_shows_a_published_version_by_site_date_and_shift(
    world: World, make_volunteer: Callable[..., User], client: FlaskClient, coordinator: User
) -> None:
    newcomer = make_volunteer(name="新来的")
    make_roster(world.period, [(world.testing, DAY, "evening", "registrar", newcomer)], version=2)
    staff(client, coordinator)

    latest = client.get(f"/sheets/periods/{world.period.id}/wall").get_data(as_text=True)
    assert newcomer.name in latest
    assert world.lead.name not in latest  # only in version 1
    assert "A4 landscape" in latest

    first = client.get(f"/sheets/periods/{world.period.id}/wall?version=1&paper=a3")
    html = first.get_data(as_text=True)
    assert first.status_code == 200
    assert "A3 landscape" in html
    assert newcomer.name not in html
    # The lead is underlined in the day row of the checkpoint; the names sit in DAY's column.
    assert f'<span class="lead">{world.lead.name}</span>' in html
    rows = [r for r in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S) if "王二甲" in r]
    assert len(rows) == 1  # one row: the checkpoint's day shift in DAY's week
    assert "Day" in rows[0]
    assert "王一甲" not in rows[0]  # the night shift's people are on another row
    cells = re.findall(r'<td class="names">(.*?)</td>', rows[0], re.S)
    column = (DAY - world.period.start_date).days % 7  # the period starts on a Monday
    assert [i for i, c in enumerate(cells) if "王二甲" in c] == [column]
    assert all(p.volunteer and national(p.phone) not in html for p in world.crew["day"])

    missing = client.get(f"/sheets/periods/{world.period.id}/wall?version=9")
    assert missing.status_code == 404
    assert "第一期 has no published version 9 (the latest is 2)." in missing.get_data(as_text=True)


def test_personal_schedule_lists_my_upcoming_shifts_with_the_lead_to_call(
    world: World, client: FlaskClient
) -> None:
    me = world.crew["day"][1]
    login(client, me)
    assert "/sheets/my-schedule" in client.get("/me").get_data(as_text=True)

    html = client.get("/sheets/my-schedule").get_data(as_text=True)
    assert "南通北高速卡口" in html
    assert "沈海高速南通北收费站出口" in html
    assert "08:00–16:00" in html
    assert "Code checker" in html
    assert world.lead.name in html
    assert national(world.lead.phone) in html
    # Only my own shift: not the other shifts of the day, nor other volunteers' numbers.
    assert "00:00–08:00" not in html
    assert world.crew["day"][2].name not in html

    other = world.crew["night"][1]
    cancel_shift(other, world.checkpoint, DAY, "night", reason="生病")
    client.post("/logout")
    login(client, other)
    assert "You have no upcoming shifts." in client.get("/sheets/my-schedule").get_data(
        as_text=True
    )


def test_personal_schedule_leaves_out_shifts_that_have_ended(
    world: World, make_volunteer: Callable[..., User], client: FlaskClient
) -> None:
    me = make_volunteer(name="赵过去")
    past, future = date(2026, 11, 20), date(2026, 12, 12)
    make_roster(
        world.period,
        [
            (world.checkpoint, past, "day", "code_checker", me),
            (world.checkpoint, future, "evening", "code_checker", me),
        ],
        version=2,
    )
    assert [(s.day, s.kind) for s in sheets.personal_schedule(me.volunteer)] == [
        (future, "evening")
    ]
    assert sheets.personal_schedule(me.volunteer)[0].leads == []


def test_headcount_counts_people_per_site_day_and_shift(
    world: World, make_volunteer: Callable[..., User], client: FlaskClient, coordinator: User
) -> None:
    extra = make_volunteer(name="钱后天")
    next_day = date(2026, 12, 12)
    rows: list[Any] = [
        (world.checkpoint, DAY, kind, "site_lead" if i == 0 else "code_checker", p)
        for kind, people in world.crew.items()
        for i, p in enumerate(people)
    ]
    rows += [(world.testing, DAY, "day", "site_lead", world.testers[0])]
    rows += [(world.testing, DAY, "day", "registrar", p) for p in world.testers[1:]]
    rows += [(world.testing, next_day, "evening", "registrar", extra)]
    make_roster(world.period, rows, version=2)

    plan = sheets.headcount(DAY, next_day)
    counts = {(r.site.name, r.kind): r.counts for r in plan.rows}
    assert counts == {
        ("百花村社区核酸检测点", "day"): [3, 0],
        ("百花村社区核酸检测点", "evening"): [0, 1],
        ("南通北高速卡口", "night"): [5, 0],
        ("南通北高速卡口", "day"): [5, 0],
        ("南通北高速卡口", "evening"): [5, 0],
    }
    assert plan.per_day == [18, 1]
    assert plan.by_kind == {"night": [5, 0], "day": [8, 0], "evening": [5, 1]}

    staff(client, coordinator)
    html = client.get(f"/sheets/headcount?first_day={DAY}&last_day={next_day}").get_data(
        as_text=True
    )
    assert "Total per day" in html
    totals = re.search(r"Total per day</th>(.*?)</tr>", html, re.S)
    assert totals
    assert re.findall(r'<td class="num">(\d+)</td>', totals.group(1)) == ["18", "1", "19"]
    csv = client.get(f"/sheets/headcount.csv?first_day={DAY}&last_day={next_day}")
    assert csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "Date,Site id,Site,Shift,Hours,People"
    assert f"2026-12-11,{world.checkpoint.id},南通北高速卡口,Night,00:00–08:00,5" in lines
    assert f"2026-12-12,{world.testing.id},百花村社区核酸检测点,Evening,15:00–23:00,1" in lines
    assert len(lines) == 1 + 2 * 5

    # The default range is tomorrow and the six days after (the clock reads 2026-11-22).
    default = client.get("/sheets/headcount").get_data(as_text=True)
    assert 'value="2026-11-23"' in default
    assert 'value="2026-11-29"' in default
    bad = client.get(f"/sheets/headcount?first_day={next_day}&last_day={DAY}")
    assert bad.status_code == 422
    assert "The last day cannot be before the first day." in bad.get_data(as_text=True)


def test_wall_chart_schedule_and_headcount_are_pdfs_with_their_text(
    world: World, app: Flask, coordinator: User, tmp_path: Path
) -> None:
    def pdf_of(user: User, url: str) -> str:
        client = app.test_client()
        login(client, user)
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.mimetype == "application/pdf", url
        return pdf_text(pdf_file(tmp_path, response.data))

    wall = pdf_of(coordinator, f"/sheets/periods/{world.period.id}/wall.pdf?paper=a3")
    assert "第一期" in wall
    assert "王二甲" in wall
    headcount = pdf_of(coordinator, f"/sheets/headcount.pdf?first_day={DAY}&last_day={DAY}")
    assert "Headcount" in headcount
    assert "南通北高速卡口" in headcount
    schedule = pdf_of(world.crew["day"][1], "/sheets/my-schedule.pdf")
    assert "南通北高速卡口" in schedule
    assert "08:00–16:00" in schedule
    assert world.lead.name in schedule
    assert national(world.lead.phone) in schedule


def test_personal_schedule_keeps_a_night_shift_of_yesterday_still_running(
    world: World, make_site: Callable[..., Site], make_volunteer: Callable[..., User]
) -> None:
    """At 2026-11-22 12:00 UTC it is 20:00 in Shanghai and 04:00 in Los Angeles."""
    west = make_site(name="洛杉矶点", timezone="America/Los_Angeles", first_shift_hour=23)
    me = make_volunteer(name="钱夜班")
    yesterday = date(2026, 11, 21)
    make_roster(
        world.period,
        [
            (world.checkpoint, yesterday, "day", "code_checker", me),  # 08:00–16:00: ended
            (world.checkpoint, yesterday, "evening", "code_checker", me),  # ended at midnight
            (west, yesterday, "night", "code_checker", me),  # 23:00–07:00 (+1): running
            (world.checkpoint, date(2026, 11, 22), "day", "code_checker", me),  # ended 16:00
        ],
        version=2,
    )
    assert me.volunteer is not None
    shifts = sheets.personal_schedule(me.volunteer)
    assert [(s.site.name, s.day, s.kind, s.span) for s in shifts] == [
        ("洛杉矶点", yesterday, "night", "23:00–07:00 (+1)")
    ]


def test_headcount_csv_never_starts_a_cell_with_a_formula(
    world: World,
    make_site: Callable[..., Site],
    make_volunteer: Callable[..., User],
    client: FlaskClient,
    coordinator: User,
) -> None:
    evil = make_site(name='=HYPERLINK("http://x")')
    make_roster(
        world.period, [(evil, DAY, "day", "code_checker", make_volunteer(name="某人"))], version=2
    )
    staff(client, coordinator)
    body = client.get(f"/sheets/headcount.csv?first_day={DAY}&last_day={DAY}")
    text = body.get_data(as_text=True)
    assert "'=HYPERLINK" in text
    assert ",=HYPERLINK" not in text
    assert 'filename="headcount-2026-12-11-2026-12-11.csv"' in body.headers["Content-Disposition"]


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        # A start near the end of the calendar: the default week is cut short, not a crash.
        ("/sheets/headcount?first_day=9999-12-31", 200, "Nobody is on duty"),
        ("/sheets/headcount.csv?first_day=9999-12-31", 200, "Date,Site id"),
        ("/sheets/headcount.pdf?first_day=9999-12-25", 200, ""),
        ("/sheets/headcount?first_day=0001-01-01&last_day=9999-12-31", 422, "At most 31 days"),
        ("/sheets/headcount.csv?first_day=2026-12-01&last_day=2027-01-01", 422, "At most 31"),
        ("/sheets/headcount.csv?first_day=2026-13-45", 422, "Not a valid date value"),
        ("/sheets/periods/{period}/wall?version=9223372036854775808", 422, "is not a version"),
        ("/sheets/periods/{period}/wall?version=2147483648", 422, "is not a version number"),
        ("/sheets/periods/{period}/wall.pdf?version=abc", 422, "“abc” is not a version number"),
        ("/sheets/periods/{period}/wall?version=-1", 422, "is not a version number"),
        ("/sheets/periods/{period}/wall?version=2147483647", 404, "no published version"),
        ("/sheets/sites/{site}/20261211/signin", 404, ""),
        ("/sheets/sites/{site}/2026-W50-5/signin.pdf", 404, ""),
        ("/sheets/sites/{site}/2026-12-1/signin", 404, ""),
        ("/sheets/days/20261211/signin", 404, ""),
        ("/sheets/days/2026-02-30/signin.pdf", 404, ""),
        ("/sheets/days/９９９９-12-31/signin", 404, ""),
    ],
)
def test_bad_input_is_a_clear_4xx_never_a_500(
    world: World, client: FlaskClient, coordinator: User, url: str, status: int, message: str
) -> None:
    staff(client, coordinator)
    response = client.get(url.format(period=world.period.id, site=world.checkpoint.id))
    assert response.status_code == status
    if message:
        assert message in response.get_data(as_text=True)


def test_the_lead_of_a_superseded_or_cancelled_shift_may_not_print(
    world: World, app: Flask
) -> None:
    url = f"/sheets/sites/{world.checkpoint.id}/{DAY}/signin"
    client = app.test_client()
    login(client, world.lead)
    assert client.get(url).status_code == 200
    cancel_shift(world.lead, world.checkpoint, DAY, "day")
    assert client.get(url).status_code == 403
    assert client.get(f"{url}.pdf").status_code == 403


# Shared pieces -----------------------------------------------------------------------------


def test_leads_of_returns_only_the_leads_who_have_not_cancelled(world: World) -> None:
    cancel_shift(world.crew["night"][0], world.checkpoint, DAY, "night")
    keys = [(world.checkpoint.id, DAY, kind) for kind in KINDS]
    keys.append((world.testing.id, date(2026, 12, 12), "day"))  # nobody there

    leads = duty.leads_of(keys)

    assert {key: [a.volunteer_id for a in rows] for key, rows in leads.items()} == {
        (world.checkpoint.id, DAY, "day"): [world.lead.volunteer.id],  # type: ignore[union-attr]
        (world.checkpoint.id, DAY, "evening"): [
            world.crew["evening"][0].volunteer.id  # type: ignore[union-attr]
        ],
    }
    assert duty.leads_of([]) == {}


def test_version_labels_sort_by_number() -> None:
    period = PlanningPeriod(id=1, name="第一期")
    rosters = [Roster(period_id=1, period=period, version=n) for n in (10, 2, 1)]
    assert sheets._version_labels(rosters) == ["第一期 v1", "第一期 v2", "第一期 v10"]


def test_a_sign_in_sheet_says_when_it_was_printed_in_the_sites_time_zone(
    world: World,
    make_site: Callable[..., Site],
    make_volunteer: Callable[..., User],
    client: FlaskClient,
    coordinator: User,
) -> None:
    far = make_site(name="乌鲁木齐点", timezone="Asia/Urumqi")
    make_roster(world.period, [(far, DAY, "day", "code_checker", make_volunteer())], version=2)
    staff(client, coordinator)
    sheet = client.get(f"/sheets/sites/{far.id}/{DAY}/signin").get_data(as_text=True)
    assert "printed 2026-11-22 18:00" in sheet  # 12:00 UTC in Urumqi
    wall = client.get(f"/sheets/periods/{world.period.id}/wall").get_data(as_text=True)
    assert "printed 2026-11-22 20:00" in wall  # the reader's (the app's) zone


def test_the_all_sites_sheet_loads_each_sites_district_with_the_rest(
    world: World,
    app: Flask,
    make_site: Callable[..., Site],
    make_volunteer: Callable[..., User],
    coordinator: User,
) -> None:
    """The number of queries does not grow with the number of sites (no query per site)."""
    client = app.test_client()
    login(client, coordinator)

    def queries() -> int:
        count = 0

        def counter(*args: Any) -> None:
            nonlocal count
            count += 1

        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            response = client.get(f"/sheets/days/{DAY}/signin")
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)
        assert response.status_code == 200
        return count

    def add_site(name: str) -> Site:
        site = make_site(name=name)
        site.district = District(name=f"{name}区")
        db.session.commit()
        return site

    world.checkpoint.district = District(name="通州区")
    db.session.commit()
    before = queries()
    rows: list[Any] = [
        (add_site(f"点位{i}"), DAY, "day", "code_checker", make_volunteer()) for i in range(3)
    ]
    make_roster(
        world.period, [*rows, (world.checkpoint, DAY, "day", "site_lead", world.lead)], version=2
    )
    page = client.get(f"/sheets/days/{DAY}/signin").get_data(as_text=True)
    assert "点位2区" in page
    assert queries() == before


# Who may print what ----------------------------------------------------------------------


def test_a_lead_sees_the_sheet_of_their_site_with_only_the_leads_numbers_in_full(
    world: World, app: Flask, tmp_path: Path
) -> None:
    client = app.test_client()
    login(client, world.lead)
    url = f"/sheets/sites/{world.checkpoint.id}/{DAY}/signin"
    html = client.get(url).get_data(as_text=True)
    response = client.get(f"{url}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = pdf_text(pdf_file(tmp_path, response.data))
    volunteers = [p for people in world.crew.values() for p in people[1:]]
    for shown in (html, text):
        for person in volunteers:
            assert person.name in shown
            assert mask(person.phone) in shown
            assert national(person.phone) not in shown
        for people in world.crew.values():
            assert national(people[0].phone) in shown  # the shifts' leads, to be called
        # Nothing of the other site.
        assert world.other_lead.name not in shown
        assert national(world.other_lead.phone) not in shown


def test_only_the_sites_lead_of_that_day_and_staff_open_a_sign_in_sheet(
    world: World, app: Flask, coordinator: User
) -> None:
    url = f"/sheets/sites/{world.checkpoint.id}/{DAY}/signin"
    anonymous = app.test_client().get(url)
    assert anonymous.status_code == 302
    assert "/login" in anonymous.headers["Location"]

    def status(user: User, path: str = url) -> int:
        client = app.test_client()
        login(client, user)
        return client.get(path).status_code

    assert status(world.lead) == 200
    assert status(world.other_lead) == 403  # leads another site that day
    assert status(world.crew["day"][1]) == 403  # on the shift, but not its lead
    assert status(world.crew["night"][0]) == 200  # a volunteer account leading the night
    assert status(coordinator) == 200
    # Another day, or a site that does not exist: still 403 for the lead (nothing leaks).
    assert status(world.lead, f"/sheets/sites/{world.checkpoint.id}/2026-12-12/signin") == 403
    assert status(world.lead, f"/sheets/sites/99999/{DAY}/signin") == 403
    assert status(coordinator, f"/sheets/sites/99999/{DAY}/signin") == 404
    assert status(coordinator, f"/sheets/sites/{world.checkpoint.id}/not-a-day/signin") == 404
    # Staff pages stay staff-only, for leads too.
    assert status(world.lead, "/sheets/") == 403
    assert status(world.lead, f"/sheets/days/{DAY}/signin") == 403


def test_a_demo_day_prints_with_the_font_embedded_and_no_volunteers_full_number(
    app: Flask, tmp_path: Path
) -> None:
    """The seeded demo, solved and published, printed for its second day as the CLI does."""
    runner = app.test_cli_runner()
    seeded = runner.invoke(args=["seed-demo", "--volunteers", "90", "--seed", "5"])
    assert seeded.exit_code == 0, seeded.output
    solved = runner.invoke(args=["solve", "--period", "1", "--time-limit", "5", "--publish"])
    assert solved.exit_code == 0, solved.output
    period = db.session.get(PlanningPeriod, 1)
    assert period is not None
    day = date.fromordinal(period.start_date.toordinal() + 1)
    out = tmp_path / "sheets"
    printed = runner.invoke(
        args=["export-sheets", "--date", day.isoformat(), "--out", str(out),
              "--base-url", "https://muster.example.org"]
    )  # fmt: skip
    assert printed.exit_code == 0, printed.output
    all_pdf = out / "all.pdf"
    fonts = subprocess.run(["pdffonts", str(all_pdf)], check=True, capture_output=True, text=True)
    assert re.search(r"WenQuanYi\S*\s.*\byes\b", fonts.stdout), fonts.stdout
    text = subprocess.run(
        ["pdftotext", str(all_pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    rows = duty.on_duty(day)
    assert len(rows) > 20
    leads = {a.volunteer.user.phone for a in rows if a.role.is_lead}
    for a in rows:
        user = a.volunteer.user
        assert user.name in text
        assert mask(user.phone) in text
        if user.phone not in leads:
            assert national(user.phone) not in text
            assert spaced(user.phone) not in text
