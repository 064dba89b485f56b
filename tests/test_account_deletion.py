"""Deleting one's account anonymises it and keeps history: published versions, attendance and
hours keep their rows under "Deleted volunteer #N"; personal data is cleared; login is
impossible; every upcoming shift goes through the normal cancel path (the hole shows, every
coordinator and the shift's lead are told, a shift inside the cut-off is flagged urgent) and
the volunteer leaves every draft post not yet started. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from flask import Flask
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import (
    Assignment,
    Attendance,
    Availability,
    DayOff,
    Notification,
    PlanningPeriod,
    ShiftResponse,
    Site,
    UnfilledPost,
    User,
    Volunteer,
    VolunteerSkill,
)
from scheduler.models.base import set_clock
from scheduler.services import lookups, my_shifts
from scheduler.services.lookups import current_draft
from scheduler.services.notifications import notify
from tests.fixtures.auth import PASSWORD, login
from tests.fixtures.rosters import make_roster

SUN, MON, TUE, WED = (date(2026, 12, 6) + timedelta(days=n) for n in range(4))
PHONE = "13812345678"


def test_deleting_an_account_keeps_history_and_cancels_upcoming_shifts(
    any_db_app: Flask,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
    coordinator: User,
) -> None:
    site = make_site(
        name="东卡口",
        demand={"site_lead": 1, "code_checker": 1},
        runs_night=False,
        runs_evening=False,
    )
    period = make_period(start=SUN, end=WED, sites=[site])
    me = make_volunteer(
        name="郑删除",
        phone=PHONE,
        emergency_name="郑家人",
        emergency_phone="+8613700137000",
        partner_phone="+8613700137001",
        calendar_token="secret-feed",
    )
    lead = make_volunteer(name="林点长")
    mine = me.volunteer
    assert mine is not None
    db.session.add_all(
        [
            Availability(volunteer_id=mine.id, day=WED, start_hour=8),
            DayOff(volunteer_id=mine.id, day=TUE),
        ]
    )
    rows = [
        (site, day, "day", code, user)
        for day in (SUN, MON, TUE)
        for code, user in (("code_checker", me), ("site_lead", lead))
    ]
    v1 = make_roster(period, rows, version=1)
    make_roster(period, [*rows, (site, WED, "day", "code_checker", me)])  # the draft
    # A shift already served, with its attendance.
    sunday_start, sunday_end = site.shift_window(SUN, "day")
    db.session.add(
        Attendance(
            volunteer_id=mine.id,
            site_id=site.id,
            day=SUN,
            shift="day",
            status="present",
            time_in=sunday_start,
            time_out=sunday_end,
        )
    )
    # Their own words from an earlier answer, and a message about them sent to the lead.
    db.session.add(
        ShiftResponse(
            volunteer_id=mine.id,
            site_id=site.id,
            day=SUN,
            shift="night",
            status="cancelled",
            reason="郑删除的私事：住院",
        )
    )
    notify(
        lead.id,
        my_shifts.VOLUNTEER_CANCELLED,
        volunteer_id=mine.id,
        volunteer_name="郑删除",
        site_id=site.id,
        day=SUN.isoformat(),
        shift="night",
        reason="郑删除的私事：住院",
    )
    notify(me.id, "shift_new", site_id=site.id, day=MON.isoformat(), shift="day")
    db.session.commit()
    # Now: four hours before Monday's day shift (inside the 12-hour cut-off).
    monday_start, _end = site.shift_window(MON, "day")
    set_clock(monday_start - timedelta(hours=4))
    user_id, volunteer_id = me.id, mine.id
    published_before = sorted(
        (a.volunteer_id, a.day)
        for a in db.session.scalars(select(Assignment).where(Assignment.roster_id == v1.id))
    )

    client = any_db_app.test_client()
    login(client, me)
    response = client.post("/me/delete", data={"password": PASSWORD})
    assert response.status_code == 302
    db.session.expire_all()

    # Anonymised, login impossible, the number free again.
    user = db.session.get(User, user_id)
    assert user is not None
    assert user.name == f"Deleted volunteer #{user_id}"
    assert user.phone == f"deleted-{user_id}"
    assert not user.active
    assert not user.check_password(PASSWORD)
    assert client.post("/login", data={"phone": PHONE, "password": PASSWORD}).status_code == 422
    volunteer = db.session.get(Volunteer, volunteer_id)
    assert volunteer is not None
    assert (
        volunteer.emergency_name,
        volunteer.emergency_phone,
        volunteer.partner_phone,
        volunteer.calendar_token,
    ) == (None, None, None, None)
    for model in (VolunteerSkill, Availability, DayOff):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0
    assert db.session.scalar(select(func.count()).where(Notification.user_id == user_id)) == 0

    # History intact: the published version and the attendance keep their rows.
    assert (
        sorted(
            (a.volunteer_id, a.day)
            for a in db.session.scalars(select(Assignment).where(Assignment.roster_id == v1.id))
        )
        == published_before
    )
    assert db.session.scalars(select(Attendance)).one().volunteer_id == volunteer_id
    assert lookups.latest_published(period.id).id == v1.id  # type: ignore[union-attr]

    # Upcoming shifts went through the cancel path; the one already served did not.
    answers = {
        (r.day, r.shift): (r.status, r.reason)
        for r in db.session.scalars(
            select(ShiftResponse).where(ShiftResponse.volunteer_id == volunteer_id)
        )
    }
    left = "Deleted their account"
    assert answers == {
        (SUN, "night"): ("cancelled", left),  # their own words replaced
        (MON, "day"): ("cancelled", left),
        (TUE, "day"): ("cancelled", left),
    }
    holes = my_shifts.cancelled_posts(period)
    assert [(h.assignment.day, h.urgent) for h in holes] == [(MON, True), (TUE, False)]
    # Off every draft post not started, and the draft-only post is unfilled again.
    draft = current_draft(period.id)
    assert draft is not None
    assert sorted(
        a.day
        for a in db.session.scalars(
            select(Assignment).where(
                Assignment.roster_id == draft.id, Assignment.volunteer_id == volunteer_id
            )
        )
    ) == [SUN]
    assert db.session.scalars(
        select(UnfilledPost.missing).where(
            UnfilledPost.roster_id == draft.id, UnfilledPost.day == WED
        )
    ).all() == [1]

    # The coordinator and the lead are told, under the anonymous name; Monday is urgent.
    for recipient in (coordinator.id, lead.id):
        told = {
            n.payload["day"]: n.payload
            for n in db.session.scalars(
                select(Notification).where(
                    Notification.user_id == recipient,
                    Notification.kind == my_shifts.VOLUNTEER_CANCELLED,
                )
            )
            if n.payload["day"] != SUN.isoformat()
        }
        assert sorted(told) == [MON.isoformat(), TUE.isoformat()]
        assert told[MON.isoformat()].get("late") is True
        assert "late" not in told[TUE.isoformat()]
        assert {p["volunteer_name"] for p in told.values()} == {user.name}
    # Nothing anywhere still carries their name or their words.
    for note in db.session.scalars(select(Notification)):
        assert "郑" not in str(note.payload), note.payload
    inbox = any_db_app.test_client()
    login(inbox, lead)
    page = inbox.get("/me/inbox", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert page.count("Urgent, within the cancel cut-off:") == 1
    assert f"Deleted volunteer #{user_id} cancelled their shift" in page
    assert "郑" not in page
    # The repair page flags the hole inside the cut-off.
    staff = any_db_app.test_client()
    login(staff, coordinator)
    repair = staff.get(f"/coordinator/periods/{period.id}/roster/repair").get_data(as_text=True)
    assert repair.count('<strong class="coord-tag warn">Urgent</strong>') == 1


def test_the_privacy_notice_says_exactly_what_deleting_does(any_db_app: Flask) -> None:
    client = any_db_app.test_client()
    hours = any_db_app.config["CANCEL_CUTOFF_HOURS"]
    zh = client.get("/privacy", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    for words in (
        "已注销志愿者 #N",
        "已注销账号",
        f"{hours} 小时内开始的班次会被标记为紧急",
        "协调员和该班次的点位长会收到通知",
        "已发布的排班、签到记录和服务时长以该匿名名称保留",
        "您将无法再登录",
    ):
        assert words in zh, words
    en = client.get("/privacy", headers={"Accept-Language": "en"}).get_data(as_text=True)
    for words in (
        "Deleted volunteer #N",
        f"starting within {hours} hours is flagged as urgent",
        "the coordinators and the shift's lead are told",
        "Published rosters, attendance records and service hours keep the shifts",
        "you can no longer log in",
    ):
        assert words in en, words
