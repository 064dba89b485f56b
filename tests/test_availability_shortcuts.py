"""The 'whole day' and 'whole week' buttons follow single taps (walkthrough, session 5, item 1):
a tap's reply carries both buttons out of band when it changed the tapped day's state, their
pressed state computed by the server from the tap's own query (services.availability.Tap), so
tapping the last missing span of a day presses 'whole day' without a reload, and taking one
back releases it. On SQLite and
PostgreSQL (the query joins the week's cells into a string, dialect by dialect)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from flask import Flask
from flask.testing import FlaskClient

from scheduler.models import PlanningPeriod, Site, User
from tests.fixtures.auth import login

MON, TUE = date(2026, 12, 7), date(2026, 12, 8)
HTMX = {"HX-Request": "true"}


def pressed(html: str, button_id: str) -> str | None:
    """The aria-pressed of an out-of-band button of a tap's reply (None when absent)."""
    for tag in re.findall(r"<button\b[^>]*>", html):
        if f'id="{button_id}"' in tag and 'hx-swap-oob="true"' in tag:
            match = re.search(r'aria-pressed="(\w+)"', tag)
            return match.group(1) if match else None
    return None


def tap(client: FlaskClient, day: date, hour: int, period: PlanningPeriod) -> str:
    response = client.post(
        "/me/availability/cell",
        data={"cell": f"{day.isoformat()} {hour:02d}", "period": period.id},
        headers=HTMX,
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_taps_press_and_release_whole_day_and_whole_week(
    any_db_app: Flask,
    make_volunteer: Callable[..., User],
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
) -> None:
    # A two-day period: its week is Monday and Tuesday; the site runs 00, 08 and 16.
    period = make_period(start=MON, end=TUE, sites=[make_site()])
    user = make_volunteer(accepts_nights=True)
    client = any_db_app.test_client()
    login(client, user)
    monday, tuesday = f"whole-day-{MON.isoformat()}", f"whole-day-{TUE.isoformat()}"

    html = tap(client, MON, 0, period)
    assert pressed(html, monday) is None  # still not whole: the buttons are not sent
    assert pressed(html, "whole-week") is None
    tap(client, MON, 8, period)
    html = tap(client, MON, 16, period)
    assert pressed(html, monday) == "true"  # the day's last span: pressed at once
    assert pressed(html, "whole-week") == "false"  # Tuesday is still empty
    assert pressed(html, tuesday) is None  # only the tapped day's button is sent

    tap(client, TUE, 0, period)
    tap(client, TUE, 8, period)
    html = tap(client, TUE, 16, period)
    assert pressed(html, tuesday) == "true"
    assert pressed(html, "whole-week") == "true"

    html = tap(client, MON, 8, period)  # one taken back releases both
    assert pressed(html, monday) == "false"
    assert pressed(html, "whole-week") == "false"

    # The page says the same as the replies did.
    page = client.get(f"/me/availability?period={period.id}&week={MON.isoformat()}").get_data(
        as_text=True
    )
    assert re.search(rf'id="{monday}"[^>]*aria-pressed="false"', page)
    assert re.search(rf'id="{tuesday}"[^>]*aria-pressed="true"', page)
    assert re.search(r'id="whole-week"[^>]*aria-pressed="false"', page)


def test_a_day_off_does_not_hold_the_whole_week_back(
    app: Flask,
    client: FlaskClient,
    make_volunteer: Callable[..., User],
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
) -> None:
    period = make_period(start=MON, end=TUE, sites=[make_site()])
    user = make_volunteer(accepts_nights=True)
    login(client, user)
    client.post("/me/availability/day-off", data={"day": TUE.isoformat()}, headers=HTMX)
    tap(client, MON, 0, period)
    tap(client, MON, 8, period)
    html = tap(client, MON, 16, period)
    assert pressed(html, "whole-week") == "true"


def test_a_tap_on_a_day_off_ends_it_and_the_grid_comes_back(
    app: Flask,
    client: FlaskClient,
    make_volunteer: Callable[..., User],
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
) -> None:
    """Ending a day off changes the whole row: the reply is the grid, whose buttons are
    rendered from the stored rows as before."""
    period = make_period(start=MON, end=TUE, sites=[make_site()])
    user = make_volunteer(accepts_nights=True)
    login(client, user)
    client.post("/me/availability/day-off", data={"day": MON.isoformat()}, headers=HTMX)
    html = tap(client, MON, 8, period)
    assert html.lstrip().startswith('<form id="availability-grid"')
    assert re.search(rf'id="whole-day-{MON.isoformat()}"[^>]*aria-pressed="false"', html)
