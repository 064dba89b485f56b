"""A coordinator marks a volunteer unavailable (a drop-out reported by phone): their upcoming
published shifts in the range are cancelled (no volunteer cutoff), freed in the draft, the
shift's lead and the other coordinators are told, and the holes show on the roster page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import (
    Assignment,
    Notification,
    ShiftResponse,
    Site,
    User,
)
from scheduler.services import my_shifts
from tests.fixtures.auth import login
from tests.fixtures.rosters import PublishedRoster, RosterRow, publish_roster

MON = date(2026, 12, 7)
THU = MON + timedelta(days=3)
LATER = MON + timedelta(days=10)
# Four hours before MON's day shift (08:00 Asia/Shanghai = 00:00 UTC): inside the volunteer's
# 12-hour cutoff, but a coordinator may still record a drop-out.
NOW = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(my_shifts, "utcnow", lambda: NOW)


@pytest.fixture
def world(
    app: Flask,
    make_site: Callable[..., Site],
    make_volunteer: Callable[..., User],
    make_user: Callable[..., User],
    coordinator: User,
) -> PublishedRoster:
    site = make_site(name="西站卡口")
    me = make_volunteer(name="电话请假人", phone="13900000001")
    lead = make_volunteer(name="点位长乙", phone="13900000002")
    mate = make_volunteer(name="队友丙", phone="13900000003")
    other_coordinator = make_user("coordinator", name="协调员二", phone="13900000009")
    rows: list[RosterRow] = [
        (site, MON, "day", "site_lead", lead),
        (site, MON, "day", "code_checker", me),
        (site, MON, "day", "code_checker", mate),
        (site, THU, "day", "code_checker", me),
        (site, LATER, "day", "code_checker", me),  # outside the range below
    ]
    people = {
        "me": me,
        "lead": lead,
        "mate": mate,
        "coordinator": coordinator,
        "other_coordinator": other_coordinator,
    }
    return publish_roster({"site": site}, people, rows, draft=rows, published_at=NOW)


@pytest.fixture
def staff(app: Flask, world: PublishedRoster) -> FlaskClient:
    """The coordinator, logged in."""
    client = app.test_client()
    login(client, world["coordinator"])
    return client


def unavailable_url(world: PublishedRoster) -> str:
    return f"/coordinator/volunteers/{world.vid('me')}/unavailable"


def snapshot(roster_id: int) -> set[tuple[date, int]]:
    db.session.expire_all()
    return {
        (a.day, a.volunteer_id)
        for a in db.session.scalars(select(Assignment).where(Assignment.roster_id == roster_id))
    }


def cancellations() -> list[tuple[int, date, str, str | None, str]]:
    db.session.expire_all()
    return [
        (r.volunteer_id, r.day, r.status, r.reason, r.source)
        for r in db.session.scalars(select(ShiftResponse).order_by(ShiftResponse.day))
    ]


def test_volunteer_page_offers_the_form(world: PublishedRoster, staff: FlaskClient) -> None:
    page = staff.get(f"/coordinator/volunteers/{world['me'].volunteer.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="volunteer-unavailable"' in html
    assert f'action="{unavailable_url(world)}"' in html
    for name in ("first_day", "last_day", "reason"):
        assert f'name="{name}"' in html


def test_marking_unavailable_cancels_the_shifts_in_range_and_shows_the_holes(
    world: PublishedRoster, staff: FlaskClient
) -> None:
    me_id = world["me"].volunteer.id
    published_before = snapshot(world.published.id)
    response = staff.post(
        unavailable_url(world),
        data={
            "first_day": MON.isoformat(),
            "last_day": THU.isoformat(),
            "reason": "电话告知：发烧",
        },
    )
    assert response.status_code == 302
    assert response.location.endswith(f"/coordinator/volunteers/{me_id}")
    page = staff.get(response.location).get_data(as_text=True)
    assert "Marked unavailable: 2 shifts cancelled. Repair the roster to fill them." in page

    # Both shifts in the range (even MON's, inside the volunteer's cutoff) are cancelled.
    assert cancellations() == [
        (me_id, MON, "cancelled", "电话告知：发烧", "coordinator"),
        (me_id, THU, "cancelled", "电话告知：发烧", "coordinator"),
    ]
    # Freed in the draft only; the published version and the later shift stay.
    assert snapshot(world.draft.id) == published_before - {(MON, me_id), (THU, me_id)}
    assert snapshot(world.published.id) == published_before

    # The lead of MON's shift and the other coordinator are told; the one who typed it is not.
    notes = db.session.scalars(select(Notification).order_by(Notification.id)).all()
    told = {(n.user_id, n.payload["day"]) for n in notes}
    assert told == {
        (world["lead"].id, MON.isoformat()),
        (world["other_coordinator"].id, MON.isoformat()),
        (world["other_coordinator"].id, THU.isoformat()),
    }
    assert {n.kind for n in notes} == {"volunteer_cancelled"}
    assert {n.payload["source"] for n in notes} == {"coordinator"}

    # The holes show on the roster page with the Repair action.
    roster_page = staff.get(f"/coordinator/periods/{world.period.id}/roster")
    html = roster_page.get_data(as_text=True)
    assert "Cancelled by volunteers (2)" in html
    assert "电话告知：发烧" in html
    assert 'id="roster-repair-form"' in html

    # Doing it again finds nothing left to cancel and changes nothing.
    again = staff.post(
        unavailable_url(world),
        data={"first_day": MON.isoformat(), "last_day": THU.isoformat(), "reason": "再次"},
    )
    assert again.status_code == 302
    page = staff.get(again.location).get_data(as_text=True)
    assert "no upcoming published shift left to cancel" in page
    assert [c[3] for c in cancellations()] == ["电话告知：发烧", "电话告知：发烧"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"first_day": THU.isoformat(), "last_day": MON.isoformat(), "reason": "<script>x"},
            "The last day cannot be before the first day.",
        ),
        (
            {"first_day": MON.isoformat(), "last_day": "2027-06-30", "reason": "长假"},
            "At most 92 days at a time.",
        ),
        ({"first_day": "not-a-date", "last_day": THU.isoformat(), "reason": "病"}, None),
        ({"first_day": MON.isoformat(), "last_day": THU.isoformat(), "reason": "  "}, None),
        ({"first_day": MON.isoformat(), "last_day": THU.isoformat(), "reason": "长" * 201}, None),
    ],
)
def test_bad_input_rerenders_the_page_and_changes_nothing(
    world: PublishedRoster, data: dict[str, str], message: str | None, staff: FlaskClient
) -> None:
    draft_before = snapshot(world.draft.id)
    response = staff.post(unavailable_url(world), data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="volunteer-unavailable"' in html
    assert 'aria-invalid="true"' in html
    if message:
        assert message in html
    assert "<script>x" not in html
    assert cancellations() == []
    assert snapshot(world.draft.id) == draft_before
    assert db.session.scalars(select(Notification)).all() == []


def test_other_roles_cannot_mark_anyone_unavailable(
    app: Flask, world: PublishedRoster, make_user: Callable[..., User], staff: FlaskClient
) -> None:
    data = {"first_day": MON.isoformat(), "last_day": THU.isoformat(), "reason": "x"}
    anonymous = app.test_client()
    response = anonymous.post(unavailable_url(world), data=data)
    assert response.status_code == 302
    assert "/login" in response.location
    for user in (world["me"], world["mate"], make_user("site_lead", phone="13900000010")):
        client: FlaskClient = app.test_client()
        login(client, user)
        assert client.post(unavailable_url(world), data=data).status_code == 403
    assert staff.post("/coordinator/volunteers/999999/unavailable", data=data).status_code == (404)
    assert cancellations() == []
