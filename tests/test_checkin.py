"""Check-in at a site (the page the sign-in sheet's QR code opens): only the lead of a shift,
coordinators and admins mark it (a lead never themselves, and not after the lead's window);
present / late / absent with times in and out (local HH:MM, across midnight and a daylight-
saving change), walk-ins from the pool (their phones masked for a lead), double taps, ids that
are not ids, and nothing written by a refused request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert, select

from scheduler.extensions import db
from scheduler.models import (
    ADMIN,
    Attendance,
    Role,
    Site,
    UrgentNeed,
    UrgentRequest,
    User,
)
from scheduler.models.base import MAX_ID, set_clock
from scheduler.services import attendance
from scheduler.services.phones import mask, national
from tests.fixtures.auth import login
from tests.fixtures.rosters import PublishedRoster, cancel_shift, make_roster, publish_roster

DAY = date(2026, 12, 10)
# 09:30 in Asia/Shanghai on DAY: the day shift (08:00–16:00, 00:00–08:00 UTC) is running.
DURING_DAY = datetime(2026, 12, 10, 1, 30, tzinfo=UTC)
DAY_START = datetime(2026, 12, 10, 0, 0, tzinfo=UTC)
DAY_END = datetime(2026, 12, 10, 8, 0, tzinfo=UTC)
HX = {"HX-Request": "true"}


@pytest.fixture
def world(
    app: Flask,
    make_site: Callable[..., Site],
    make_volunteer: Callable[..., User],
    make_user: Callable[..., User],
    coordinator: User,
) -> PublishedRoster:
    site = make_site(name="南通北卡口")
    other_site = make_site(name="小海卡口")
    people = {
        "lead_day": make_volunteer(name="陈点长", phone="13900000010"),
        "alice": make_volunteer(name="李爱丽", phone="13900000011"),
        "bob": make_volunteer(name="王博", phone="13900000012"),
        "lead_night": make_volunteer(name="夜班长", phone="13900000013"),
        "carol": make_volunteer(name="赵卡罗", phone="13900000014"),
        "lead_other": make_volunteer(name="小海长", phone="13900000015"),
        "dave": make_volunteer(name="取消者", phone="13900000016"),
        "walker": make_volunteer(name="张三丰", phone="13900000017"),
        "idle": make_volunteer(name="张闲人", phone="13900000018"),
        "gone": make_volunteer(name="张停用", phone="13900000019"),
        "coordinator": coordinator,
        "admin": make_user(ADMIN, name="管理员"),
    }
    people["gone"].active = False
    world = publish_roster(
        {"site": site, "other_site": other_site},
        people,
        [
            (site, DAY, "day", "site_lead", people["lead_day"]),
            (site, DAY, "day", "code_checker", people["alice"]),
            (site, DAY, "day", "code_checker", people["bob"]),
            (site, DAY, "day", "code_checker", people["dave"]),
            (site, DAY, "night", "site_lead", people["lead_night"]),
            (site, DAY, "night", "code_checker", people["carol"]),
            (other_site, DAY, "day", "site_lead", people["lead_other"]),
        ],
    )
    cancel_shift(people["dave"], site, DAY, "day")
    set_clock(DURING_DAY)
    return world


def client_for(app: Flask, user: User | None) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    if user is not None:
        login(client, user)
    return client


def page_url(world: PublishedRoster, day: date = DAY, site: Site | None = None) -> str:
    return f"/checkin/sites/{(site or world.site).id}/{day.isoformat()}"


def mark_url(world: PublishedRoster, volunteer_id: int, kind: str = "day", day: date = DAY) -> str:
    return f"{page_url(world, day)}/{kind}/{volunteer_id}/status"


def times_url(
    world: PublishedRoster, volunteer_id: int, kind: str = "day", site: Site | None = None
) -> str:
    return f"{page_url(world, site=site)}/{kind}/{volunteer_id}/times"


def records() -> list[tuple[Any, ...]]:
    db.session.rollback()
    return sorted(
        (r.volunteer_id, r.site_id, r.day, r.shift, r.status, r.time_in, r.time_out, r.walk_in)
        for r in db.session.scalars(select(Attendance))
    )


def record_of(volunteer_id: int, kind: str = "day") -> Attendance | None:
    db.session.rollback()
    return db.session.scalar(
        select(Attendance).where(Attendance.volunteer_id == volunteer_id, Attendance.shift == kind)
    )


# Access -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["lead_day", "coordinator", "admin"])
def test_the_shifts_lead_coordinators_and_admins_mark(
    app: Flask, world: PublishedRoster, who: str
) -> None:
    client = client_for(app, world[who])
    assert client.get(page_url(world)).status_code == 200

    response = client.post(mark_url(world, world.vid("alice")), data={"status": "present"})

    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == page_url(world)
    record = record_of(world.vid("alice"))
    assert record is not None
    assert (record.status, record.time_in, record.time_out) == ("present", DURING_DAY, None)
    assert record.recorded_by_id == world[who].id
    assert not record.walk_in


@pytest.mark.parametrize("who", ["alice", "lead_other", "idle"])
def test_anyone_else_is_refused_and_nothing_is_written(
    app: Flask, world: PublishedRoster, who: str
) -> None:
    """A volunteer on the shift, the lead of another site, a volunteer with no shift."""
    client = client_for(app, world[who])
    assert client.get(page_url(world)).status_code == 403
    alice = world.vid("alice")
    assert client.post(mark_url(world, alice), data={"status": "present"}).status_code == 403
    times = {"time_in": "08:00", "time_out": "09:00"}
    assert client.post(times_url(world, alice), data=times).status_code == 403
    walk_in = {"volunteer_id": world.vid("walker"), "role_id": role_id("code_checker")}
    assert client.post(f"{page_url(world)}/day/walk-ins", data=walk_in).status_code == 403
    assert records() == []


def test_the_lead_of_another_shift_of_the_site_reads_the_day_but_marks_only_theirs(
    app: Flask, world: PublishedRoster
) -> None:
    client = client_for(app, world["lead_night"])
    page = client.get(page_url(world))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "李爱丽" in html  # the day shift is listed, read-only, phones masked
    assert mask(world["alice"].phone) in html
    assert national(world["alice"].phone) not in html
    assert national(world["carol"].phone) in html  # their own shift's phones in full
    assert "Read only: you do not lead this shift." in html

    refused = client.post(mark_url(world, world.vid("alice")), data={"status": "absent"})
    assert refused.status_code == 403
    assert records() == []

    # The night shift of DAY (00:00–08:00 local) has ended: a sheet entered afterwards.
    own = client.post(mark_url(world, world.vid("carol"), "night"), data={"status": "present"})
    assert own.status_code == 303
    record = record_of(world.vid("carol"), "night")
    assert record is not None
    # Marked after the shift: the time in is its start (23:00 UTC the day before).
    assert record.time_in == datetime(2026, 12, 9, 16, 0, tzinfo=UTC)


def test_anonymous_is_sent_to_log_in_and_comes_back(app: Flask, world: PublishedRoster) -> None:
    client = client_for(app, None)
    response = client.get(page_url(world))
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert unquote(location.query) == f"next={page_url(world)}"
    login_response = client.post(
        "/login",
        data={
            "phone": world["lead_day"].phone,
            "password": "correct-horse-9",
            "next": page_url(world),
        },
    )
    assert urlsplit(login_response.headers["Location"]).path == page_url(world)
    assert client.get(page_url(world)).status_code == 200


def test_unknown_site_day_or_shift(app: Flask, world: PublishedRoster) -> None:
    staff = client_for(app, world["coordinator"])
    assert staff.get("/checkin/sites/9999/2026-12-10").status_code == 404
    assert staff.get(f"/checkin/sites/{world.site.id}/not-a-day").status_code == 404
    bad_kind = f"{page_url(world)}/brunch/{world.vid('alice')}/status"
    assert staff.post(bad_kind, data={"status": "present"}).status_code == 404
    # Non-staff never learn which sites exist.
    lead = client_for(app, world["lead_day"])
    assert lead.get("/checkin/sites/9999/2026-12-10").status_code == 403
    assert records() == []


def test_a_post_for_someone_not_on_the_shift_is_404_and_writes_nothing(
    app: Flask, world: PublishedRoster
) -> None:
    client = client_for(app, world["lead_day"])
    for volunteer in ("carol", "walker", "dave"):  # other shift, not rostered, cancelled
        url = mark_url(world, world.vid(volunteer))
        assert client.post(url, data={"status": "present"}).status_code == 404, volunteer
        times = {"time_in": "08:00"}
        assert client.post(times_url(world, world.vid(volunteer)), data=times).status_code == 404
    assert records() == []


# The page ---------------------------------------------------------------------------------------


def test_the_page_lists_who_is_on_duty_without_cancelled_shifts(
    app: Flask, world: PublishedRoster
) -> None:
    html = client_for(app, world["lead_day"]).get(page_url(world)).get_data(as_text=True)
    for name in ("陈点长", "李爱丽", "王博", "赵卡罗"):
        assert name in html
    assert "取消者" not in html
    assert "小海长" not in html
    assert f'href="tel:{national(world["bob"].phone)}"' in html  # the lead calls a late volunteer
    assert html.index('id="shift-night"') < html.index('id="shift-day"')


def test_htmx_mark_returns_only_the_row(app: Flask, world: PublishedRoster) -> None:
    client = client_for(app, world["lead_day"])
    bob = world.vid("bob")
    response = client.post(
        mark_url(world, bob), data={"status": "late"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<li class="ci-person ci-late" id="att-day-{bob}"')
    assert "<html" not in html
    assert "Recorded by 陈点长" in html
    assert "in 09:30" in html
    record = record_of(bob)
    assert record is not None
    assert record.status == "late"


def test_present_late_absent_keep_the_times_straight(app: Flask, world: PublishedRoster) -> None:
    client = client_for(app, world["coordinator"])
    alice = world.vid("alice")
    client.post(mark_url(world, alice), data={"status": "late"})
    set_clock(DURING_DAY + timedelta(minutes=30))
    client.post(mark_url(world, alice), data={"status": "present"})
    record = record_of(alice)
    assert record is not None
    assert (record.status, record.time_in) == ("present", DURING_DAY)  # switching keeps time in
    client.post(mark_url(world, alice), data={"status": "absent"})
    record = record_of(alice)
    assert record is not None
    assert (record.status, record.time_in, record.time_out) == ("absent", None, None)
    client.post(mark_url(world, alice), data={"status": "present"})
    record = record_of(alice)
    assert record is not None
    assert record.time_in == DURING_DAY + timedelta(minutes=30)  # back: time in is now


def test_an_unknown_status_is_refused(app: Flask, world: PublishedRoster) -> None:
    client = client_for(app, world["lead_day"])
    response = client.post(
        mark_url(world, world.vid("alice")),
        data={"status": "asleep"},
        headers={"HX-Request": "true"},
    )
    assert "Choose present, late or absent." in response.get_data(as_text=True)
    assert records() == []


def test_check_in_opens_two_hours_before_the_shift(app: Flask, world: PublishedRoster) -> None:
    client = client_for(app, world["lead_day"])
    set_clock(datetime(2026, 12, 9, 21, 59, tzinfo=UTC))  # 05:59 local, the shift starts 08:00
    response = client.post(mark_url(world, world.vid("alice")), data={"status": "present"})
    assert response.status_code == 303
    assert records() == []
    page = client.get(page_url(world)).get_data(as_text=True)
    assert "Check-in opens 2 hours before the shift starts." in page
    set_clock(datetime(2026, 12, 9, 22, 0, tzinfo=UTC))
    client.post(mark_url(world, world.vid("alice")), data={"status": "present"})
    assert len(records()) == 1
    record = record_of(world.vid("alice"))
    assert record is not None
    assert record.time_in == DAY_START  # not 06:00: no hours before the shift starts


# Times ------------------------------------------------------------------------------------------


def test_times_are_local_and_a_time_out_after_midnight_is_the_next_day(
    app: Flask,
    world: PublishedRoster,
    make_site: Callable[..., Site],
    make_volunteer: Callable[..., User],
) -> None:
    """A checkpoint whose night shift runs 23:00–07:00: 23:10 is the shift's date, 07:05 the
    next morning; the lead types local times."""
    site = make_site(name="如东出口", first_shift_hour=23)
    lead, night = make_volunteer(name="夜长"), make_volunteer(name="夜班人")
    make_roster(
        world.period,
        [(site, DAY, "night", "site_lead", lead), (site, DAY, "night", "code_checker", night)],
        version=2,
    )
    set_clock(datetime(2026, 12, 10, 23, 30, tzinfo=UTC))  # 07:30 on Dec 11, local
    client = client_for(app, lead)
    assert night.volunteer is not None
    vid = night.volunteer.id
    url = f"/checkin/sites/{site.id}/{DAY}/night/{vid}"
    assert client.post(f"{url}/status", data={"status": "late"}).status_code == 303

    response = client.post(
        f"{url}/times",
        data={"time_in": "23:10", "time_out": "07:05"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "in 23:10" in html
    assert "out 07:05 (+1)" in html
    assert "7.92 h" in html
    record = record_of(vid, "night")
    assert record is not None
    assert record.time_in == datetime(2026, 12, 10, 15, 10, tzinfo=UTC)
    assert record.time_out == datetime(2026, 12, 10, 23, 5, tzinfo=UTC)
    assert record.status == "late"


@pytest.mark.parametrize(
    ("time_in", "time_out", "message"),
    [
        ("09:00", "08:30", "The time out must be after the time in."),
        ("09:00", "09:00", "The time out must be after the time in."),
        ("9h", "", "Enter the time as hours and minutes, e.g. 07:45."),
        ("08:00", "25:00", "Enter the time as hours and minutes, e.g. 07:45."),
        ("", "10:00", "Enter the time in."),
        ("08:00", "12:00", "The time out cannot be in the future."),
        ("11:00", "", "The time in cannot be in the future."),
    ],
)
def test_bad_times_are_refused_and_change_nothing(
    app: Flask, world: PublishedRoster, time_in: str, time_out: str, message: str
) -> None:
    client = client_for(app, world["lead_day"])
    alice = world.vid("alice")
    client.post(mark_url(world, alice), data={"status": "present"})
    before = records()

    response = client.post(
        times_url(world, alice),
        data={"time_in": time_in, "time_out": time_out},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert records() == before
    # Without JavaScript: the same message as a flash on the page.
    plain = client.post(times_url(world, alice), data={"time_in": time_in, "time_out": time_out})
    assert plain.status_code == 303
    assert message in client.get(page_url(world)).get_data(as_text=True)
    assert records() == before


def test_times_need_a_present_or_late_mark(app: Flask, world: PublishedRoster) -> None:
    client = client_for(app, world["lead_day"])
    alice = world.vid("alice")
    response = client.post(
        times_url(world, alice), data={"time_in": "08:00"}, headers={"HX-Request": "true"}
    )
    assert "Mark them present or late first." in response.get_data(as_text=True)
    client.post(mark_url(world, alice), data={"status": "absent"})
    before = records()
    client.post(times_url(world, alice), data={"time_in": "08:00"})
    assert records() == before


def test_time_out_now_and_clearing_it(app: Flask, world: PublishedRoster) -> None:
    client = client_for(app, world["lead_day"])
    alice = world.vid("alice")
    client.post(mark_url(world, alice), data={"status": "present"})
    set_clock(DURING_DAY + timedelta(hours=2))
    client.post(times_url(world, alice), data={"time_in": "09:30", "out_now": "1"})
    record = record_of(alice)
    assert record is not None
    assert record.time_out == DURING_DAY + timedelta(hours=2)
    client.post(times_url(world, alice), data={"time_in": "08:05", "time_out": ""})
    record = record_of(alice)
    assert record is not None
    assert (record.time_in, record.time_out) == (datetime(2026, 12, 10, 0, 5, tzinfo=UTC), None)


def test_time_out_now_is_not_offered_long_after_the_shift(
    app: Flask, world: PublishedRoster
) -> None:
    """A sheet entered the next day: the time in is the shift's start, and "now" would make a
    day-long shift, so the time out is typed."""
    client = client_for(app, world["coordinator"])
    alice = world.vid("alice")
    set_clock(DURING_DAY + timedelta(days=1))
    client.post(mark_url(world, alice), data={"status": "present"})
    record = record_of(alice)
    assert record is not None
    assert record.time_in == datetime(2026, 12, 10, 0, 0, tzinfo=UTC)  # 08:00 local
    page = client.get(page_url(world)).get_data(as_text=True)
    assert "Time out: now" not in page
    response = client.post(
        times_url(world, alice),
        data={"time_in": "08:00", "out_now": "1"},
        headers={"HX-Request": "true"},
    )
    assert "This shift ended long ago: type the time out instead." in response.get_data(
        as_text=True
    )
    client.post(times_url(world, alice), data={"time_in": "08:00", "time_out": "16:10"})
    record = record_of(alice)
    assert record is not None
    assert record.time_out == datetime(2026, 12, 10, 8, 10, tzinfo=UTC)


def test_place_time_takes_the_date_nearest_the_shift(app: Flask, world: PublishedRoster) -> None:
    def placed(first_hour: int, kind: str, text: str, later: bool = False) -> datetime:
        site = Site(
            name="x", kind="checkpoint", first_shift_hour=first_hour, timezone="Asia/Shanghai"
        )
        start, end = site.shift_window(DAY, kind)
        shift = attendance.ShiftCheckin(site, DAY, kind, start, end)
        clock = attendance.parse_time(text)
        assert clock is not None
        return attendance.place_time(shift, clock, prefer_later=later).replace(tzinfo=None)

    assert placed(23, "night", "06:50") == datetime(2026, 12, 11, 6, 50)
    assert placed(23, "night", "22:45") == datetime(2026, 12, 10, 22, 45)  # came early
    assert placed(0, "night", "23:50") == datetime(2026, 12, 9, 23, 50)  # the evening before
    assert placed(0, "evening", "00:30", later=True) == datetime(2026, 12, 11, 0, 30)
    assert placed(0, "day", "07:45") == datetime(2026, 12, 10, 7, 45)
    assert placed(0, "day", "00:00") == datetime(2026, 12, 10, 0, 0)  # a tie: the earlier
    assert placed(0, "day", "00:00", later=True) == datetime(2026, 12, 11, 0, 0)
    assert attendance.parse_time("24:00") is None
    assert attendance.parse_time("7:05") is not None


# Walk-ins ---------------------------------------------------------------------------------------


def role_id(code: str) -> int:
    return db.session.scalar(select(Role.id).where(Role.code == code))


@pytest.mark.parametrize(
    "query", ["张三", "zhangsanfeng", "zhang san", "13900000017", "+86 139 0000 0017"]
)
def test_walk_in_search_by_name_pinyin_or_phone(
    app: Flask, world: PublishedRoster, query: str
) -> None:
    client = client_for(app, world["lead_day"])
    response = client.get(page_url(world), query_string={"walkin": "day", "q": query}, headers=HX)
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="walkin-results-day">')
    assert "张三丰" in html
    assert "张停用" not in html  # inactive
    assert mask(world["walker"].phone) in html  # results show masked phones only
    assert national(world["walker"].phone) not in html


def search_results(client: FlaskClient, world: PublishedRoster, query: str) -> str:
    response = client.get(page_url(world), query_string={"walkin": "day", "q": query}, headers=HX)
    return response.get_data(as_text=True)


def test_a_lead_finds_a_walk_in_by_the_whole_mobile_number_only(
    app: Flask, world: PublishedRoster
) -> None:
    """Part of a number would let a lead read the masked digits one search at a time."""
    lead = client_for(app, world["lead_day"])
    for part in ("0017", "1390000", "900000017"):
        assert "张三丰" not in search_results(lead, world, part), part
    staff = client_for(app, world["coordinator"])
    html = search_results(staff, world, "0017")
    assert "张三丰" in html
    assert national(world["walker"].phone) not in html  # masked for staff too


def test_walk_in_search_leaves_out_who_is_on_the_shift(app: Flask, world: PublishedRoster) -> None:
    client = client_for(app, world["lead_day"])
    html = client.get(page_url(world), query_string={"walkin": "day", "q": "zh"}).get_data(
        as_text=True
    )
    start = html.index('id="walkin-results-day"')
    results = html[start : html.index("</details>", start)]
    for free in ("张三丰", "张闲人", "赵卡罗", "取消者"):  # 赵卡罗 is on the night shift
        assert free in results, free
    for busy in ("陈点长", "张停用"):  # the day shift's lead; an inactive account
        assert busy not in results, busy


def test_adding_a_walk_in(app: Flask, world: PublishedRoster) -> None:
    client = client_for(app, world["lead_day"])
    walker = world.vid("walker")
    response = client.post(
        f"{page_url(world)}/day/walk-ins",
        data={"volunteer_id": walker, "role_id": role_id("registrar")},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section class="ci-shift" id="shift-day"')
    assert "张三丰" in html
    assert "walk-in" in html
    record = record_of(walker)
    assert record is not None
    assert (record.status, record.walk_in, record.time_in) == ("present", True, DURING_DAY)
    assert record.role_id == role_id("registrar")
    assert record.recorded_by_id == world["lead_day"].id

    # The walk-in is now on the shift: marked like anyone, but removed rather than absent.
    mark = mark_url(world, walker)
    assert client.post(mark, data={"status": "late"}).status_code == 303
    client.post(mark, data={"status": "absent"})
    record = record_of(walker)
    assert record is not None
    assert record.status == "late"
    removed = client.post(mark, data={"status": "remove"}, headers={"HX-Request": "true"})
    assert removed.status_code == 200
    body = removed.get_data(as_text=True)
    assert 'id="att-' not in body  # the row goes; only the shift's tally comes back
    assert 'id="counts-day" hx-swap-oob="true"' in body
    assert records() == []


def test_walk_in_refuses_someone_already_on_the_shift(app: Flask, world: PublishedRoster) -> None:
    client = client_for(app, world["lead_day"])
    url = f"{page_url(world)}/day/walk-ins"
    checker = role_id("code_checker")
    cases = [
        ({"volunteer_id": world.vid("bob"), "role_id": checker}, "王博 is already on this shift."),
        ({"volunteer_id": world.vid("gone"), "role_id": checker}, "Choose a volunteer"),
        ({"volunteer_id": world.vid("walker"), "role_id": 9999}, "Choose a role."),
        ({"volunteer_id": "", "role_id": checker}, "Choose a volunteer."),
    ]
    for data, message in cases:
        response = client.post(url, data=data, headers={"HX-Request": "true"})
        assert message in response.get_data(as_text=True), data
        plain = client.post(url, data=data)
        assert plain.status_code == 303
    assert records() == []
    # A second add of the same walk-in is refused too.
    walker = {"volunteer_id": world.vid("walker"), "role_id": checker}
    client.post(url, data=walker)
    again = client.post(url, data=walker, headers={"HX-Request": "true"})
    assert "张三丰 is already on this shift." in again.get_data(as_text=True)
    assert len(records()) == 1


def test_walk_in_refuses_someone_checked_in_elsewhere_at_that_time(
    app: Flask, world: PublishedRoster
) -> None:
    other = client_for(app, world["lead_other"])
    checker = role_id("code_checker")
    walker = {"volunteer_id": world.vid("walker"), "role_id": checker}
    added = other.post(
        f"{page_url(world, site=world.sites['other_site'])}/day/walk-ins", data=walker
    )
    assert added.status_code == 303
    before = records()
    assert len(before) == 1
    response = client_for(app, world["lead_day"]).post(
        f"{page_url(world)}/day/walk-ins", data=walker, headers={"HX-Request": "true"}
    )
    assert "张三丰 is already checked in at 小海卡口 at that time." in response.get_data(
        as_text=True
    )
    assert records() == before


# The index and the links to it ------------------------------------------------------------------


def test_index_lists_the_shifts_a_lead_leads_today(app: Flask, world: PublishedRoster) -> None:
    html = client_for(app, world["lead_day"]).get("/checkin/").get_data(as_text=True)
    assert "南通北卡口" in html
    assert f"{page_url(world)}#shift-day" in html
    assert "#shift-night" not in html
    assert "小海卡口" not in html


def test_index_lists_every_site_with_people_today_for_staff(
    app: Flask, world: PublishedRoster
) -> None:
    html = client_for(app, world["coordinator"]).get("/checkin/").get_data(as_text=True)
    assert f"{page_url(world)}#shift-day" in html
    assert f"{page_url(world)}#shift-night" in html
    assert f"{page_url(world, site=world.sites['other_site'])}#shift-day" in html
    assert "/checkin/hours" in html
    # Tomorrow, today's shifts are gone (the night shift ended long ago).
    set_clock(DURING_DAY + timedelta(days=1))
    later = client_for(app, world["coordinator"]).get("/checkin/").get_data(as_text=True)
    assert page_url(world) not in later
    assert "Nobody is on duty at any site today." in later


def test_index_for_a_volunteer_who_leads_nothing(app: Flask, world: PublishedRoster) -> None:
    html = client_for(app, world["alice"]).get("/checkin/").get_data(as_text=True)
    assert "You lead no shift today." in html


def test_shift_card_links_the_lead_to_check_in(app: Flask, world: PublishedRoster) -> None:
    set_clock(datetime(2026, 11, 22, 12, 0, tzinfo=UTC))
    lead = client_for(app, world["lead_day"]).get("/me").get_data(as_text=True)
    assert f'href="{page_url(world)}#shift-day"' in lead
    member = client_for(app, world["alice"]).get("/me").get_data(as_text=True)
    assert "/checkin/" not in member


def test_coordinator_nav_links_check_in(app: Flask, world: PublishedRoster) -> None:
    html = client_for(app, world["coordinator"]).get("/coordinator/").get_data(as_text=True)
    assert 'href="/checkin/"' in html


# Phones -----------------------------------------------------------------------------------------


def person_html(html: str, kind: str, volunteer_id: int) -> str:
    start = html.index(f'id="att-{kind}-{volunteer_id}"')
    return html[start : html.index("</li>", start)]


def test_a_walk_ins_phone_is_masked_for_the_lead_and_full_for_staff(
    app: Flask, world: PublishedRoster
) -> None:
    """Adding anyone as a walk-in must not reveal their number to a lead."""
    lead = client_for(app, world["lead_day"])
    walker = world.vid("walker")
    data = {"volunteer_id": walker, "role_id": role_id("registrar")}
    section = lead.post(f"{page_url(world)}/day/walk-ins", data=data, headers=HX)
    assert section.status_code == 200
    for html in (section.get_data(as_text=True), lead.get(page_url(world)).get_data(as_text=True)):
        row = person_html(html, "day", walker)
        assert mask(world["walker"].phone) in row
        assert national(world["walker"].phone) not in html
        assert national(world["alice"].phone) in person_html(html, "day", world.vid("alice"))
    marked = lead.post(mark_url(world, walker), data={"status": "late"}, headers=HX)
    assert national(world["walker"].phone) not in marked.get_data(as_text=True)
    assert mask(world["walker"].phone) in marked.get_data(as_text=True)

    staff = client_for(app, world["coordinator"]).get(page_url(world)).get_data(as_text=True)
    assert f'href="tel:{national(world["walker"].phone)}"' in person_html(staff, "day", walker)


# A lead's own attendance, and the lead's window -------------------------------------------------


def test_a_lead_may_not_record_their_own_attendance(app: Flask, world: PublishedRoster) -> None:
    client = client_for(app, world["lead_day"])
    own = world.vid("lead_day")
    message = "You cannot record your own attendance: a coordinator records it for you."
    for status in ("present", "late", "absent"):
        fragment = client.post(mark_url(world, own), data={"status": status}, headers=HX)
        assert fragment.status_code == 200
        assert message in fragment.get_data(as_text=True)
        plain = client.post(mark_url(world, own), data={"status": status})
        assert plain.status_code == 303
    times = client.post(times_url(world, own), data={"time_in": "08:00"}, headers=HX)
    assert message in times.get_data(as_text=True)
    assert records() == []
    page = client.get(page_url(world)).get_data(as_text=True)
    assert message in page  # the flash
    row = person_html(page, "day", own)
    assert 'name="status"' not in row
    assert "A coordinator records your own attendance." in row

    # A coordinator records the lead.
    staff = client_for(app, world["coordinator"])
    assert staff.post(mark_url(world, own), data={"status": "present"}).status_code == 303
    record = record_of(own)
    assert record is not None
    assert record.recorded_by_id == world["coordinator"].id


def test_the_leads_check_in_closes_a_day_after_the_shift_ends(
    app: Flask, world: PublishedRoster
) -> None:
    lead = client_for(app, world["lead_day"])
    alice = world.vid("alice")
    set_clock(DAY_END + attendance.LEAD_EDIT_WINDOW - timedelta(minutes=1))  # the last minute
    assert lead.post(mark_url(world, alice), data={"status": "present"}).status_code == 303
    assert len(records()) == 1
    set_clock(DAY_END + attendance.LEAD_EDIT_WINDOW + timedelta(minutes=1))
    message = "Check-in for this shift closed 24 hours after it ended: ask a coordinator"
    refused = lead.post(mark_url(world, world.vid("bob")), data={"status": "late"}, headers=HX)
    assert message in refused.get_data(as_text=True)
    times = {"time_in": "08:00", "time_out": "16:00"}
    lead.post(times_url(world, alice), data=times)
    walk_in = {"volunteer_id": world.vid("walker"), "role_id": role_id("registrar")}
    lead.post(f"{page_url(world)}/day/walk-ins", data=walk_in)
    before = records()
    assert len(before) == 1
    assert before[0][5:7] == (DAY_START, None)
    page = lead.get(page_url(world)).get_data(as_text=True)
    assert message in page
    assert 'name="status"' not in page
    assert national(world["bob"].phone) not in page  # read-only now: masked

    # Staff still type in a paper sheet, any time later.
    set_clock(DAY_END + timedelta(days=30))
    staff = client_for(app, world["coordinator"])
    assert staff.post(mark_url(world, world.vid("bob")), data={"status": "late"}).status_code == 303
    assert staff.post(times_url(world, alice), data=times).status_code == 303
    record = record_of(alice)
    assert record is not None
    assert (record.time_in, record.time_out) == (DAY_START, DAY_END)
    assert len(records()) == 2


# Absent, and the default time in ---------------------------------------------------------------


def test_absent_only_once_the_shift_has_started(app: Flask, world: PublishedRoster) -> None:
    client = client_for(app, world["lead_day"])
    alice, bob = world.vid("alice"), world.vid("bob")
    set_clock(DAY_START - timedelta(hours=1))  # 07:00 local: check-in is open, the shift not
    refused = client.post(mark_url(world, alice), data={"status": "absent"}, headers=HX)
    assert "Someone can be marked absent only once the shift has started." in refused.get_data(
        as_text=True
    )
    assert records() == []
    client.post(mark_url(world, bob), data={"status": "present"})
    record = record_of(bob)
    assert record is not None
    assert record.time_in == DAY_START  # arrived early: serves from the start
    set_clock(DAY_START + timedelta(minutes=1))
    assert client.post(mark_url(world, alice), data={"status": "absent"}).status_code == 303
    record = record_of(alice)
    assert record is not None
    assert record.status == "absent"


# Ids that are not ids ---------------------------------------------------------------------------

HUGE = str(10**20)


@pytest.mark.parametrize("who", ["lead_day", "coordinator"])
def test_ids_that_are_not_ids_get_a_clean_4xx_and_write_nothing(
    app: Flask, world: PublishedRoster, who: str
) -> None:
    client = client_for(app, world[who])
    alice = world.vid("alice")
    body = {"status": "present", "time_in": "08:00", "time_out": "09:00"}
    for bad in (HUGE, str(MAX_ID + 1), "abc", "-1"):
        for url in (
            f"/checkin/sites/{bad}/{DAY}/day/{alice}/status",
            f"{page_url(world)}/day/{bad}/status",
            f"/checkin/sites/{bad}/{DAY}/day/{alice}/times",
            f"{page_url(world)}/day/{bad}/times",
            f"/checkin/sites/{bad}/{DAY}/day/walk-ins",
        ):
            assert client.post(url, data=body).status_code == 404, url
            assert client.post(url, data=body, headers=HX).status_code == 404, url
    walk_in = f"{page_url(world)}/day/walk-ins"
    good = {"volunteer_id": world.vid("walker"), "role_id": role_id("registrar")}
    for field in ("volunteer_id", "role_id"):
        for bad in (HUGE, str(MAX_ID + 1), "0", "-3", "abc", "1.5", "1e3"):
            data = {**good, field: bad}
            assert client.post(walk_in, data=data).status_code == 400, (field, bad)
            assert client.post(walk_in, data=data, headers=HX).status_code == 400, (field, bad)
    # Oversized times are a message, not an error.
    client.post(mark_url(world, alice), data={"status": "present"})
    before = records()
    for value in ("9" * 30, f"{HUGE}:00"):
        response = client.post(times_url(world, alice), data={"time_in": value}, headers=HX)
        assert response.status_code == 200
        assert "Field cannot be longer than 8 characters." in response.get_data(as_text=True)
    assert records() == before
    assert len(before) == 1


# Double taps ------------------------------------------------------------------------------------


def record_meanwhile(world: PublishedRoster, volunteer_id: int, walk_in: bool = False) -> None:
    """Another request (its own connection) records the person between this request's read
    and its write: the first of two taps."""
    with db.engine.begin() as other:
        other.execute(
            insert(Attendance).values(
                volunteer_id=volunteer_id,
                site_id=world.site.id,
                day=DAY,
                shift="day",
                role_id=role_id("registrar" if walk_in else "code_checker"),
                status="present",
                time_in=DURING_DAY - timedelta(minutes=3),
                walk_in=walk_in,
                recorded_by_id=world["lead_day"].id,
                updated_at=DURING_DAY,
            )
        )


@pytest.mark.parametrize("status", ["present", "late"])
def test_a_second_tap_racing_the_first_applies_to_the_same_record(
    app: Flask, world: PublishedRoster, status: str
) -> None:
    alice = world.vid("alice")
    shift = attendance.shift_checkin(world.site, DAY, "day", world["lead_day"])
    assert shift.person(alice) is not None
    record_meanwhile(world, alice)

    person = attendance.mark(shift, alice, status, world["lead_day"])

    assert person is not None
    assert person.status == status
    stored = record_of(alice)
    assert stored is not None
    assert (stored.status, stored.time_in) == (status, DURING_DAY - timedelta(minutes=3))
    assert len(records()) == 1


def test_a_double_tap_on_a_walk_in_adds_them_once(app: Flask, world: PublishedRoster) -> None:
    walker = world.vid("walker")
    shift = attendance.shift_checkin(world.site, DAY, "day", world["lead_day"])
    record_meanwhile(world, walker, walk_in=True)

    person = attendance.add_walk_in(shift, walker, role_id("registrar"), world["lead_day"])

    assert person.walk_in
    assert len(records()) == 1


def test_two_posts_for_the_same_person_record_them_once(app: Flask, world: PublishedRoster) -> None:
    client = client_for(app, world["lead_day"])
    bob = world.vid("bob")
    for _tap in range(2):
        response = client.post(mark_url(world, bob), data={"status": "present"}, headers=HX)
        assert response.status_code == 200
        assert "flash-error" not in response.get_data(as_text=True)
    assert len(records()) == 1


def test_only_a_duplicate_record_is_reported_as_someone_elses(
    app: Flask, world: PublishedRoster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any other refusal by the database is a plain message, not "someone else just recorded
    this person". Here the times slip past the checks the way they did when they were compared
    on the wall clock: 01:50 after the clocks went back (06:50 UTC) and 01:55 before (05:55)."""
    client = client_for(app, world["lead_day"])
    alice = world.vid("alice")
    client.post(mark_url(world, alice), data={"status": "present"})
    before = records()
    zone = ZoneInfo("America/New_York")
    placed = iter(
        [
            datetime(2026, 11, 1, 1, 50, fold=1, tzinfo=zone),
            datetime(2026, 11, 1, 1, 55, tzinfo=zone),
        ]
    )
    monkeypatch.setattr(attendance, "_typed_instant", lambda *_args, **_kw: next(placed))
    response = client.post(
        times_url(world, alice), data={"time_in": "01:50", "time_out": "01:55"}, headers=HX
    )
    html = response.get_data(as_text=True)
    assert "This could not be saved: reload the page and try again." in html
    assert "Someone else" not in html
    assert records() == before


