"""Small things a coordinator and a phone notice (issue 10, item 13): the import page keeps the
coordinator's tab bar; the wall chart's version picker shows its whole label at 1366 px;
/favicon.ico answers and pages link the home-screen icon and manifest."""

from __future__ import annotations

from datetime import date

from playwright.sync_api import Browser, expect

from scheduler.extensions import db
from scheduler.models import PlanningPeriod, Site, Volunteer
from scheduler.services.accounts import create_account
from tests.e2e.test_site_lead_checkin import log_in
from tests.fixtures.auth import PASSWORD
from tests.fixtures.live_server import LiveServer
from tests.fixtures.rosters import make_roster

SHOTS = "/tmp/shots-h10c"


def seed(server: LiveServer) -> int:
    with server.app.app_context():
        create_account(name="协调员", phone="13800138009", password=PASSWORD, role="coordinator")
        site = db.session.scalar(db.select(Site))
        period = db.session.scalar(db.select(PlanningPeriod))
        assert site is not None
        assert period is not None
        person = create_account(
            name="甲一", phone="13800138101", password=PASSWORD, volunteer=Volunteer()
        )
        for version in (1, 2):
            make_roster(period, [(site, date(2026, 12, 8), "day", "code_checker", person)], version)
        return period.id


def test_import_tabs_wall_picker_and_icons(live_server: LiveServer, browser: Browser) -> None:
    period_id = seed(live_server)
    context = browser.new_context(
        viewport={"width": 1366, "height": 800},
        locale="zh-CN",
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"},
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in(page, live_server, "13800138009")

    page.goto(f"{live_server.url}/coordinator/import")
    nav = page.locator("nav.coord-nav")
    expect(nav).to_be_visible()
    expect(nav.locator('a[aria-current="page"]')).to_have_text("导入志愿者")
    page.screenshot(path=f"{SHOTS}/coordinator-import-1366.png")

    page.goto(f"{live_server.url}/sheets/periods/{period_id}/wall")
    picker = page.locator(".sheet-controls select[name=version]")
    expect(picker).to_be_visible()
    # The chosen option's text fits the select (nothing cut off).
    fits = picker.evaluate(
        """s => {
             const probe = document.createElement('span');
             probe.style.font = getComputedStyle(s).font;
             probe.textContent = s.options[s.selectedIndex].text;
             document.body.appendChild(probe);
             const text = probe.getBoundingClientRect().width;
             probe.remove();
             const cs = getComputedStyle(s);
             const room = s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
             return [text, room];
           }"""
    )
    assert fits[0] <= fits[1], fits
    page.screenshot(path=f"{SHOTS}/coordinator-wall-picker-1366.png")

    icon = page.request.get(f"{live_server.url}/favicon.ico")
    assert icon.status == 200
    assert icon.body()[:4] == b"\x00\x00\x01\x00"  # an ICO file
    expect(page.locator('link[rel="apple-touch-icon"]')).to_have_count(1)
    manifest_href = page.locator('link[rel="manifest"]').get_attribute("href")
    manifest = page.request.get(f"{live_server.url}{manifest_href}").json()
    assert manifest["name"] == "集结号"
    for entry in manifest["icons"]:
        assert page.request.get(f"{live_server.url}{entry['src']}").status == 200
    context.close()
