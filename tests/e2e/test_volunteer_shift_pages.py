"""A volunteer on a 360 px phone: a shift with no site lead says whom to call instead (the
period's coordinator on duty), the cancel page's one primary button is the cancel itself,
and afterwards the inbox marks the message that announced the shift. The app's clock stands
at 2026-11-22 20:00 in Asia/Shanghai; the shift is on the 24th, well before the cutoff."""

from __future__ import annotations

from datetime import date

from playwright.sync_api import Page, expect

from scheduler.extensions import db
from scheduler.models import Notification, PlanningPeriod, Site, Volunteer
from scheduler.services.accounts import create_account
from tests.e2e.test_site_lead_checkin import log_in
from tests.fixtures.auth import PASSWORD
from tests.fixtures.live_server import LiveServer
from tests.fixtures.rosters import make_roster

SHOTS = "/tmp/shots-h10c"
DAY = date(2026, 11, 24)


def seed(server: LiveServer) -> int:
    """A published shift without a lead for 吴志愿, announced in their inbox; the period's
    coordinator on duty is 钱值班 (another coordinator, 孙其他, is not shown)."""
    with server.app.app_context():
        site = db.session.scalar(db.select(Site))
        assert site is not None
        on_duty = create_account(
            name="钱值班", phone="13800138008", password=PASSWORD, role="coordinator"
        )
        create_account(name="孙其他", phone="13800138007", password=PASSWORD, role="coordinator")
        period = PlanningPeriod(
            name="十一月第四期",
            start_date=date(2026, 11, 16),
            end_date=date(2026, 11, 29),
            is_open=False,
            sites=[site],
            contact_id=on_duty.id,
        )
        db.session.add(period)
        db.session.commit()
        me = create_account(
            name="吴志愿",
            phone="13800138002",
            password=PASSWORD,
            role="volunteer",
            volunteer=Volunteer(),
        )
        roster = make_roster(period, [(site, DAY, "day", "code_checker", me)], version=1)
        db.session.add(
            Notification(
                user_id=me.id,
                kind="shift_new",
                payload={"day": DAY.isoformat(), "shift": "day", "site_id": site.id},
            )
        )
        db.session.commit()
        (assignment,) = roster.assignments
        return assignment.id


def test_no_lead_cancel_and_inbox_on_a_phone(live_server: LiveServer, phone: Page) -> None:
    assignment_id = seed(live_server)
    page = phone
    page.set_viewport_size({"width": 360, "height": 740})
    log_in(page, live_server, "13800138002")

    page.goto(f"{live_server.url}/me")
    card = page.locator(f"#shift-{assignment_id}")
    no_lead = card.locator(".shift-nolead")
    expect(no_lead).to_contain_text("本班次暂无点位长")
    expect(no_lead).to_contain_text("钱值班")
    expect(no_lead.locator('a[href="tel:+8613800138008"]')).to_have_count(1)
    expect(no_lead).not_to_contain_text("孙其他")
    page.screenshot(path=f"{SHOTS}/volunteer-me-nolead-360.png", full_page=True)

    card.get_by_role("button", name="取消…").tap()
    page.wait_for_url(f"{live_server.url}/me/shifts/{assignment_id}/cancel")
    # One primary button on the page: the cancel. No "confirm" competing with it.
    primary = page.locator("main button:not(.secondary):not(.outline)")
    expect(primary).to_have_count(1)
    expect(primary).to_have_text("取消我的班次")
    expect(page.get_by_role("button", name="确认")).to_have_count(0)
    page.screenshot(path=f"{SHOTS}/volunteer-cancel-360.png", full_page=True)
    page.fill("#reason", "家中有事")
    primary.tap()
    page.wait_for_url(f"{live_server.url}/me")

    page.goto(f"{live_server.url}/me/inbox")
    item = page.locator(".inbox-item").first
    expect(item.locator(".inbox-since")).to_have_text("此班次后来已被你取消。")
    expect(item.locator("s")).to_contain_text("新班次")
    page.screenshot(path=f"{SHOTS}/volunteer-inbox-cancelled-360.png", full_page=True)
