"""On a 360 x 740 phone: the header's language button reloads the page in the other
language, and what was typed stays in the form (static/js/keep-draft.js), before a submit and
after one the server sent back with a mistake; a password is never kept in storage. And the
availability grid's week counter follows each tap without a reload (walkthrough, h12fix
items 1 and 2)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from scheduler.extensions import db
from scheduler.models import Volunteer
from scheduler.services.accounts import create_account
from tests.e2e.test_site_lead_checkin import log_in
from tests.fixtures.browser import phone_page
from tests.fixtures.live_server import LiveServer

pytestmark = pytest.mark.e2e

SMALL_PHONE = {"width": 360, "height": 740}
SHOTS = "/tmp/h12fix-shots"


@pytest.fixture
def small_phone(browser: Browser) -> Iterator[Page]:
    yield from phone_page(browser, SMALL_PHONE)


def fill_half(page: Page) -> None:
    page.fill("#name", "陈志愿")
    page.fill("#phone", "138 0013 800")  # one digit short
    page.fill("#password", "correct-horse-9")
    page.fill("#work_unit", "南通供电公司")
    page.select_option("#district", label="崇川区")
    page.locator("label[for=accepts_nights]").tap()


def switch_language(page: Page, button: str) -> None:
    with page.expect_navigation():
        page.locator(".lang-switch button", has_text=button).tap()


def test_switching_language_keeps_a_half_filled_registration(
    live_server: LiveServer, small_phone: Page
) -> None:
    page = small_phone
    page.goto(f"{live_server.url}/register")
    fill_half(page)
    page.screenshot(path=f"{SHOTS}/register-360-typed-zh.png", full_page=True)

    switch_language(page, "English")
    expect(page.locator("h1")).to_have_text("Register as a volunteer")
    expect(page.locator("#name")).to_have_value("陈志愿")
    expect(page.locator("#phone")).to_have_value("138 0013 800")
    expect(page.locator("#work_unit")).to_have_value("南通供电公司")
    expect(page.locator("#district option:checked")).to_have_text("崇川区")
    expect(page.locator("#accepts_nights")).to_be_checked()
    expect(page.locator("#consent")).not_to_be_checked()
    expect(page.locator("#password")).to_have_value("")  # never written to storage
    page.screenshot(path=f"{SHOTS}/register-360-switched-en.png", full_page=True)

    # After a submit the server sent back (the POST's page), and switching back again.
    page.fill("#password", "correct-horse-9")
    page.locator("label[for=consent]").tap()
    page.locator("main form button[type=submit]").tap()
    expect(page.locator("#error-summary")).to_be_visible()
    switch_language(page, "中文")
    expect(page.locator("h1")).to_have_text("注册成为志愿者")
    expect(page.locator("#name")).to_have_value("陈志愿")
    expect(page.locator("#phone")).to_have_value("138 0013 800")
    expect(page.locator("#consent")).to_be_checked()
    # Kept for one reload only.
    page.reload()
    expect(page.locator("#name")).to_have_value("")
    page.screenshot(path=f"{SHOTS}/register-360-switched-back-zh.png", full_page=True)


def test_a_tap_updates_the_week_counter(live_server: LiveServer, small_phone: Page) -> None:
    with live_server.app.app_context():
        create_account(
            name="陈志愿",
            phone="13800138000",
            password="correct-horse-9",
            volunteer=Volunteer(accepts_nights=True),
        )
        db.session.remove()
    page = small_phone
    log_in(page, live_server, "13800138000")
    page.goto(f"{live_server.url}/me/availability?week=2026-12-07")
    count = page.locator("#week-count")
    expect(count).to_have_text("本周 0 个班次")
    page.locator("#cell-2026-12-08-08").tap()
    expect(page.locator("#cell-2026-12-08-08")).to_have_attribute("aria-pressed", "true")
    expect(count).to_have_text("本周 1 个班次")
    page.locator("#cell-2026-12-09-16").tap()
    expect(count).to_have_text("本周 2 个班次")
    page.locator("#cell-2026-12-08-08").tap()
    expect(count).to_have_text("本周 1 个班次")
    count.scroll_into_view_if_needed()
    page.screenshot(path=f"{SHOTS}/availability-360-counter.png", full_page=False)
