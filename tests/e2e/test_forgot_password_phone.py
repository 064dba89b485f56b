"""Forgot password on a 360 x 740 phone, in Chinese, against the real server: the code is
texted through the configured channel (SmtpSender to a real SMTP server on 127.0.0.1), read
out of the received message and typed in; then the volunteer is logged in with the new
password. Every tap target on the two pages is large enough."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from scheduler.extensions import db
from scheduler.models import Volunteer
from scheduler.services.accounts import create_account
from tests.e2e.test_register_phone import SMALL_PHONE, small_tap_targets
from tests.fixtures.browser import phone_page
from tests.fixtures.live_server import LiveServer
from tests.fixtures.smtp import smtp_receiver

pytestmark = pytest.mark.e2e


@pytest.fixture
def small_phone(browser: Browser) -> Iterator[Page]:
    yield from phone_page(browser, SMALL_PHONE)


def test_forgot_password_on_a_small_phone(live_server: LiveServer, small_phone: Page) -> None:
    page = small_phone
    with live_server.app.app_context():
        create_account(
            name="李志愿", phone="13912340001", password="old-password-1", volunteer=Volunteer()
        )
        db.session.remove()
    with smtp_receiver() as gateway:
        live_server.app.config.update(gateway.config())
        page.goto(f"{live_server.url}/login")
        page.get_by_role("link", name="忘记密码？").click()
        expect(page.locator("h1")).to_have_text("忘记密码？")
        assert small_tap_targets(page) == []
        page.fill("#phone", "139 1234 0001")
        page.locator("main article button[type=submit]").click()
        page.wait_for_url("**/password/reset")
        expect(page.locator(".flash-success")).to_contain_text("139****0001")
        assert small_tap_targets(page) == []
        assert page.input_value("#phone") == "13912340001"
        page.fill("#code", gateway.code())
        page.fill("#password", "new-password-2")
        page.fill("#confirm", "new-password-2")
        page.locator("main article button[type=submit]").click()
        page.wait_for_url("**/me")
        expect(page.locator(".flash-success")).to_contain_text("密码已修改")
