"""A volunteer's shifts as iCalendar: the download and the secret feed, parsed back with
icalendar (times in the site's zone across midnight, VTIMEZONE, UIDs that survive
republishing, cancelled and other people's shifts never there), and the feed's life: turned
on, replaced, turned off, each old URL a plain 404."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar, Event

from scheduler.extensions import db
from scheduler.models import PlanningPeriod, Site, User, Volunteer
from scheduler.services import calendar as cal
from tests.fixtures.auth import PASSWORD, login
from tests.fixtures.rosters import cancel_shift, make_roster

URUMQI = ZoneInfo("Asia/Urumqi")
SHANGHAI = ZoneInfo("Asia/Shanghai")
D7, D9, D10, D11, D12, D14 = (date(2026, 12, d) for d in (7, 9, 10, 11, 12, 14))


@dataclass
class World:
    period: PlanningPeriod
    far: Site  # Asia/Urumqi, night from 23:00: crosses midnight
    near: Site  # Asia/Shanghai, shifts from midnight
    me: User
    lead: User
    other: User

    def vid(self, user: User) -> int:
        assert user.volunteer is not None
        return user.volunteer.id


@pytest.fixture
def world(
    app: Flask,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
) -> World:
    far = make_site(name="乌鲁木齐卡口", timezone="Asia/Urumqi", first_shift_hour=23)
    far.address = "乌鲁木齐市高速路口1号"
    near = make_site(name="小海检测点", kind="testing")
    me = make_volunteer(name="林志愿", phone="13900000001")
    lead = make_volunteer(name="陈点长", phone="13900000002")
    other = make_volunteer(name="王别人", phone="13900000005")
    period = make_period(sites=[far, near])
    make_roster(
        period,
        [
            (far, D7, "night", "code_checker", me),
            (far, D7, "night", "site_lead", lead),
            (far, D9, "day", "code_checker", me),
            (near, D10, "day", "site_lead", me),
            (near, D10, "day", "code_checker", other),
            (far, D11, "night", "code_checker", other),
            (near, D12, "evening", "temperature", me),
        ],
        version=1,
    )
    make_roster(period, [(near, D14, "day", "code_checker", me)])  # the draft: never shown
    autumn = make_period(start=date(2026, 10, 1), end=date(2026, 11, 15), sites=[near], name="秋")
    make_roster(
        autumn,
        [
            (near, date(2026, 10, 1), "day", "code_checker", me),  # more than 30 days ago
            (near, date(2026, 11, 10), "day", "code_checker", me),  # recent: still shown
        ],
        version=1,
    )
    cancel_shift(me, near, D12, "evening")
    return World(period, far, near, me, lead, other)


def parse(body: bytes) -> Calendar:
    calendar = Calendar.from_ical(body)
    assert isinstance(calendar, Calendar)
    return calendar


def by_day(calendar: Calendar) -> dict[date, Event]:
    return {event.start.date(): event for event in calendar.events}


def ics_of(user: User) -> Calendar:
    assert user.volunteer is not None
    return parse(cal.calendar_ics(user.volunteer))


def test_events_are_the_volunteers_published_shifts_from_a_month_ago(world: World) -> None:
    calendar = ics_of(world.me)

    assert sorted(by_day(calendar)) == [date(2026, 11, 10), D7, D9, D10]
    # Not there: October (too old), 11th (someone else's), 12th (cancelled), 14th (draft).
    assert calendar["PRODID"] == cal.PRODID
    assert calendar["VERSION"] == "2.0"
    assert calendar["X-WR-CALNAME"] == "My shifts · Muster"
    assert calendar["METHOD"] == "PUBLISH"
    # Calendar apps are asked to fetch the feed again every hour.
    assert calendar.refresh_interval == timedelta(hours=1)
    assert calendar["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert calendar["X-PUBLISHED-TTL"] == "PT1H"


def test_a_night_shift_crosses_midnight_in_the_sites_time_zone(world: World) -> None:
    body = cal.calendar_ics(world.me.volunteer)  # type: ignore[arg-type]
    calendar = parse(body)
    night = by_day(calendar)[D7]

    assert night.start == datetime(2026, 12, 7, 23, tzinfo=URUMQI)
    assert night.end == datetime(2026, 12, 8, 7, tzinfo=URUMQI)
    assert night.start.astimezone(UTC) == datetime(2026, 12, 7, 17, tzinfo=UTC)
    assert b"DTSTART;TZID=Asia/Urumqi:20261207T230000" in body
    assert b"DTEND;TZID=Asia/Urumqi:20261208T070000" in body
    # Every TZID used has its VTIMEZONE, and the zone's offset is right in it.
    assert {tz.tz_name for tz in calendar.timezones} == {"Asia/Urumqi", "Asia/Shanghai"}
    assert calendar.get_missing_tzids() == set()
    urumqi = next(tz for tz in calendar.timezones if tz.tz_name == "Asia/Urumqi")
    assert urumqi.to_tz().utcoffset(datetime(2026, 12, 7, 23)).total_seconds() == 6 * 3600
    day = by_day(calendar)[D10]
    assert (day.start, day.end) == (
        datetime(2026, 12, 10, 8, tzinfo=SHANGHAI),
        datetime(2026, 12, 10, 16, tzinfo=SHANGHAI),
    )


def test_an_event_names_role_site_address_and_the_lead_to_call(world: World) -> None:
    events = by_day(ics_of(world.me))
    night = events[D7]

    assert night["SUMMARY"] == "Code checker · 乌鲁木齐卡口"
    assert night["LOCATION"] == "乌鲁木齐市高速路口1号"
    description = str(night["DESCRIPTION"])
    assert "Role: Code checker" in description
    assert "Site lead: 陈点长, 13900000002" in description
    assert "Period: 第一期" in description
    assert str(night["UID"]) == f"shift-{world.vid(world.me)}-{world.far.id}-20261207-night@muster"
    published = datetime(2026, 11, 22, 12, tzinfo=UTC)
    assert night["DTSTAMP"].dt == published  # the version's publication, stable between fetches
    led = events[D10]
    assert "You lead this shift." in str(led["DESCRIPTION"])
    assert "Site lead:" not in str(led["DESCRIPTION"])


def test_someone_elses_shifts_and_numbers_are_never_in_it(world: World) -> None:
    body = cal.calendar_ics(world.me.volunteer)  # type: ignore[arg-type]
    assert "王别人".encode() not in body
    assert b"13900000005" not in body
    mine = f"shift-{world.vid(world.me)}-".encode()
    assert all(str(e["UID"]).encode().startswith(mine) for e in parse(body).events)

    theirs = ics_of(world.other)
    assert sorted(by_day(theirs)) == [D10, D11]
    assert all(f"shift-{world.vid(world.other)}-" in str(e["UID"]) for e in theirs.events)


def test_republishing_updates_events_instead_of_adding_them(world: World) -> None:
    before = by_day(ics_of(world.me))
    make_roster(
        world.period,
        [
            (world.far, D7, "night", "temperature", world.me),  # another role, same post
            (world.far, D7, "night", "site_lead", world.lead),
            (world.near, D10, "day", "site_lead", world.me),
        ],
        version=2,
    )

    after = by_day(ics_of(world.me))

    assert sorted(after) == [date(2026, 11, 10), D7, D10]  # the 9th is gone
    assert after[D7]["UID"] == before[D7]["UID"]
    assert after[D7]["SUMMARY"] == "Temperature check · 乌鲁木齐卡口"
    assert after[D7]["SEQUENCE"] == 1


def test_a_shift_cancelled_later_disappears(world: World) -> None:
    cancel_shift(world.me, world.far, D9, "day", reason="生病")
    assert D9 not in by_day(ics_of(world.me))


def test_a_lead_who_cancelled_is_not_named(world: World) -> None:
    cancel_shift(world.lead, world.far, D7, "night", reason="生病")
    assert "陈点长" not in str(by_day(ics_of(world.me))[D7]["DESCRIPTION"])


def test_no_shifts_is_an_empty_but_valid_calendar(
    app: Flask, make_volunteer: Callable[..., User]
) -> None:
    calendar = ics_of(make_volunteer(name="新人"))
    assert calendar.events == []
    assert calendar.timezones == []
    assert calendar["VERSION"] == "2.0"


# Routes ------------------------------------------------------------------------------------


def anonymous(app: Flask) -> FlaskClient:
    return app.test_client()


def token_of(user: User) -> str | None:
    db.session.expire_all()
    volunteer = db.session.get(Volunteer, user.volunteer.id)  # type: ignore[union-attr]
    assert volunteer is not None
    return volunteer.calendar_token


def test_download_is_the_volunteers_own_shifts(
    app: Flask, client: FlaskClient, world: World
) -> None:
    login(client, world.me)
    response = client.get("/me/calendar.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="muster-shifts.ics"'
    assert response.headers["Cache-Control"] == "private, no-store"
    events = by_day(parse(response.data))
    assert sorted(events) == [date(2026, 11, 10), D7, D9, D10]
    # Each event links back to the shift's page.
    assert str(events[D7]["URL"]).startswith("http://localhost/me/shifts/")

    theirs = app.test_client()
    login(theirs, world.other)
    assert sorted(by_day(parse(theirs.get("/me/calendar.ics").data))) == [D10, D11]


def test_the_feed_is_turned_on_replaced_and_turned_off(
    app: Flask, client: FlaskClient, world: World
) -> None:
    login(client, world.me)
    page = client.get("/me/calendar").get_data(as_text=True)
    assert "Get my calendar link" in page
    assert "/calendar/" not in page.replace("/me/calendar", "")
    assert token_of(world.me) is None

    assert client.post("/me/calendar/enable").status_code == 303
    first = token_of(world.me)
    assert first is not None
    assert len(first) == 43  # 32 random bytes, URL-safe
    response = client.get("/me/calendar")
    assert response.headers["Cache-Control"] == "private, no-store"  # it shows the secret URL
    page = response.get_data(as_text=True)
    assert f'value="http://localhost/calendar/{first}.ics"' in page
    assert f'href="webcal://localhost/calendar/{first}.ics"' in page
    client.post("/me/calendar/enable")
    assert token_of(world.me) == first  # turning it on again keeps the URL

    feed = anonymous(app).get(f"/calendar/{first}.ics")
    assert feed.status_code == 200
    assert feed.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "Content-Disposition" not in feed.headers
    assert feed.headers["Cache-Control"] == "private, no-store"
    assert "Set-Cookie" not in feed.headers
    assert sorted(by_day(parse(feed.data))) == [date(2026, 11, 10), D7, D9, D10]

    assert client.post("/me/calendar/rotate").status_code == 303
    second = token_of(world.me)
    assert second not in (None, first)
    assert anonymous(app).get(f"/calendar/{first}.ics").status_code == 404
    assert anonymous(app).get(f"/calendar/{second}.ics").status_code == 200

    assert client.post("/me/calendar/revoke").status_code == 303
    assert token_of(world.me) is None
    assert anonymous(app).get(f"/calendar/{second}.ics").status_code == 404
    assert "Get my calendar link" in client.get("/me/calendar").get_data(as_text=True)


def test_the_feed_follows_republishing(app: Flask, client: FlaskClient, world: World) -> None:
    login(client, world.me)
    client.post("/me/calendar/enable")
    url = f"/calendar/{token_of(world.me)}.ics"
    assert D9 in by_day(parse(anonymous(app).get(url).data))
    make_roster(world.period, [(world.far, D7, "night", "code_checker", world.me)], version=2)
    assert sorted(by_day(parse(anonymous(app).get(url).data))) == [date(2026, 11, 10), D7]


@pytest.mark.parametrize(
    "token", ["nope", "x" * 43, "y" * 200, "%00", "None", ""], ids=lambda t: t[:8] or "empty"
)
def test_unknown_tokens_are_a_plain_404(app: Flask, world: World, token: str) -> None:
    response = anonymous(app).get(f"/calendar/{token}.ics")
    assert response.status_code == 404
    assert b"BEGIN:VCALENDAR" not in response.data


def test_a_deactivated_account_has_no_feed(app: Flask, world: World) -> None:
    assert world.me.volunteer is not None
    token = cal.enable_feed(world.me.volunteer)
    world.me.active = False
    db.session.commit()
    assert anonymous(app).get(f"/calendar/{token}.ics").status_code == 404


def test_rotating_your_feed_leaves_everyone_elses_alone(
    app: Flask, client: FlaskClient, world: World
) -> None:
    assert world.other.volunteer is not None
    theirs = cal.enable_feed(world.other.volunteer)
    login(client, world.me)
    for action in ("enable", "rotate", "revoke"):
        client.post(f"/me/calendar/{action}", data={"volunteer_id": world.vid(world.other)})
        assert token_of(world.other) == theirs
    assert anonymous(app).get(f"/calendar/{theirs}.ics").status_code == 200


def test_the_feed_speaks_the_volunteers_language(app: Flask, world: World) -> None:
    assert world.me.volunteer is not None
    token = cal.enable_feed(world.me.volunteer)
    world.me.locale = "zh_Hans"
    db.session.commit()
    calendar = parse(anonymous(app).get(f"/calendar/{token}.ics").data)
    assert calendar["X-WR-CALNAME"] == "我的班次 · 集结号"
    assert by_day(calendar)[D7]["SUMMARY"] == "查验双码 · 乌鲁木齐卡口"


def test_a_failing_feed_does_not_log_its_token(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    assert world.me.volunteer is not None
    token = cal.enable_feed(world.me.volunteer)

    def broken(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("boom")

    monkeypatch.setattr(cal, "calendar_ics", broken)
    with caplog.at_level(logging.INFO):
        response = anonymous(app).get(f"/calendar/{token}.ics")
    assert response.status_code == 500
    assert "calendar feed failed" in caplog.text
    assert token not in caplog.text


def test_me_links_to_the_calendar_page(client: FlaskClient, world: World) -> None:
    login(client, world.me)
    page = client.get("/me").get_data(as_text=True)
    assert 'href="/me/calendar"' in page


def test_the_buttons_work_with_csrf_on(
    app_factory: Callable[..., Flask], make_volunteer: Callable[..., User]
) -> None:
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        me = make_volunteer(name="林志愿")
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert token
        client.post(
            "/login", data={"phone": me.phone, "password": PASSWORD, "csrf_token": token[1]}
        )
        page = client.get("/me/calendar").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert token

        assert client.post("/me/calendar/enable").status_code == 400
        assert token_of(me) is None
        response = client.post("/me/calendar/enable", data={"csrf_token": token[1]})
        assert response.status_code == 303
        assert token_of(me) is not None
