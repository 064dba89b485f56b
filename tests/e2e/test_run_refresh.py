"""The coordinator generates a roster at 1366 x 800 and never reloads: while the run works the
Generate button is disabled with the reason, and when it ends the draft review below appears
and the button is back (the status fragment's HX-Trigger reloads both parts). The run waits
before it saves until the test has seen it running: a tiny problem is solved in milliseconds,
and on a busy machine the run could end before the page showed the button disabled."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from playwright.sync_api import Browser, Route, expect

from scheduler import jobs
from tests.e2e.test_generate_status import seed
from tests.e2e.test_site_lead_checkin import log_in
from tests.fixtures.live_server import LiveServer

SHOTS = "/tmp/h12holes-shots"


def test_the_draft_and_the_button_follow_the_run(
    live_server: LiveServer, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    period_id = seed(live_server)
    may_save = threading.Event()
    save = jobs.save_solution

    def save_when_seen(*args: Any, **kwargs: Any) -> Any:
        may_save.wait(timeout=30)
        return save(*args, **kwargs)

    monkeypatch.setattr(jobs, "save_solution", save_when_seen)
    context = browser.new_context(
        viewport={"width": 1366, "height": 800},
        locale="zh-CN",
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"},
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in(page, live_server, "13800138009")
    page.goto(f"{live_server.url}/coordinator/periods/{period_id}/roster")
    expect(page.locator("#roster-review")).to_contain_text("还没有草稿")
    held: list[Route] = []

    def hold_polls(route: Route) -> None:
        # Status polls wait until the test lets them through, so the "running" state is seen.
        if route.request.method == "GET" and not released:
            held.append(route)
        else:
            route.continue_()

    released = False
    page.route("**/roster/runs/*", hold_polls)
    page.fill("#time_limit", "5")
    button = page.locator("#roster-form button[type=submit]")
    button.click()
    expect(button).to_be_disabled()
    expect(page.locator("#roster-busy")).to_have_text("本期的排班正在生成中。")
    page.screenshot(path=f"{SHOTS}/roster-running-1366.png")
    released = True
    may_save.set()
    for route in held:
        route.continue_()
    expect(page.locator("#solve-status")).to_contain_text("排班已生成", timeout=60_000)
    expect(page.locator("#roster-review #roster-counts")).to_be_visible(timeout=10_000)
    expect(page.locator("#roster-review")).not_to_contain_text("还没有草稿")
    expect(button).to_be_enabled()
    expect(page.locator("#time_limit")).to_have_value("5")  # what was typed stays
    expect(page.locator("#roster-busy")).to_have_count(0)
    page.screenshot(path=f"{SHOTS}/roster-finished-1366.png", full_page=True)
    context.close()
