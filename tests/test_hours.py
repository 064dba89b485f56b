"""Service hours from check-in records: time out − time in (across midnight too), up to the
shift's end when no time out was entered, absences of people still on duty as no-shows; the
coordinators' table with its filters and exports (which re-read to the same totals), a
volunteer's own hours and certificate, and the solver rostering repeat no-shows last when the
period asks."""

from __future__ import annotations

import csv
import io
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

import solver
from scheduler import jobs
from scheduler.extensions import db
from scheduler.models import (
    Attendance,
    Availability,
    PlanningPeriod,
    Role,
    ShiftResponse,
    Site,
    User,
    WorkUnit,
)
from scheduler.models.base import set_clock, utcnow
from scheduler.models.responses import CANCELLED_BY_VOLUNTEER
from scheduler.planning import build_problem, person_id
from scheduler.services import hours, rosters
from scheduler.services.lookups import current_draft
from tests.fixtures.auth import login
from tests.fixtures.rosters import PublishedRoster, RosterRow, make_roster, publish_roster

DAY = date(2026, 12, 10)
AFTER = datetime(2026, 12, 20, tzinfo=UTC)  # every shift below has ended


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def role_id(code: str) -> int:
    return db.session.scalar(select(Role.id).where(Role.code == code))


def record(
    user: User,
    site: Site,
    day: date,
    kind: str,
    status: str = "present",
    time_in: datetime | None = None,
    time_out: datetime | None = None,
    walk_in: bool = False,
) -> Attendance:
    assert user.volunteer is not None
    row = Attendance(
        volunteer_id=user.volunteer.id,
        site_id=site.id,
        day=day,
        shift=kind,
        role_id=role_id("code_checker"),
        status=status,
        time_in=time_in,
        time_out=time_out,
        walk_in=walk_in,
    )
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def east_unit(app: Flask) -> WorkUnit:
    return work_unit("甲单位")


@pytest.fixture
def west_unit(app: Flask) -> WorkUnit:
    return work_unit("乙单位")


def work_unit(name: str) -> WorkUnit:
    unit = WorkUnit(name=name)
    db.session.add(unit)
    db.session.commit()
    return unit


@pytest.fixture
def world(
    app: Flask,
    east_unit: WorkUnit,
    west_unit: WorkUnit,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
    coordinator: User,
) -> PublishedRoster:
    """Three volunteers of two work units with records in December (the period) and one in
    November (outside it). Ben's two absences are on his published shifts (no-shows)."""
    town = make_site(name="社区检测点")  # night 00–08, day 08–16, evening 16–24 local
    highway = make_site(name="如东出口", first_shift_hour=23)  # night 23:00–07:00
    ann = make_volunteer(name="安娜", phone="13900000021", work_unit=east_unit)
    ben = make_volunteer(name="本杰", phone="13900000022", work_unit=west_unit)
    cai = make_volunteer(name="蔡三", phone="13900000023", work_unit=east_unit)
    world = publish_roster(
        {"town": town, "highway": highway},
        {"ann": ann, "ben": ben, "cai": cai, "coordinator": coordinator},
        [
            (town, DAY, "day", "code_checker", ben),
            (town, DAY + timedelta(days=2), "day", "code_checker", ben),
        ],
    )
    make_period(start=date(2026, 11, 2), end=date(2026, 11, 8), name="十一月")
    # Ann: a night 23:00–07:00 (8 h) and an evening with a late time out at 00:30 (8.5 h, late).
    record(
        ann, highway, DAY, "night", time_in=utc(2026, 12, 10, 15), time_out=utc(2026, 12, 10, 23)
    )
    record(
        ann,
        town,
        DAY + timedelta(days=1),
        "evening",
        "late",
        time_in=utc(2026, 12, 11, 8),
        time_out=utc(2026, 12, 11, 16, 30),
    )
    # Ben: two no-shows on his published shifts, and a day shift checked in at 08:00 without a
    # time out (counts to 16:00).
    record(ben, town, DAY, "day", "absent")
    record(ben, town, DAY + timedelta(days=2), "day", "absent")
    record(ben, town, DAY + timedelta(days=3), "day", time_in=utc(2026, 12, 13, 0))
    # Cai: a walk-in for 1.5 h in December, 8 h in November (outside the period).
    record(
        cai,
        town,
        DAY,
        "day",
        time_in=utc(2026, 12, 10, 1),
        time_out=utc(2026, 12, 10, 2, 30),
        walk_in=True,
    )
    record(
        cai, town, date(2026, 11, 3), "day", time_in=utc(2026, 11, 3), time_out=utc(2026, 11, 3, 8)
    )
    set_clock(AFTER)
    return world


