"""A volunteer on a 390 px phone: registers through the form, opens the availability grid and
taps shifts; htmx swaps the cells, the database has the rows, and the page looks right."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from scheduler.extensions import db
from scheduler.models import Availability, PlanningPeriod, User
from scheduler.services.availability import default_start, kind_of_start
from tests.fixtures.live_server import LiveServer

pytestmark = pytest.mark.e2e


def cells_in_db(server: LiveServer) -> set[tuple[date, str]]:
    with server.app.app_context():
        rows = db.session.execute(select(Availability.day, Availability.start_hour)).all()
        db.session.remove()
    return {(d, kind_of_start(h)) for d, h in rows}


def test_register_and_tap_availability_on_a_phone(
    live_server: LiveServer, phone: Page, tmp_path: Path
) -> None:
    page = phone
    page.goto(f"{live_server.url}/register")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    page.fill("#name", "陈志愿")
    page.fill("#phone", "138 0013 8000")
    page.fill("#work_unit", "南通供电公司")
    page.select_option("#district", label="崇川区")
    page.check("#accepts_nights")
    page.fill("#password", "correct-horse-9")
    page.check("#consent")
    page.screenshot(path=str(tmp_path / "register.png"), full_page=True)
    page.locator("form button[type=submit]").last.tap()

    page.wait_for_url(f"{live_server.url}/me")
    expect(page.locator("h1")).to_have_text("陈志愿")
    with live_server.app.app_context():
        user = db.session.scalar(select(User).where(User.phone == "+8613800138000"))
        assert user is not None
        assert user.volunteer.accepts_nights
        db.session.remove()

    page.locator('a[href="/me/availability"]').tap()
    page.wait_for_url(f"{live_server.url}/me/availability")
    night = page.locator('button[value="2026-12-08 00"]')
    expect(night).to_have_attribute("aria-pressed", "false")
    # "12月8日 夜班 available" once the Chinese catalog translates the shift and the phrase.
    expect(night).to_have_attribute("aria-label", re.compile(r"^12月8日 \S+"))

    night.tap()
    expect(page.locator('button[value="2026-12-08 00"]')).to_have_attribute("aria-pressed", "true")
    page.locator('button[value="2026-12-09 08"]').tap()
    expect(page.locator('button[value="2026-12-09 08"]')).to_have_attribute("aria-pressed", "true")
    # A second tap takes the first one back.
    page.locator('button[value="2026-12-08 00"]').tap()
    expect(page.locator('button[value="2026-12-08 00"]')).to_have_attribute("aria-pressed", "false")
    # 'Whole day' swaps the grid: all three shifts of Friday are on.
    page.locator('#day-2026-12-11 button[formaction$="/availability/day"]').tap()
    for shift in ("night", "day", "evening"):
        hour = f"{default_start(shift):02d}"
        expect(page.locator(f'button[value="2026-12-11 {hour}"]')).to_have_attribute(
            "aria-pressed", "true"
        )
    # 'Cannot serve' on Saturday marks the day.
    page.locator('#day-2026-12-12 button[formaction$="/availability/day-off"]').tap()
    expect(page.locator("#day-2026-12-12")).to_have_class("avail-day is-off")

    assert cells_in_db(live_server) == {
        (date(2026, 12, 9), "day"),
        (date(2026, 12, 11), "night"),
        (date(2026, 12, 11), "day"),
        (date(2026, 12, 11), "evening"),
    }
    # Nothing sticks out of the phone's screen.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390

    shot = tmp_path / "availability.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000

    # The coordinator closes the period while the page is open: the next tap is refused with
    # a visible message (a 400 that htmx is told to swap in) and the cell stays as it was.
    with live_server.app.app_context():
        db.session.execute(update(PlanningPeriod).values(is_open=False))
        db.session.commit()
        db.session.remove()
    page.locator('button[value="2026-12-10 16"]').tap()
    error = page.locator("#availability-error")
    expect(error).to_have_attribute("role", "alert")
    expect(error).not_to_be_empty()
    expect(page.locator('button[value="2026-12-10 16"]')).to_have_attribute("aria-pressed", "false")
    page.screenshot(path=str(tmp_path / "closed.png"))
    assert (date(2026, 12, 10), "evening") not in cells_in_db(live_server)

    page.goto(f"{live_server.url}/me")
    page.screenshot(path=str(tmp_path / "me.png"), full_page=True)
    expect(page.locator("h1")).to_have_text("陈志愿")
