"""An account an admin deactivates leaves every post that has not started, as a deleted one
does: each draft post reopens with a reason naming the volunteer (like a post given up while
a roster was being made), and each published one goes through the cancel path (the hole
shows for Repair, coordinators and the shift's lead are told). Posts already served stay.
Deleting an account now leaves the same reason trail. On SQLite and PostgreSQL
(walkthrough, h12fix item 4)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from flask import Flask
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import (
    Assignment,
    Notification,
    PlanningPeriod,
    ShiftResponse,
    Site,
    UnfilledPost,
    User,
)
from scheduler.models.base import set_clock
from scheduler.models.responses import FROM_COORDINATOR
from scheduler.services import my_shifts
from scheduler.services.lookups import current_draft
from tests.fixtures.auth import PASSWORD, login
from tests.fixtures.rosters import make_roster

SUN, MON, TUE, WED = (date(2026, 12, 6) + timedelta(days=n) for n in range(4))


def world(
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
) -> tuple[Site, PlanningPeriod, User, User]:
    """Sunday to Wednesday, day shifts only; `me` checks codes beside the lead on Sunday to
    Tuesday (published) and on Wednesday in the draft only. Now: Sunday evening."""
    site = make_site(
        name="东卡口",
        demand={"site_lead": 1, "code_checker": 1},
        runs_night=False,
        runs_evening=False,
    )
    period = make_period(start=SUN, end=WED, sites=[site])
    me, lead = make_volunteer(name="郑停用"), make_volunteer(name="林点长")
    rows = [
        (site, day, "day", code, user)
        for day in (SUN, MON, TUE)
        for code, user in (("code_checker", me), ("site_lead", lead))
    ]
    make_roster(period, rows, version=1)
    make_roster(period, [*rows, (site, WED, "day", "code_checker", me)])  # the draft
    _start, sunday_end = site.shift_window(SUN, "day")
    set_clock(sunday_end + timedelta(hours=2))
    return site, period, me, lead


def draft_state(period: PlanningPeriod, volunteer_id: int) -> tuple[list[date], dict[date, list]]:  # type: ignore[type-arg]
    draft = current_draft(period.id)
    assert draft is not None
    kept = sorted(
        db.session.scalars(
            select(Assignment.day).where(
                Assignment.roster_id == draft.id, Assignment.volunteer_id == volunteer_id
            )
        )
    )
    reasons = {
        p.day: p.reasons
        for p in db.session.scalars(select(UnfilledPost).where(UnfilledPost.roster_id == draft.id))
    }
    return kept, reasons


def test_deactivating_an_account_frees_its_upcoming_posts(
    any_db_app: Flask,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
    make_user: Callable[..., User],
    coordinator: User,
) -> None:
    _site, period, me, lead = world(make_site, make_period, make_volunteer)
    admin = make_user("admin", name="管理员")
    assert me.volunteer is not None
    vid, user_id = me.volunteer.id, me.id

    client = any_db_app.test_client()
    login(client, admin)
    response = client.post(f"/admin/accounts/{user_id}/deactivate")
    assert response.status_code == 302
    db.session.expire_all()

    # The draft: off every post not started; each reopens naming them. Sunday's stays.
    kept, reasons = draft_state(period, vid)
    assert kept == [SUN]
    gone = [{"code": "account_deactivated", "people": [vid]}]
    assert reasons == {MON: gone, TUE: gone, WED: gone}
    # Published posts: cancelled for them, as a coordinator records a drop-out.
    answers = {
        r.day: (r.status, r.reason, r.source)
        for r in db.session.scalars(select(ShiftResponse).where(ShiftResponse.volunteer_id == vid))
    }
    told = ("cancelled", "Account deactivated by an admin", FROM_COORDINATOR)
    assert answers == {MON: told, TUE: told}
    assert [h.assignment.day for h in my_shifts.cancelled_posts(period)] == [MON, TUE]
    # The coordinator and the lead are told; the admin who did it is not.
    for user, expected in ((coordinator, 2), (lead, 2), (admin, 0)):
        notes = db.session.scalars(
            select(Notification).where(
                Notification.user_id == user.id,
                Notification.kind == my_shifts.VOLUNTEER_CANCELLED,
            )
        ).all()
        assert len(notes) == expected, user.name
    # The roster page says why each post is open again, in both languages.
    staff = any_db_app.test_client()
    login(staff, coordinator)
    url = f"/coordinator/periods/{period.id}/roster"
    zh = staff.get(url, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "郑停用：账号已被停用，此岗位重新空出。" in zh
    en = staff.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "郑停用: their account was deactivated; this post is open again." in en
    # Reactivating lets them log in again; the posts stay with whoever fills them.
    assert client.post(f"/admin/accounts/{user_id}/reactivate").status_code == 302
    assert draft_state(period, vid)[0] == [SUN]
    assert any_db_app.test_client().post(
        "/login", data={"phone": me.phone, "password": PASSWORD}
    ).status_code in (302, 303)


def test_deleting_an_account_leaves_the_same_reason_on_every_post(
    any_db_app: Flask,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
) -> None:
    _site, period, me, _lead = world(make_site, make_period, make_volunteer)
    assert me.volunteer is not None
    vid = me.volunteer.id
    client = any_db_app.test_client()
    login(client, me)
    assert client.post("/me/delete", data={"password": PASSWORD}).status_code == 302
    db.session.expire_all()
    kept, reasons = draft_state(period, vid)
    assert kept == [SUN]
    # The published posts too (the cancel path used to free them in the draft silently).
    left = [{"code": "left_muster", "people": [vid]}]
    assert reasons == {MON: left, TUE: left, WED: left}
