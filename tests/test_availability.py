"""The availability grid: taps with and without htmx, shortcuts, days off, the open-period
rule, ownership, CSRF."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import Availability, DayOff, PlanningPeriod, User
from scheduler.services import availability as avail
from tests.fixtures.auth import PASSWORD
from tests.test_auth import (
    PHONE,
    csrf_token_from,
)

HTMX = {"HX-Request": "true", "Accept-Language": "en"}
MON, TUE, WED = date(2026, 12, 7), date(2026, 12, 8), date(2026, 12, 9)


def cells_of(user: User) -> set[tuple[date, str]]:
    """The volunteer's cells by date and kind (these tests use the default pattern)."""
    rows = db.session.execute(
        select(Availability.day, Availability.start_hour).where(
            Availability.volunteer_id == user.volunteer.id
        )
    )
    return {(d, avail.kind_of_start(h)) for d, h in rows}


def days_off_of(user: User) -> set[date]:
    return set(
        db.session.scalars(select(DayOff.day).where(DayOff.volunteer_id == user.volunteer.id))
    )


def total_rows() -> int:
    return (db.session.scalar(select(func.count()).select_from(Availability)) or 0) + (
        db.session.scalar(select(func.count()).select_from(DayOff)) or 0
    )


@pytest.fixture
def period(
    make_period: Callable[..., PlanningPeriod], make_site: Callable[..., Any]
) -> PlanningPeriod:
    """Open 2026-12-07 (Mon) to 2026-12-20 (Sun): two full weeks."""
    return make_period(start=MON, end=date(2026, 12, 20), sites=[make_site()])


@pytest.fixture
def volunteer(make_volunteer: Callable[..., User]) -> User:
    # Serves nights: 'whole day' and 'whole week' include them (tests/test_availability_nights.py
    # has one who does not).
    return make_volunteer(phone=PHONE, name="林志愿", accepts_nights=True)


@pytest.fixture
def me(login_as: Callable[..., FlaskClient], volunteer: User) -> FlaskClient:
    return login_as(volunteer)


def tap(client: FlaskClient, day: date, shift: str, htmx: bool = True, **extra: str) -> Any:
    """Tap the cell of `shift` (a kind: its default-pattern span) on `day`."""
    cell = f"{day.isoformat()} {avail.default_start(shift):02d}"
    return client.post(
        "/me/availability/cell",
        data={"cell": cell, "week": "2026-12-07", **extra},
        headers=HTMX if htmx else {"Accept-Language": "en"},
    )


# --- the grid page --------------------------------------------------------------------------