def client_for(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(client, user)
    return client


def vid(user: User) -> int:
    assert user.volunteer is not None
    return user.volunteer.id


# Counting ---------------------------------------------------------------------------------------


def test_hours_across_midnight_and_late(world: PublishedRoster) -> None:
    table = hours.hours_table()
    ann = next(r for r in table.rows if r.volunteer_id == world.vid("ann"))
    assert (ann.minutes, ann.shifts, ann.late, ann.no_shows) == (480 + 510, 2, 1, 0)
    assert ann.hours == "16.5"


def test_without_a_time_out_counts_to_the_shifts_end_once_ended(world: PublishedRoster) -> None:
    row = db.session.scalar(
        select(Attendance).where(
            Attendance.volunteer_id == world.vid("ben"), Attendance.status == "present"
        )
    )
    assert row is not None
    assert hours.served_minutes(row, AFTER) == 480
    # Not yet while the shift runs (13 Dec 08:00–16:00 local = 00:00–08:00 UTC).
    assert hours.served_minutes(row, utc(2026, 12, 13, 5)) is None
    ben = hours.my_hours(world.vid("ben"), utc(2026, 12, 13, 5))
    assert (ben.minutes, ben.shifts) == (0, 1)
    assert ben.entries[0].hours == ""


def test_absent_is_no_hours_and_a_no_show_unless_a_walk_in(world: PublishedRoster) -> None:
    table = hours.hours_table()
    ben = next(r for r in table.rows if r.volunteer_id == world.vid("ben"))
    assert (ben.minutes, ben.shifts, ben.no_shows) == (480, 1, 2)
    assert hours.no_show_counts() == {world.vid("ben"): 2}
    assert hours.no_show_counts(before=DAY + timedelta(days=1)) == {world.vid("ben"): 1}
    assert hours.no_show_counts(before=DAY) == {}


def test_table_filters_by_period_dates_and_work_unit_sorted_by_hours(
    world: PublishedRoster, east_unit: WorkUnit
) -> None:
    everything = hours.hours_table()
    assert [r.name for r in everything.rows] == ["安娜", "蔡三", "本杰"]  # 16.5, 9.5, 8
    assert everything.minutes == 990 + 570 + 480
    period = hours.hours_table(world.period.start_date, world.period.end_date)
    assert [(r.name, r.hours) for r in period.rows] == [
        ("安娜", "16.5"),
        ("本杰", "8"),
        ("蔡三", "1.5"),
    ]
    east = hours.hours_table(world.period.start_date, world.period.end_date, east_unit.id)
    assert [r.name for r in east.rows] == ["安娜", "蔡三"]
    assert (east.minutes, east.shifts, east.late, east.no_shows) == (1080, 3, 1, 0)
    assert hours.format_hours(470) == "7.83"


def test_an_absence_off_the_roster_or_cancelled_is_not_a_no_show(
    app: Flask, world: PublishedRoster
) -> None:
    """A republish that takes Ben off his second shift, then Ben cancelling the first: neither
    absence counts any more — in the table, his own hours, the coordinator's page or the
    counts the solver reads."""
    assert hours.no_show_counts() == {world.vid("ben"): 2}
    make_roster(
        world.period, [(world.sites["town"], DAY, "day", "code_checker", world["ben"])], version=2
    )
    assert hours.no_show_counts() == {world.vid("ben"): 1}
    db.session.add(
        ShiftResponse(
            volunteer_id=world.vid("ben"),
            site_id=world.sites["town"].id,
            day=DAY,
            shift="day",
            status=CANCELLED_BY_VOLUNTEER,
            reason="家里有事",
        )
    )
    db.session.commit()
    assert hours.no_show_counts() == {}
    ben = next(r for r in hours.hours_table().rows if r.volunteer_id == world.vid("ben"))
    assert (ben.minutes, ben.shifts, ben.no_shows) == (480, 1, 0)
    mine = hours.my_hours(world.vid("ben"))
    assert mine.no_shows == 0
    assert [e.record.status for e in mine.entries] == ["present"]
    assert hours.volunteer_totals(world.vid("ben")).no_shows == 0
    page = client_for(app, world["coordinator"]).get(f"/coordinator/volunteers/{world.vid('ben')}")
    assert '<dd id="volunteer-no-shows">0</dd>' in page.get_data(as_text=True)


def test_a_volunteer_with_only_excused_absences_is_not_listed(
    world: PublishedRoster, make_volunteer: Callable[..., User]
) -> None:
    dan = make_volunteer(name="丁请假")
    record(dan, world.sites["town"], DAY, "evening", "absent")  # never on the published roster
    assert vid(dan) not in {r.volunteer_id for r in hours.hours_table().rows}
    assert hours.volunteer_totals(vid(dan)) == hours.HoursRow(volunteer_id=vid(dan))


def test_the_period_filter_keeps_to_the_periods_sites(
    world: PublishedRoster, make_site: Callable[..., Site]
) -> None:
    elsewhere = make_site(name="别处点位")  # not in the period, same dates
    record(
        world["ann"],
        elsewhere,
        DAY + timedelta(days=4),
        "day",
        time_in=utc(2026, 12, 14, 0),
        time_out=utc(2026, 12, 14, 8),
    )
    everything = hours.hours_table()
    assert next(r for r in everything.rows if r.volunteer_id == world.vid("ann")).hours == "24.5"
    period = hours.hours_table(
        world.period.start_date,
        world.period.end_date,
        site_ids=[s.id for s in world.period.sites],
    )
    assert next(r for r in period.rows if r.volunteer_id == world.vid("ann")).hours == "16.5"


def test_the_period_filter_of_the_page_keeps_to_the_periods_sites(
    app: Flask, world: PublishedRoster, make_site: Callable[..., Site]
) -> None:
    elsewhere = make_site(name="别处点位")
    record(
        world["ann"],
        elsewhere,
        DAY,
        "evening",
        time_in=utc(2026, 12, 10, 8),
        time_out=utc(2026, 12, 10, 16),
    )
    client = client_for(app, world["coordinator"])
    html = client.get("/checkin/hours", query_string={"period": world.period.id})
    assert page_rows(html.get_data(as_text=True))[0][:3] == ["安娜", "甲单位", "16.5"]
    html = client.get("/checkin/hours")
    assert page_rows(html.get_data(as_text=True))[0][:3] == ["安娜", "甲单位", "24.5"]


def test_the_table_sums_in_sql_what_each_record_counts(
    any_db_app: Flask,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
) -> None:
    """The SQL sums (minutes of records with a time out) and the records counted in Python
    (without one) add up to what served_minutes says of each record, on SQLite and
    PostgreSQL."""
    town = make_site(name="社区检测点")
    highway = make_site(name="如东出口", first_shift_hour=23)
    ny = make_site(name="纽约点", timezone="America/New_York")
    period = make_period(sites=[town, highway, ny])
    eve, fay = make_volunteer(name="夏娃"), make_volunteer(name="费伊")
    make_roster(period, [(town, DAY + timedelta(days=2), "night", "code_checker", fay)], version=1)
    record(fay, town, DAY + timedelta(days=2), "night", "absent")  # a no-show
    record(fay, town, DAY + timedelta(days=3), "night", "absent")  # not rostered: not one
    spring = date(2027, 3, 14)  # New York's clocks go forward at 02:00
    record(
        eve, town, DAY, "day", time_in=utc(2026, 12, 10, 0, 7), time_out=utc(2026, 12, 10, 8, 59)
    )
    record(
        eve,
        highway,
        DAY,
        "night",
        "late",
        time_in=utc(2026, 12, 10, 15, 1),
        time_out=utc(2026, 12, 10, 23, 0),
    )
    record(eve, town, DAY + timedelta(days=1), "day", time_in=utc(2026, 12, 11, 0, 30))  # ended
    record(eve, ny, spring, "night", time_in=utc(2027, 3, 14, 5))  # ended: 00:00–08:00 is 7 h
    record(
        fay, town, DAY, "evening", time_in=utc(2026, 12, 10, 8), time_out=utc(2026, 12, 10, 8, 1)
    )
    record(fay, ny, spring, "day", time_in=utc(2027, 3, 14, 12, 59))  # running at `now`
    now = utc(2027, 3, 14, 13)
    table = hours.hours_table(now=now)
    expected: dict[int, int] = {}
    for row in db.session.scalars(select(Attendance)):
        expected[row.volunteer_id] = expected.get(row.volunteer_id, 0) + (
            hours.served_minutes(row, now) or 0
        )
    assert {r.volunteer_id: r.minutes for r in table.rows} == expected
    assert expected[vid(eve)] == 532 + 479 + 450 + 420
    assert expected[vid(fay)] == 1
    assert {r.volunteer_id: r.shifts for r in table.rows} == {vid(eve): 4, vid(fay): 2}
    assert {r.volunteer_id: r.no_shows for r in table.rows} == {vid(eve): 0, vid(fay): 1}
    assert hours.no_show_counts() == {vid(fay): 1}
    assert hours.my_hours(vid(fay), now).no_shows == 1
    assert hours.volunteer_totals(vid(eve), now).minutes == expected[vid(eve)]


# The coordinators' page and exports -------------------------------------------------------------


def page_rows(html: str) -> list[list[str]]:
    """The table's rows as text cells (name, work unit, hours, shifts, late, no-shows)."""
    body = html[html.index('<table class="compact hours-table"') :]
    body = body[: body.index("</table>")]
    rows = []
    for chunk in body.split("<tr data-volunteer=")[1:]:
        cells = []
        for cell in chunk.split("<td")[1:]:
            text = cell[cell.index(">") + 1 : cell.index("</td>")]
            while "<" in text:
                start = text.index("<")
                text = text[:start] + text[text.index(">", start) + 1 :]
            cells.append(text.strip())
        rows.append(cells)
    return rows


def test_page_and_exports_agree_with_the_filters(
    app: Flask, world: PublishedRoster, east_unit: WorkUnit
) -> None:
    client = client_for(app, world["coordinator"])
    query = {"period": world.period.id, "work_unit": east_unit.id}
    page = client.get("/checkin/hours", query_string=query)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    shown = page_rows(html)
    assert shown == [
        ["安娜", "甲单位", "16.5", "2", "1", "0"],
        ["蔡三", "甲单位", "1.5", "1", "0", "0"],
    ]
    assert "/checkin/hours.xlsx?period=" in html

    xlsx = client.get("/checkin/hours.xlsx", query_string=query)
    assert xlsx.status_code == 200
    assert "attachment" in xlsx.headers["Content-Disposition"]
    assert xlsx.headers["Cache-Control"] == "private, no-store"  # full phone numbers
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet is not None
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert cells[0] == [
        "Name",
        "Mobile",
        "Work unit",
        "Hours served",
        "Shifts served",
        "Late",
        "No-shows",
    ]
    from_xlsx = [[r[0], r[2], r[3], r[4], r[5], r[6]] for r in cells[1:]]

    raw = client.get("/checkin/hours.csv", query_string=query).data
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == cells[0]
    from_csv = [[r[0], r[2], float(r[3]), int(r[4]), int(r[5]), int(r[6])] for r in rows[1:]]

    expected = [[n, u, float(h), int(s), int(late), int(ns)] for n, u, h, s, late, ns in shown]
    assert from_xlsx == expected
    assert from_csv == expected
    assert cells[1][1] == "13900000021"


def test_the_page_is_paginated_and_exports_hold_every_row(
    app: Flask, world: PublishedRoster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hours, "HOURS_PAGE_SIZE", 2)
    client = client_for(app, world["coordinator"])
    first = client.get("/checkin/hours").get_data(as_text=True)
    assert [r[0] for r in page_rows(first)] == ["安娜", "蔡三"]
    assert "Page 1 of 2" in first
    second = client.get("/checkin/hours?page=2").get_data(as_text=True)
    assert [r[0] for r in page_rows(second)] == ["本杰"]
    rows = list(csv.reader(io.StringIO(client.get("/checkin/hours.csv").data.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["安娜", "蔡三", "本杰"]


def test_unknown_filters_show_everything(app: Flask, world: PublishedRoster) -> None:
    client = client_for(app, world["coordinator"])
    html = client.get("/checkin/hours?period=999&work_unit=abc").get_data(as_text=True)
    assert [r[0] for r in page_rows(html)] == ["安娜", "蔡三", "本杰"]


def test_coordinator_volunteer_page_shows_hours_and_no_shows(
    app: Flask, world: PublishedRoster
) -> None:
    html = (
        client_for(app, world["coordinator"])
        .get(f"/coordinator/volunteers/{world.vid('ben')}")
        .get_data(as_text=True)
    )
    assert '<dd id="volunteer-no-shows">2</dd>' in html
    assert "8 h in 1 shift" in html


# A volunteer's own hours ------------------------------------------------------------------------


def test_a_volunteer_sees_only_their_own_hours(app: Flask, world: PublishedRoster) -> None:
    client = client_for(app, world["ann"])
    html = client.get(f"/me/hours?volunteer_id={world.vid('ben')}").get_data(as_text=True)
    assert "16.5" in html
    assert "如东出口" in html
    assert "07:00 (+1)" in html
    assert "本杰" not in html
    assert "Absent" not in html
    ben = client_for(app, world["ben"]).get("/me/hours").get_data(as_text=True)
    assert ben.count("Absent") == 2
    assert "如东出口" not in ben


def test_the_certificate(app: Flask, world: PublishedRoster) -> None:
    html = client_for(app, world["ann"]).get("/me/hours/certificate").get_data(as_text=True)
    assert "Certificate of Volunteer Service Hours" in html
    assert '<span class="cert-figure">安娜</span>' in html
    assert '<span class="cert-figure">16.5</span>' in html
    assert '<span class="cert-figure">2</span>' in html
    assert "December 10, 2026" in html
    assert "December 11, 2026" in html
    assert "Muster" in html
    css = Path(app.static_folder or "", "css", "checkin.css").read_text()
    assert "@media print" in css


def test_the_certificate_as_pdf(app: Flask, world: PublishedRoster, tmp_path: Path) -> None:
    response = client_for(app, world["ann"]).get("/me/hours/certificate.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    path = tmp_path / "certificate.pdf"
    path.write_bytes(response.data)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "安娜" in text
    assert "16.5" in text
    fonts = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True)
    assert "WenQuanYi" in fonts.stdout


def test_the_certificate_escapes_the_name_and_names_the_configured_issuer(
    app: Flask, world: PublishedRoster
) -> None:
    world["ann"].name = "<b>安娜</b>"
    db.session.commit()
    app.config["CERTIFICATE_ISSUER"] = "南通市总工会"
    html = client_for(app, world["ann"]).get("/me/hours/certificate").get_data(as_text=True)
    assert "&lt;b&gt;安娜&lt;/b&gt;" in html
    assert "<b>安娜" not in html
    assert "南通市总工会" in html


# Repeat no-shows are rostered last --------------------------------------------------------------


def absences(
    make_period: Callable[..., PlanningPeriod],
    site: Site,
    rows: list[tuple[User, date]],
    name: str,
) -> None:
    """Each volunteer marked absent on a day shift they were published for, in a period of its
    own around those days: no-shows."""
    days = [day for _user, day in rows]
    period = make_period(start=min(days), end=max(days), sites=[site], name=name)
    roster_rows: list[RosterRow] = [(site, day, "day", "code_checker", u) for u, day in rows]
    make_roster(period, roster_rows, version=1)
    for user, day in rows:
        record(user, site, day, "day", "absent")


@dataclass(frozen=True)
class Candidates:
    site: Site
    period: PlanningPeriod
    keen: User
    flaky: User
    once: User


@pytest.fixture
def candidates(
    app: Flask,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
) -> Candidates:
    """One post (a day-shift code checker) and two identical volunteers for it; one of them
    did not turn up twice before the period. The flaky one is created first, so without the
    flag the solver's tie goes to them."""
    site = make_site(
        name="唯一岗位", demand={"code_checker": 1}, runs_night=False, runs_evening=False
    )
    period = make_period(start=DAY, end=DAY, sites=[site])
    flaky = make_volunteer(name="乙缺勤", trained_at=utcnow(), weekly_cap=5)
    keen = make_volunteer(name="甲可靠", trained_at=utcnow(), weekly_cap=5)
    for user in (flaky, keen):
        db.session.add(Availability(volunteer_id=vid(user), day=DAY, start_hour=8))
    once = make_volunteer(name="丙一次", trained_at=utcnow())
    db.session.commit()
    november = [(flaky, date(2026, 11, 3)), (flaky, date(2026, 11, 4))]
    absences(make_period, site, [*november, (once, date(2026, 11, 3))], "十一月")
    # After the period starts: does not count.
    absences(make_period, site, [(flaky, DAY + timedelta(days=1))], "十二月后")
    return Candidates(site=site, period=period, keen=keen, flaky=flaky, once=once)


def solved(app: Flask, period: PlanningPeriod) -> list[str]:
    """Who a solve run of the period (scheduler.jobs, as the coordinator starts it) rosters."""
    app.config.update(JOBS_SYNCHRONOUS=True, JOBS_SOLVER_WORKERS=1)
    run = rosters.start_run(period, [site.id for site in period.sites], 5, None)
    jobs.submit(run.id)
    db.session.expire_all()
    draft = current_draft(period.id)
    assert draft is not None
    return [person_id(a.volunteer_id) for a in draft.assignments]


def problem_of(period: PlanningPeriod) -> solver.Problem:
    """The period's problem with the no-show counts a solve run passes."""
    problem, _mapping = build_problem(
        period, no_shows=hours.no_show_counts(before=period.start_date)
    )
    return problem


def test_with_the_flag_repeat_no_shows_get_off_requests(app: Flask, candidates: Candidates) -> None:
    # Without the flag the two are a tie (which one the solver takes is not promised) ...
    assert solved(app, candidates.period) in (
        [person_id(vid(candidates.flaky))],
        [person_id(vid(candidates.keen))],
    )

    candidates.period.deprioritise_no_shows = True
    db.session.commit()
    problem = problem_of(candidates.period)
    people = {p.id: p for p in problem.people}
    flaky = people[person_id(vid(candidates.flaky))]
    assert flaky.requests == (solver.Request(on=False, day=DAY, weight=470 + 4),)
    assert people[person_id(vid(candidates.keen))].requests == ()
    assert people[person_id(vid(candidates.once))].requests == ()  # one no-show is not "repeat"

    # ... and with it, the keen one, whatever the order they were created in.
    assert solved(app, candidates.period) == [person_id(vid(candidates.keen))]


def test_without_the_flag_there_are_no_requests(candidates: Candidates) -> None:
    assert candidates.period.deprioritise_no_shows is False
    problem = problem_of(candidates.period)
    assert all(p.requests == () for p in problem.people)


def test_the_weight_grows_with_no_shows_and_is_capped(
    candidates: Candidates, make_period: Callable[..., PlanningPeriod]
) -> None:
    october = [(candidates.flaky, date(2026, 10, 1) + timedelta(days=n)) for n in range(1, 13)]
    absences(make_period, candidates.site, october, "十月")
    candidates.period.deprioritise_no_shows = True
    db.session.commit()
    problem = problem_of(candidates.period)
    flaky = next(p for p in problem.people if p.id == person_id(vid(candidates.flaky)))
    assert [r.weight for r in flaky.requests] == [470 + 20]


def test_absences_off_the_roster_do_not_weigh(
    candidates: Candidates, make_period: Callable[..., PlanningPeriod]
) -> None:
    """Absences the latest roster no longer holds are not no-shows for the solver either."""
    november = db.session.scalar(select(PlanningPeriod).where(PlanningPeriod.name == "十一月"))
    assert november is not None
    make_roster(november, [], version=2)  # republished without anyone
    candidates.period.deprioritise_no_shows = True
    db.session.commit()
    problem = problem_of(candidates.period)
    assert all(p.requests == () for p in problem.people)
    assert hours.no_show_counts() == {vid(candidates.flaky): 1}  # the one after the period


def test_the_period_form_sets_the_flag(
    app: Flask, candidates: Candidates, coordinator: User
) -> None:
    client = client_for(app, coordinator)
    url = f"/coordinator/periods/{candidates.period.id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert 'name="deprioritise_no_shows"' in page
    data = {
        "name": "一期",
        "start_date": DAY.isoformat(),
        "end_date": DAY.isoformat(),
        "site_ids": [str(candidates.site.id)],
        "deprioritise_no_shows": "y",
    }
    assert client.post(url, data=data).status_code == 302
    db.session.expire_all()
    assert candidates.period.deprioritise_no_shows is True
    del data["deprioritise_no_shows"]
    assert client.post(url, data=data).status_code == 302
    db.session.expire_all()
    assert candidates.period.deprioritise_no_shows is False
