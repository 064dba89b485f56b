"""A call-up walked through in a real browser: a coordinator (1366 x 800) opens "Call up for
these" for a role, shift and dates, previews and sends; a volunteer opens the public page on
a 390 x 844 phone, registers through it; the call-up's funnel counts the opening and the
registration. Screenshots in /tmp/h12cu-shots/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import COORDINATOR, CallUp, PlanningPeriod, Role, User
from scheduler.services import callups
from scheduler.services.accounts import create_account
from tests.fixtures.auth import PASSWORD
from tests.fixtures.live_server import LiveServer

pytestmark = pytest.mark.e2e

SHOTS = Path("/tmp/h12cu-shots")
DESKTOP = {"width": 1366, "height": 800}


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        viewport=DESKTOP, locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN"}
    )
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_call_up_from_compose_to_a_registration_on_a_phone(
    live_server: LiveServer, desktop: Page, phone: Page
) -> None:
    SHOTS.mkdir(exist_ok=True)
    with live_server.app.app_context():
        create_account(name="协调员", phone="13900000001", password=PASSWORD, role=COORDINATOR)
        for i, name in enumerate(("王三", "李四", "赵五")):
            create_account(name=name, phone=f"1380000000{i + 2}", password=PASSWORD)
        period_id = db.session.scalars(select(PlanningPeriod.id)).one()
        role_id = db.session.scalars(select(Role.id).where(Role.code == "code_checker")).one()

    page = desktop
    page.goto(f"{live_server.url}/login")
    page.fill("#phone", "13900000001")
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.goto(
        f"{live_server.url}/coordinator/periods/{period_id}/callups/new"
        f"?role={role_id}&shift=day&from=2026-12-09&to=2026-12-14"
    )
    message = page.locator("#message")
    expect(message).to_contain_text("查验双码")
    expect(page.locator("#gap")).to_be_checked()
    page.screenshot(path=SHOTS / "compose-1366.png", full_page=True)
    page.get_by_role("button", name="预览").click()
    preview = page.locator("#callup-preview")
    expect(preview).to_contain_text("3 人")
    expect(preview).to_contain_text("每人 2 条短信")
    expect(preview).to_contain_text("13800000002")  # a coordinator sees numbers in full
    page.screenshot(path=SHOTS / "preview-1366.png", full_page=True)
    page.get_by_role("button", name="发送给 3 人").click()
    expect(page.locator("#funnel")).to_be_visible()
    public_url = page.locator("#public-url").inner_text()
    page.screenshot(path=SHOTS / "callup-1366.png", full_page=True)

    # The page asks to count the opening once it has loaded (htmx), in the background.
    with phone.expect_response(lambda r: r.url.endswith("/opened")) as opened:
        phone.goto(public_url)
    assert opened.value.status == 204
    expect(phone.locator("h1")).to_have_text("十二月第一期")
    expect(phone.locator("main")).to_contain_text("小海高速卡口")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px phone"
    phone.screenshot(path=SHOTS / "public-390.png", full_page=True)
    phone.get_by_role("button", name="注册成为志愿者").tap()
    phone.fill("#name", "新来的")
    phone.fill("#phone", "13912340009")
    phone.fill("#password", PASSWORD)
    phone.fill("#work_unit", "南通供电公司")
    phone.locator("label[for=consent]").tap()
    phone.locator("main form button[type=submit]").tap()
    phone.wait_for_url("**/me")

    page.reload()
    funnel = page.locator("#funnel")
    expect(funnel.locator("tr", has_text="打开了链接").locator("td")).to_have_text("1")
    expect(funnel.locator("tr", has_text="通过它注册或登录").locator("td")).to_contain_text("1")
    page.screenshot(path=SHOTS / "funnel-1366.png", full_page=True)
    with live_server.app.app_context():
        callup = db.session.scalars(select(CallUp)).one()
        funnel_counts = callups.funnel(callup)
        assert (funnel_counts.sent, funnel_counts.opened, funnel_counts.registered) == (3, 1, 1)
        newcomer = db.session.scalars(select(User).where(User.phone == "+8613912340009")).one()
        assert newcomer.volunteer is not None
