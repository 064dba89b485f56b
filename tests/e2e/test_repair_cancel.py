"""Cancelling a repair run from the repair page at 1366 x 800: the Cancel form sits inside
the self-polling #repair-run, whose hx-select used to be inherited by the form, so the
cancel's reply (a status fragment) was searched for #repair-run and nothing was swapped in:
the status vanished. Now the reply replaces the status in place (walkthrough, h12fix item 5).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from scheduler.extensions import db
from scheduler.models import PlanningPeriod, SolveRun
from scheduler.models.rosters import CANCELLED, QUEUED
from scheduler.services.accounts import create_account
from tests.e2e.test_site_lead_checkin import log_in
from tests.fixtures.auth import PASSWORD
from tests.fixtures.live_server import LiveServer

pytestmark = pytest.mark.e2e

SHOTS = "/tmp/h12fix-shots"


def test_cancel_on_the_repair_page_shows_the_cancelled_run(
    live_server: LiveServer, browser: Browser
) -> None:
    with live_server.app.app_context():
        create_account(name="协调员", phone="13800138009", password=PASSWORD, role="coordinator")
        period = db.session.scalar(db.select(PlanningPeriod))
        assert period is not None
        # Queued and never handed to the job runner: it stays active until cancelled.
        run = SolveRun(period_id=period.id, status=QUEUED, minimal_change=True, time_limit=20)
        db.session.add(run)
        db.session.commit()
        period_id, run_id = period.id, run.id
    context = browser.new_context(
        viewport={"width": 1366, "height": 800},
        locale="zh-CN",
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"},
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in(page, live_server, "13800138009")
    page.goto(f"{live_server.url}/coordinator/periods/{period_id}/roster/repair")
    expect(page.locator("#solve-status")).to_contain_text("等待开始")
    # From now on the part's polls fail (htmx keeps the page as it is), so what shows is the
    # cancel's own swap, never a poll rebuilding the part around it.
    page.route(
        "**/roster/repair",
        lambda route: route.abort() if route.request.method == "GET" else route.continue_(),
    )
    with page.expect_response(f"**/roster/runs/{run_id}/cancel"):
        page.locator("#repair-run form button[type=submit]").click()
    expect(page.locator("#solve-status")).to_contain_text("已取消修补")
    page.screenshot(path=f"{SHOTS}/repair-cancelled-1366.png", full_page=True)
    with live_server.app.app_context():
        assert db.session.get_one(SolveRun, run_id).status == CANCELLED
    context.close()
