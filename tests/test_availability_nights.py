"""'Whole day' and 'whole week' respect a volunteer who does not serve nights (walkthrough,
session 5, item 2): Volunteer.accepts_nights is False, so the shortcuts turn on every span the
period runs but the nights (services.availability.bulk_starts, asked by the service itself, not
only by the page), and their buttons count as pressed without nights. A night cell can still be
tapped by hand, and 'whole week' then clears it with the rest."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Availability, PlanningPeriod, Site, User, Volunteer
from scheduler.services import availability as avail
from tests.fixtures.auth import login

MON = date(2026, 12, 7)
WEEK = [MON + timedelta(days=i) for i in range(7)]
HTMX = {"HX-Request": "true"}


def starts_of(volunteer: Volunteer) -> set[tuple[date, int]]:
    rows = db.session.execute(
        select(Availability.day, Availability.start_hour).where(
            Availability.volunteer_id == volunteer.id
        )
    )
    return {(d, h) for d, h in rows}


@pytest.fixture
def period(
    make_period: Callable[..., PlanningPeriod], make_site: Callable[..., Site]
) -> PlanningPeriod:
    # One site on the default pattern (00, 08, 16), one starting at 23:00 (23, 07, 15):
    # nights at 00 and 23.
    return make_period(sites=[make_site(), make_site(first_shift_hour=23)])


@pytest.mark.parametrize(
    ("nights", "expected"), [(False, [7, 8, 15, 16]), (True, [0, 7, 8, 15, 16, 23])]
)
def test_whole_week_in_the_service_respects_no_nights(
    app: Flask,
    period: PlanningPeriod,
    make_volunteer: Callable[..., User],
    nights: bool,
    expected: list[int],
) -> None:
    user = make_volunteer(accepts_nights=nights)
    volunteer = user.volunteer
    assert volunteer is not None
    assert avail.toggle_week(volunteer, period, MON) is True
    assert starts_of(volunteer) == {(d, h) for d in WEEK for h in expected}
    # The week now counts as whole: the next press clears it.
    assert avail.toggle_week(volunteer, period, MON) is False
    assert starts_of(volunteer) == set()


def test_whole_day_in_the_service_respects_no_nights(
    app: Flask, period: PlanningPeriod, make_volunteer: Callable[..., User]
) -> None:
    volunteer = make_volunteer().volunteer  # accepts_nights defaults to False
    assert volunteer is not None
    assert avail.toggle_day(volunteer, period, MON) is True
    assert starts_of(volunteer) == {(MON, h) for h in (7, 8, 15, 16)}


def test_a_night_tapped_by_hand_stays_until_the_week_is_cleared(
    app: Flask,
    client: FlaskClient,
    period: PlanningPeriod,
    make_volunteer: Callable[..., User],
) -> None:
    user = make_volunteer()
    volunteer = user.volunteer
    assert volunteer is not None
    login(client, user)
    client.post("/me/availability/cell", data={"cell": f"{MON.isoformat()} 00"}, headers=HTMX)
    week = client.post(
        "/me/availability/week",
        data={"week": MON.isoformat(), "period": period.id},
        headers=HTMX,
    ).get_data(as_text=True)
    assert starts_of(volunteer) == {(MON, 0)} | {(d, h) for d in WEEK for h in (7, 8, 15, 16)}
    # Pressed without nights, on the page and the day's button alike.
    assert re.search(r'id="whole-week"[^>]*aria-pressed="true"', week)
    tuesday = MON + timedelta(days=1)
    assert re.search(rf'id="whole-day-{tuesday.isoformat()}"[^>]*aria-pressed="true"', week)
    client.post(
        "/me/availability/week", data={"week": MON.isoformat(), "period": period.id}, headers=HTMX
    )
    assert starts_of(volunteer) == set()


def test_a_period_of_nights_only_refuses_the_shortcuts_in_words(
    app: Flask,
    client: FlaskClient,
    make_period: Callable[..., PlanningPeriod],
    make_site: Callable[..., Site],
    make_volunteer: Callable[..., User],
) -> None:
    site = make_site(runs_day=False, runs_evening=False)
    period = make_period(sites=[site])
    user = make_volunteer()
    assert user.volunteer is not None
    with pytest.raises(avail.AvailabilityError):
        avail.toggle_week(user.volunteer, period, MON)
    login(client, user)
    response = client.post(
        "/me/availability/day",
        data={"day": MON.isoformat(), "period": period.id},
        headers={**HTMX, "Accept-Language": "zh-CN"},
    )
    assert response.status_code == 400
    assert "夜班" in response.get_data(as_text=True)
    assert starts_of(user.volunteer) == set()


@pytest.mark.parametrize(("nights", "said"), [(False, True), (True, False)])
def test_the_page_says_the_shortcuts_leave_nights_out(
    app: Flask,
    client: FlaskClient,
    period: PlanningPeriod,
    make_volunteer: Callable[..., User],
    nights: bool,
    said: bool,
) -> None:
    login(client, make_volunteer(accepts_nights=nights))
    page = client.get("/me/availability", headers={"Accept-Language": "zh-CN"}).get_data(
        as_text=True
    )
    assert ("“全天”和“整周”不包括夜班" in page) is said
