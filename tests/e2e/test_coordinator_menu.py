"""The coordinator's menu, with issue 12's Messages and Delivery in it, stays one line on a
1366-px laptop in Chinese and in English (in English it wrapped "Audit log" to a second line)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from scheduler.services.accounts import create_account
from tests.e2e.test_site_lead_checkin import log_in
from tests.fixtures.auth import PASSWORD
from tests.fixtures.live_server import LiveServer


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_menu_fits_one_line_at_1366(
    live_server: LiveServer, browser: Browser, lang: str
) -> None:
    with live_server.app.app_context():
        create_account(name="协调员", phone="13800138009", password=PASSWORD, role="coordinator")
    context = browser.new_context(
        viewport={"width": 1366, "height": 800},
        locale=lang,
        extra_http_headers={"Accept-Language": lang},
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in(page, live_server, "13800138009")
    page.goto(f"{live_server.url}/coordinator/delivery")
    tops = page.locator("nav.coord-nav li").evaluate_all(
        "items => items.map(li => Math.round(li.getBoundingClientRect().top))"
    )
    assert len(tops) == 13
    assert len(set(tops)) == 1, tops
    context.close()
