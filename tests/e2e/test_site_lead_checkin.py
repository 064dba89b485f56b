"""Issue 5's day on the ground, in a real browser: the coordinator prints tomorrow's sign-in
sheets for every site as one PDF, the site lead checks the team in on a phone (one tap each,
times corrected by hand), and the hours appear in the coordinator's export.

The app's clock stands at 2026-11-22 12:00 UTC (20:00 in Asia/Shanghai): the evening shift
(16:00–24:00) of the checkpoint is under way."""

from __future__ import annotations

import csv
import io
import subprocess
from datetime import date
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from scheduler.extensions import db
from scheduler.models import PlanningPeriod, Site, User, Volunteer
from scheduler.services.accounts import create_account
from tests.fixtures.auth import PASSWORD
from tests.fixtures.live_server import LiveServer
from tests.fixtures.rosters import make_roster

TODAY, TOMORROW = date(2026, 11, 22), date(2026, 11, 23)


def _account(role: str, phone: str, name: str) -> User:
    return create_account(
        name=name, phone=phone, password=PASSWORD, role=role, volunteer=Volunteer()
    )


def seed_roster(server: LiveServer) -> dict[str, int]:
    """A published roster around today at the seeded checkpoint: a lead and two code
    checkers this evening, and a team tomorrow."""
    with server.app.app_context():
        site = db.session.scalar(db.select(Site))
        assert site is not None
        period = PlanningPeriod(
            name="十一月第四期",
            start_date=date(2026, 11, 16),
            end_date=date(2026, 11, 29),
            is_open=False,
            sites=[site],
        )
        db.session.add(period)
        db.session.commit()
        lead = _account("site_lead", "13800138001", "周点长")
        first = _account("volunteer", "13800138002", "吴准时")
        second = _account("volunteer", "13800138003", "郑迟到")
        _account("coordinator", "13800138009", "协调员")
        make_roster(
            period,
            [
                (site, TODAY, "evening", "site_lead", lead),
                (site, TODAY, "evening", "code_checker", first),
                (site, TODAY, "evening", "code_checker", second),
                (site, TOMORROW, "day", "site_lead", lead),
                (site, TOMORROW, "day", "code_checker", first),
            ],
            version=1,
        )
        return {
            "site": site.id,
            "first": first.volunteer.id,  # type: ignore[union-attr]
            "second": second.volunteer.id,  # type: ignore[union-attr]
        }


def log_in(page: Page, server: LiveServer, phone_number: str) -> None:
    page.goto(f"{server.url}/login")
    page.fill("input[name=phone]", phone_number)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def test_print_check_in_on_a_phone_and_export_the_hours(
    live_server: LiveServer, phone: Page, browser: Browser, tmp_path: Path
) -> None:
    ids = seed_roster(live_server)
    desk = browser.new_context(locale="zh-CN")
    staff = desk.new_page()
    log_in(staff, live_server, "13800138009")

    # Tomorrow's sheets for every site, one PDF, with the Chinese font embedded.
    sheets = staff.request.get(f"{live_server.url}/sheets/days/{TOMORROW.isoformat()}/signin.pdf")
    assert sheets.status == 200
    pdf = tmp_path / "tomorrow.pdf"
    pdf.write_bytes(sheets.body())
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
    assert "WenQuanYi" in fonts.stdout
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "吴准时" in text
    assert "138****8002" in text
    assert "13800138002" not in text

    # The lead logs in on the phone and opens tonight's check-in from their shift card.
    log_in(phone, live_server, "13800138001")
    phone.wait_for_url(f"{live_server.url}/me")
    phone.locator(f'a[href^="/checkin/sites/{ids["site"]}/{TODAY.isoformat()}"]').first.click()
    expect(phone.locator("#shift-evening-title")).to_be_visible()

    on_time = phone.locator(f"#att-evening-{ids['first']}")
    on_time.locator("button.ci-b-present").click()
    expect(on_time.locator('button.ci-b-present[aria-pressed="true"]')).to_be_visible()
    late = phone.locator(f"#att-evening-{ids['second']}")
    late.locator("button.ci-b-late").click()
    expect(late.locator('button.ci-b-late[aria-pressed="true"]')).to_be_visible()
    # The shift's tally follows the taps: present, late, absent, unmarked (the lead).
    tally = phone.locator("#counts-evening strong")
    expect(tally).to_have_text(["1", "1", "0", "1"])

    # The first arrived on time at 16:00 and left at 19:30: the lead corrects the times.
    on_time = phone.locator(f"#att-evening-{ids['first']}")
    on_time.locator("summary").click()
    on_time.locator("form.ci-times input[name=time_in]").fill("16:00")
    on_time.locator("form.ci-times input[name=time_out]").fill("19:30")
    on_time.locator("form.ci-times button[type=submit]").click()
    expect(phone.locator(f"#att-evening-{ids['first']} .ci-state")).to_contain_text("19:30")
    phone.screenshot(path=str(tmp_path / "checkin.png"), full_page=True)

    # The coordinator's export of service hours has the 3.5 hours.
    export = staff.request.get(f"{live_server.url}/checkin/hours.csv")
    assert export.status == 200
    rows = list(csv.reader(io.StringIO(export.body().decode("utf-8-sig"))))
    by_name = {row[0]: row for row in rows[1:]}
    assert "吴准时" in by_name
    assert "3.5" in by_name["吴准时"]
    assert "郑迟到" in by_name  # late, still on duty: in the table with no hours yet
    desk.close()
