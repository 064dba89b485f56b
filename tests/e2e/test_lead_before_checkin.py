"""A site lead on a phone the evening before their shift: the shift card's button says what it
opens (the team's attendance, not signing oneself in), and the check-in page shows no mark
buttons before check-in opens, only the time it does (tomorrow's day shift: 06:00, two hours
before 08:00). The app's clock stands at 2026-11-22 20:00 in Asia/Shanghai."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.test_site_lead_checkin import TOMORROW, log_in, seed_roster
from tests.fixtures.live_server import LiveServer

SHOTS = "/tmp/shots-h10c"


def test_no_mark_buttons_before_check_in_opens(live_server: LiveServer, phone: Page) -> None:
    ids = seed_roster(live_server)
    page = phone
    page.set_viewport_size({"width": 360, "height": 740})
    log_in(page, live_server, "13800138001")  # the lead

    page.goto(f"{live_server.url}/me")
    card_button = page.get_by_role("button", name="本班次到岗登记")
    expect(card_button).to_have_count(2)  # tonight's shift and tomorrow's
    expect(page.get_by_text("为本班次签到")).to_have_count(0)
    page.screenshot(path=f"{SHOTS}/lead-me-360.png", full_page=True)

    page.goto(f"{live_server.url}/checkin/sites/{ids['site']}/{TOMORROW.isoformat()}")
    day = page.locator("#shift-day")
    expect(day.locator("#shift-day-opens")).to_have_text(
        "到岗登记于 06:00 开放（班次开始前 2 小时）。"
    )
    expect(day.locator("form.ci-marks")).to_have_count(0)
    expect(day.locator("form.ci-marks button")).to_have_count(0)
    # The lead still sees whom they will lead, and can call them.
    expect(day.locator(".ci-person")).to_have_count(2)
    expect(day.locator("a.ci-call")).to_have_count(1)
    page.screenshot(path=f"{SHOTS}/lead-checkin-before-open-360.png", full_page=True)

    # Tonight's shift is open: the buttons are there and no "opens at" line.
    page.goto(f"{live_server.url}/checkin/sites/{ids['site']}/2026-11-22")
    evening = page.locator("#shift-evening")
    expect(evening.locator("form.ci-marks")).to_have_count(2)
    expect(evening.locator(".ci-opens")).to_have_count(0)
