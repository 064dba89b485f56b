"""Registration on a 360 x 740 phone: one short form, and a mistake costs nothing that was
typed. The test also measures the form (inputs, screens) and checks every tap target."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import User
from scheduler.services.accounts import create_account
from tests.fixtures.browser import phone_page
from tests.fixtures.live_server import LiveServer

pytestmark = pytest.mark.e2e

SMALL_PHONE = {"width": 360, "height": 740}
SHOTS = "/tmp/shots-h10c"


@pytest.fixture
def small_phone(browser: Browser) -> Iterator[Page]:
    yield from phone_page(browser, SMALL_PHONE)


def visible_inputs(page: Page) -> int:
    inputs = "main form input:not([type=hidden]), main form select, main form textarea"
    return page.evaluate(
        f"[...document.querySelectorAll('{inputs}')].filter(e => e.offsetParent !== null).length"
    )


def small_tap_targets(page: Page) -> list[tuple[str, int]]:
    """Links, buttons, inputs and checkbox rows in the page body less than 44 px tall (a
    checkbox counts through its row: the whole label is tapped)."""
    targets = (
        "main a, main button, main label.vol-check, main input:not([type=checkbox]), main select"
    )
    return page.evaluate(
        f"""[...document.querySelectorAll('{targets}')]
           .filter(e => e.offsetParent !== null && e.type !== 'hidden')
           .map(e => [(e.textContent || e.name || '').trim().slice(0, 30),
                      Math.round(e.getBoundingClientRect().height)])
           .filter(([, h]) => h < 44)"""
    )


def test_sign_up_on_a_small_phone_survives_a_mistake(
    live_server: LiveServer, small_phone: Page
) -> None:
    page = small_phone
    page.goto(f"{live_server.url}/register")
    # Only what the roster needs: name, phone, password, work unit, district, nights, consent.
    assert visible_inputs(page) == 7
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= 2 * SMALL_PHONE["height"], f"{height / SMALL_PHONE['height']:.1f} screens"
    assert small_tap_targets(page) == []
    expect(page.locator("#confirm")).to_have_count(0)
    expect(page.locator("#emergency_name")).to_have_count(0)
    page.screenshot(path=f"{SHOTS}/register-360.png", full_page=True)

    page.fill("#name", "陈志愿")
    page.fill("#phone", "138 0013 800")  # one digit short
    page.fill("#password", "correct-horse-9")
    page.fill("#work_unit", "南通供电公司")
    page.select_option("#district", label="崇川区")
    page.locator("label[for=accepts_nights]").tap()
    page.locator("label[for=consent]").tap()
    page.locator("main form button[type=submit]").tap()

    # The server says what is wrong at the top, linked to the field; nothing typed is lost.
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    assert summary.bounding_box()["y"] < SMALL_PHONE["height"]
    link = summary.locator('a[href="#phone"]')
    expect(link).to_contain_text("手机号")
    expect(page.locator("#name")).to_have_value("陈志愿")
    expect(page.locator("#password")).to_have_value("correct-horse-9")
    expect(page.locator("#work_unit")).to_have_value("南通供电公司")
    expect(page.locator("#accepts_nights")).to_be_checked()
    expect(page.locator("#consent")).to_be_checked()
    expect(page.locator("#phone")).to_have_attribute("aria-invalid", "true")
    assert small_tap_targets(page) == []
    page.screenshot(path=f"{SHOTS}/register-360-error.png", full_page=True)

    link.tap()
    expect(page.locator("#phone")).to_be_focused()
    page.fill("#phone", "138 0013 8000")
    page.locator("main form button[type=submit]").tap()

    page.wait_for_url(f"{live_server.url}/me")
    expect(page.locator("h1")).to_have_text("陈志愿")
    reminder = page.locator("#profile-reminder")
    expect(reminder).to_contain_text("紧急联系人")
    expect(reminder).to_contain_text("技能")
    page.screenshot(path=f"{SHOTS}/me-360-reminder.png", full_page=True)
    with live_server.app.app_context():
        user = db.session.scalar(select(User).where(User.phone == "+8613800138000"))
        assert user is not None
        assert user.check_password("correct-horse-9")
        assert user.volunteer.accepts_nights
        assert user.volunteer.weekly_cap == 5
        assert user.volunteer.emergency_phone is None
        db.session.remove()

    # The reminder goes once the profile has an emergency contact and a skill.
    reminder.get_by_role("link").tap()
    page.fill("#emergency_name", "陈家人")
    page.fill("#emergency_phone", "137 0013 7000")
    page.get_by_label("驾驶").check()
    page.locator("form button[type=submit]").last.tap()
    page.wait_for_url(f"{live_server.url}/me")
    expect(page.locator("#profile-reminder")).to_have_count(0)


def test_an_already_registered_number_is_offered_log_in(
    live_server: LiveServer, small_phone: Page
) -> None:
    with live_server.app.app_context():
        create_account(name="老志愿", phone="13900139000", password="old-password-1")
        db.session.remove()
    page = small_phone
    page.goto(f"{live_server.url}/register")
    page.fill("#name", "老志愿")
    page.fill("#phone", "139 0013 9000")
    page.fill("#password", "new-password-1")
    page.fill("#work_unit", "南通供电公司")
    page.locator("label[for=consent]").tap()
    page.locator("main form button[type=submit]").tap()

    summary = page.locator("#error-summary")
    expect(summary.locator("#already-registered")).to_be_visible()
    expect(summary).to_contain_text("忘记密码")
    page.screenshot(path=f"{SHOTS}/register-360-already.png", full_page=True)
    summary.locator("#already-registered a").tap()
    page.wait_for_url(f"{live_server.url}/login")