# Daylight saving --------------------------------------------------------------------------------

SPRING = date(2027, 3, 14)  # New York's clocks go from 02:00 straight to 03:00


@pytest.fixture
def new_york(
    world: PublishedRoster,
    make_site: Callable[..., Site],
    make_volunteer: Callable[..., User],
) -> PublishedRoster:
    """A New York site whose night shift (00:00–08:00 local) on SPRING is 7 hours long."""
    site = make_site(name="纽约点", timezone="America/New_York")
    lead, night = make_volunteer(name="纽约长"), make_volunteer(name="纽约夜")
    new_york = publish_roster(
        {"site": site},
        {"lead": lead, "night": night},
        [
            (site, SPRING, "night", "site_lead", lead),
            (site, SPRING, "night", "code_checker", night),
        ],
        start=date(2027, 3, 8),
        end=date(2027, 3, 21),
        period_name="春",
    )
    set_clock(datetime(2027, 3, 14, 13, 0, tzinfo=UTC))  # 09:00 EDT: the night shift is over
    return new_york


def test_times_across_the_spring_forward_gap(app: Flask, new_york: PublishedRoster) -> None:
    client = client_for(app, new_york["lead"])
    url = f"/checkin/sites/{new_york.site.id}/{SPRING}/night/{new_york.vid('night')}"
    marked = client.post(f"{url}/status", data={"status": "present"}, headers=HX)
    assert "7 h" in marked.get_data(as_text=True)  # 00:00 EST to 08:00 EDT, no time out
    record = record_of(new_york.vid("night"), "night")
    assert record is not None
    assert record.time_in == datetime(2027, 3, 14, 5, 0, tzinfo=UTC)
    before = records()

    skipped = client.post(
        f"{url}/times", data={"time_in": "02:30", "time_out": "03:15"}, headers=HX
    )
    assert "There is no 02:30 on that date: the clocks were put forward." in skipped.get_data(
        as_text=True
    )
    backwards = client.post(
        f"{url}/times", data={"time_in": "03:15", "time_out": "01:30"}, headers=HX
    )
    assert "The time out must be after the time in." in backwards.get_data(as_text=True)
    assert records() == before

    across = client.post(f"{url}/times", data={"time_in": "01:30", "time_out": "03:15"}, headers=HX)
    html = across.get_data(as_text=True)
    assert "in 01:30" in html
    assert "out 03:15" in html
    assert "0.75 h" in html  # 45 minutes, not 1 h 45
    record = record_of(new_york.vid("night"), "night")
    assert record is not None
    assert record.time_in == datetime(2027, 3, 14, 6, 30, tzinfo=UTC)
    assert record.time_out == datetime(2027, 3, 14, 7, 15, tzinfo=UTC)


# Walk-in roles ----------------------------------------------------------------------------------


def test_walk_in_roles_put_the_posts_urgent_requests_add_first(
    app: Flask, world: PublishedRoster
) -> None:
    shift = attendance.shift_checkin(world.site, DAY, "day", world["coordinator"])
    codes = [r.code for r in attendance.walk_in_roles(shift)]
    assert codes[:3] == ["code_checker", "site_lead", "temperature"]
    db.session.add(
        UrgentRequest(
            period_id=world.period.id,
            site_id=world.site.id,
            day=DAY,
            start_time=time(10),
            end_time=time(12),
            created_by_id=world["coordinator"].id,
            needs=[UrgentNeed(role_id=role_id("registrar"), headcount=2)],
        )
    )
    db.session.commit()
    codes = [r.code for r in attendance.walk_in_roles(shift)]
    assert codes[:3] == ["code_checker", "registrar", "site_lead"]
    night = attendance.shift_checkin(world.site, DAY, "night", world["coordinator"])
    assert "registrar" not in [r.code for r in attendance.walk_in_roles(night)][:3]
