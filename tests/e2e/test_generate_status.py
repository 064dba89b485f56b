"""The coordinator generates a roster at 1366 x 800: the status says what a coordinator reads,
never the solver's objective value, and the "being generated" line goes when the run ends,
even when a status poll fails on the way (as one does while the run's result is written to a
busy database): the fragment keeps polling instead of stopping with the banner up."""

from __future__ import annotations

from datetime import date

from playwright.sync_api import Browser, Route, expect

from scheduler.extensions import db
from scheduler.models import Availability, PlanningPeriod, Volunteer
from scheduler.services.accounts import create_account
from tests.e2e.test_site_lead_checkin import log_in
from tests.fixtures.auth import PASSWORD
from tests.fixtures.live_server import LiveServer

SHOTS = "/tmp/shots-h10c"


def seed(server: LiveServer) -> int:
    with server.app.app_context():
        create_account(name="协调员", phone="13800138009", password=PASSWORD, role="coordinator")
        period = db.session.scalar(db.select(PlanningPeriod))
        assert period is not None
        for n in range(3):
            user = create_account(
                name=f"志愿者{n}",
                phone=f"1380013810{n}",
                password=PASSWORD,
                role="volunteer",
                volunteer=Volunteer(accepts_nights=True),
            )
            assert user.volunteer is not None
            db.session.add(
                Availability(volunteer_id=user.volunteer.id, day=date(2026, 12, 8), start_hour=8)
            )
        db.session.commit()
        return period.id


def test_generate_shows_words_not_solver_values_and_ends_cleanly(
    live_server: LiveServer, browser: Browser
) -> None:
    period_id = seed(live_server)
    context = browser.new_context(
        viewport={"width": 1366, "height": 800},
        locale="zh-CN",
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"},
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in(page, live_server, "13800138009")
    page.goto(f"{live_server.url}/coordinator/periods/{period_id}/roster")
    failed: list[str] = []

    def fail_first_poll(route: Route) -> None:
        if route.request.method == "GET" and not failed:
            failed.append(route.request.url)
            route.fulfill(status=500, body="busy")
        else:
            route.continue_()

    page.route("**/roster/runs/*", fail_first_poll)
    page.fill("#time_limit", "5")
    page.locator("#roster-form button[type=submit]").click()
    status = page.locator("#solve-status")
    expect(status).to_contain_text("排班已生成", timeout=60_000)
    assert failed, "the first status poll was not intercepted"
    expect(page.get_by_text("正在生成排班")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("目标值")
    page.screenshot(path=f"{SHOTS}/coordinator-generated-1366.png", full_page=False)
    context.close()