def test_grid_shows_week_of_open_period_with_accessible_cells(
    me: FlaskClient, period: PlanningPeriod, volunteer: User
) -> None:
    db.session.add(Availability(volunteer_id=volunteer.volunteer.id, day=TUE, start_hour=0))
    db.session.commit()
    response = me.get(
        "/me/availability", query_string={"week": "2026-12-07"}, headers={"Accept-Language": "en"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert len(re.findall(r'class="avail-cell[ "]', html)) == 21  # 7 days x 3 shifts
    assert "00:00–08:00" in html
    assert "08:00–16:00" in html
    assert "16:00–24:00" in html
    pressed = re.search(r'<button[^>]*value="2026-12-08 00"[^>]*>', html, re.S).group(0)
    assert 'aria-pressed="true"' in pressed
    assert 'aria-label="Dec 8 Night 00:00–08:00 available"' in pressed
    other = re.search(r'<button[^>]*value="2026-12-08 08"[^>]*>', html, re.S).group(0)
    assert 'aria-pressed="false"' in other
    assert 'hx-post="/me/availability/cell"' in pressed
    assert 'hx-swap="outerHTML"' in pressed
    # Works without JS: the cells are submit buttons of a form that carries the CSRF token.
    assert re.search(r'<form id="availability-grid"[^>]*method="post"', html)
    assert 'name="csrf_token"' in html
    assert "week=2026-12-14" in html  # next week link
    assert "week=2026-11-30" not in html  # no previous week before the period


def test_grid_labels_in_chinese(me: FlaskClient, period: PlanningPeriod) -> None:
    html = me.get("/me/availability", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert 'aria-label="12月7日 ' in html
    assert "12月7日周一" in html


def test_grid_htmx_request_gets_only_the_fragment(me: FlaskClient, period: PlanningPeriod) -> None:
    response = me.get("/me/availability", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith("<form")
    assert "<html" not in html
    assert "HX-Request" in response.headers.get("Vary", "")


def test_grid_week_navigation_and_clamping(me: FlaskClient, period: PlanningPeriod) -> None:
    second = me.get("/me/availability", query_string={"week": "2026-12-16"}).get_data(as_text=True)
    assert 'value="2026-12-14 00"' in second
    assert 'value="2026-12-07 00"' not in second
    assert "week=2026-12-07" in second
    assert "week=2026-12-21" not in second
    for bad in ("2027-05-01", "yesterday", ""):
        html = me.get("/me/availability", query_string={"week": bad}).get_data(as_text=True)
        assert 'value="2026-12-07 00"' in html


def test_grid_only_shows_dates_inside_the_period(
    me: FlaskClient, make_period: Callable[..., PlanningPeriod]
) -> None:
    make_period(start=WED, end=date(2026, 12, 11))
    html = me.get("/me/availability").get_data(as_text=True)
    assert len(re.findall(r'class="avail-cell[ "]', html)) == 9
    assert "2026-12-08" not in html.split('id="availability-grid"')[1]


def test_period_selector_lists_open_periods_only(
    me: FlaskClient, make_period: Callable[..., PlanningPeriod]
) -> None:
    first = make_period(start=MON, end=date(2026, 12, 13), name="一期")
    second = make_period(start=date(2027, 1, 4), end=date(2027, 1, 10), name="二期")
    closed = make_period(start=date(2027, 2, 1), end=date(2027, 2, 7), name="已关闭", is_open=False)
    html = me.get("/me/availability", query_string={"period": second.id}).get_data(as_text=True)
    assert "一期" in html
    assert "二期" in html
    assert "已关闭" not in html
    assert 'value="2027-01-04 00"' in html
    fallback = me.get("/me/availability", query_string={"period": closed.id}).get_data(as_text=True)
    assert 'value="2026-12-07 00"' in fallback
    assert first.name in fallback


def test_no_open_period_says_so(
    me: FlaskClient, make_period: Callable[..., PlanningPeriod]
) -> None:
    make_period(is_open=False)
    html = me.get("/me/availability", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "No planning period is open at the moment." in html
    assert "avail-cell" not in html


# --- tapping cells --------------------------------------------------------------------------


def test_htmx_tap_toggles_one_cell_and_returns_it(
    me: FlaskClient, period: PlanningPeriod, volunteer: User
) -> None:
    on = tap(me, TUE, "evening")
    html = on.get_data(as_text=True)
    assert on.status_code == 200
    assert html.lstrip().startswith("<button")
    assert "<html" not in html
    assert 'aria-pressed="true"' in html
    assert 'value="2026-12-08 16"' in html
    assert cells_of(volunteer) == {(TUE, "evening")}
    off = tap(me, TUE, "evening")
    assert 'aria-pressed="false"' in off.get_data(as_text=True)
    assert cells_of(volunteer) == set()


def test_plain_tap_redirects_back_to_the_same_week(
    me: FlaskClient, period: PlanningPeriod, volunteer: User
) -> None:
    response = tap(
        me, date(2026, 12, 15), "day", htmx=False, week="2026-12-14", period=str(period.id)
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/me/availability?period={period.id}&week=2026-12-14"
    assert cells_of(volunteer) == {(date(2026, 12, 15), "day")}
    page = me.get(response.headers["Location"]).get_data(as_text=True)
    cell = re.search(r'<button[^>]*value="2026-12-15 08"[^>]*>', page, re.S).group(0)
    assert 'aria-pressed="true"' in cell


@pytest.mark.parametrize("cell", ["2026-12-21 00", "2026-12-06 08", "2027-01-01 16"])
def test_tap_outside_open_period_is_refused_and_writes_nothing(
    me: FlaskClient, period: PlanningPeriod, cell: str
) -> None:
    response = me.post("/me/availability/cell", data={"cell": cell}, headers=HTMX)
    assert response.status_code == 400
    assert "not in an open planning period" in response.get_data(as_text=True)
    assert response.headers["HX-Retarget"] == "#availability-error"
    assert total_rows() == 0


def test_tap_in_closed_period_is_refused(
    me: FlaskClient, make_period: Callable[..., PlanningPeriod]
) -> None:
    make_period(start=MON, end=date(2026, 12, 20), is_open=False)
    for path, data in (
        ("/me/availability/cell", {"cell": "2026-12-08 00"}),
        ("/me/availability/day", {"day": "2026-12-08"}),
        ("/me/availability/day-off", {"day": "2026-12-08"}),
    ):
        response = me.post(path, data=data, headers=HTMX)
        assert response.status_code == 400, path
    assert total_rows() == 0


def test_plain_tap_outside_period_flashes_and_redirects(
    me: FlaskClient, period: PlanningPeriod
) -> None:
    response = tap(me, date(2027, 3, 1), "night", htmx=False)
    assert response.status_code == 302
    page = me.get(response.headers["Location"], headers={"Accept-Language": "en"})
    assert "not in an open planning period" in page.get_data(as_text=True)
    assert total_rows() == 0


@pytest.mark.parametrize(
    "cell",
    ["2026-12-08 brunch", "2026-12-08", "2026-13-40 00", "2026-12-08 24", "2026-12-08 ８", ""],
)
def test_malformed_cell_is_refused(me: FlaskClient, period: PlanningPeriod, cell: str) -> None:
    response = me.post("/me/availability/cell", data={"cell": cell}, headers=HTMX)
    assert response.status_code == 400
    assert "Unknown shift." in response.get_data(as_text=True)
    assert total_rows() == 0


def test_a_volunteer_cannot_change_another_volunteers_cells(
    me: FlaskClient, period: PlanningPeriod, volunteer: User, make_volunteer: Callable[..., User]
) -> None:
    other = make_volunteer(name="别人")
    db.session.add(Availability(volunteer_id=other.volunteer.id, day=TUE, start_hour=0))
    db.session.commit()
    for field in ("volunteer_id", "volunteer", "user_id"):
        tap(me, TUE, "night", **{field: str(other.volunteer.id)})
    # Three taps on "my" Tuesday night: on, off, on. The other volunteer's row is untouched.
    assert cells_of(volunteer) == {(TUE, "night")}
    assert cells_of(other) == {(TUE, "night")}
    me.post("/me/availability/day-off", data={"day": "2026-12-08", "volunteer_id": str(other.id)})
    assert days_off_of(other) == set()
    assert cells_of(other) == {(TUE, "night")}


def test_anonymous_and_staff_cannot_post_cells(
    client: FlaskClient,
    period: PlanningPeriod,
    coordinator: User,
    login_as: Callable[..., FlaskClient],
) -> None:
    assert tap(client, TUE, "night").status_code == 302
    staff = login_as(coordinator)
    response = tap(staff, TUE, "night")
    assert response.status_code == 302
    assert response.headers["Location"] == "/coordinator/"
    assert total_rows() == 0


# --- shortcuts and days off -----------------------------------------------------------------


def test_whole_day_sets_all_then_clears(
    me: FlaskClient, period: PlanningPeriod, volunteer: User
) -> None:
    tap(me, TUE, "day")
    response = me.post(
        "/me/availability/day", data={"day": "2026-12-08", "week": "2026-12-07"}, headers=HTMX
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<form id="availability-grid"')
    assert cells_of(volunteer) == {(TUE, "night"), (TUE, "day"), (TUE, "evening")}
    me.post("/me/availability/day", data={"day": "2026-12-08"}, headers=HTMX)
    assert cells_of(volunteer) == set()


def test_whole_week_skips_days_off_and_toggles(
    me: FlaskClient, period: PlanningPeriod, volunteer: User
) -> None:
    me.post("/me/availability/day-off", data={"day": "2026-12-13"}, headers=HTMX)
    response = me.post(
        "/me/availability/week",
        data={"week": "2026-12-07", "period": str(period.id)},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert 'aria-pressed="true"' in response.get_data(as_text=True)
    cells = cells_of(volunteer)
    assert len(cells) == 18
    assert all(d <= date(2026, 12, 12) for d, _ in cells)
    assert days_off_of(volunteer) == {date(2026, 12, 13)}
    me.post("/me/availability/week", data={"week": "2026-12-07", "period": str(period.id)})
    assert cells_of(volunteer) == set()
    assert days_off_of(volunteer) == {date(2026, 12, 13)}


def test_whole_week_needs_an_open_period(
    me: FlaskClient, period: PlanningPeriod, make_period: Callable[..., PlanningPeriod]
) -> None:
    closed = make_period(start=date(2027, 1, 4), end=date(2027, 1, 10), is_open=False)
    for data in (
        {"week": "2027-01-04", "period": str(closed.id)},
        {"week": "2026-12-07"},
        {"week": "2027-06-07", "period": str(period.id)},
    ):
        assert me.post("/me/availability/week", data=data, headers=HTMX).status_code == 400
    assert total_rows() == 0


def test_day_off_clears_cells_and_a_tap_ends_it(
    me: FlaskClient, period: PlanningPeriod, volunteer: User
) -> None:
    tap(me, WED, "night")
    tap(me, WED, "day")
    response = me.post(
        "/me/availability/day-off", data={"day": "2026-12-09", "week": "2026-12-07"}, headers=HTMX
    )
    assert response.status_code == 200
    assert days_off_of(volunteer) == {WED}
    assert cells_of(volunteer) == set()
    assert "cannot serve" in response.get_data(as_text=True)

    tapped = tap(me, WED, "evening")
    # The row changes as a whole, so htmx is told to swap the grid instead of the cell.
    assert tapped.headers["HX-Retarget"] == "#availability-grid"
    assert tapped.get_data(as_text=True).lstrip().startswith('<form id="availability-grid"')
    assert days_off_of(volunteer) == set()
    assert cells_of(volunteer) == {(WED, "evening")}


def test_day_off_button_toggles_back(
    me: FlaskClient, period: PlanningPeriod, volunteer: User
) -> None:
    plain = me.post("/me/availability/day-off", data={"day": "2026-12-09", "week": "2026-12-07"})
    assert plain.status_code == 302
    assert days_off_of(volunteer) == {WED}
    me.post("/me/availability/day-off", data={"day": "2026-12-09"})
    assert days_off_of(volunteer) == set()


def test_whole_day_ends_a_day_off(me: FlaskClient, period: PlanningPeriod, volunteer: User) -> None:
    me.post("/me/availability/day-off", data={"day": "2026-12-09"})
    me.post("/me/availability/day", data={"day": "2026-12-09"})
    assert days_off_of(volunteer) == set()
    assert len(cells_of(volunteer)) == 3


# --- services directly ----------------------------------------------------------------------


def test_summaries_count_per_open_period(
    app: Flask, period: PlanningPeriod, volunteer: User, make_period: Callable[..., PlanningPeriod]
) -> None:
    make_period(start=date(2027, 1, 4), end=date(2027, 1, 10), name="二期")
    v = volunteer.volunteer
    avail.toggle_day(v, period, MON)
    avail.toggle_cell(v, TUE, 0)
    avail.toggle_day_off(v, WED)
    avail.toggle_cell(v, date(2027, 1, 5), 8)
    first, second = avail.summaries(v)
    assert (first.shifts, first.nights, first.days, first.days_off) == (4, 2, 2, 1)
    assert (second.shifts, second.nights, second.days, second.days_off) == (1, 0, 1, 0)


@pytest.mark.parametrize(
    ("first_hour", "expected"),
    [
        (0, ["00:00–08:00", "08:00–16:00", "16:00–24:00"]),
        (7, ["07:00–15:00", "15:00–23:00", "23:00–07:00 (+1)"]),
    ],
)
def test_shift_hours(first_hour: int, expected: list[str]) -> None:
    assert [avail.shift_hours(k, first_hour) for k in ("night", "day", "evening")] == expected


# --- CSRF -----------------------------------------------------------------------------------


def test_availability_toggle_needs_csrf_token_header_or_field(
    app_factory: Callable[..., Flask],
    make_volunteer: Callable[..., User],
    make_period: Callable[..., PlanningPeriod],
) -> None:
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        user = make_volunteer(phone=PHONE)
        make_period(start=MON, end=date(2026, 12, 20))
        client = app.test_client()
        token = csrf_token_from(client.get("/login").get_data(as_text=True))
        client.post("/login", data={"phone": PHONE, "password": PASSWORD, "csrf_token": token})

        refused = client.post(
            "/me/availability/cell",
            data={"cell": "2026-12-08 00"},
            headers={"HX-Request": "true"},
        )
        assert refused.status_code == 400
        assert cells_of(user) == set()

        page = client.get("/me/availability").get_data(as_text=True)
        header_token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
        htmx = client.post(
            "/me/availability/cell",
            data={"cell": "2026-12-08 00"},
            headers={"HX-Request": "true", "X-CSRFToken": header_token},
        )
        assert htmx.status_code == 200
        assert 'aria-pressed="true"' in htmx.get_data(as_text=True)
        plain = client.post(
            "/me/availability/cell",
            data={"cell": "2026-12-08 08", "csrf_token": csrf_token_from_grid(page)},
        )
        assert plain.status_code == 302
        assert cells_of(user) == {(TUE, "night"), (TUE, "day")}


def csrf_token_from_grid(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)
