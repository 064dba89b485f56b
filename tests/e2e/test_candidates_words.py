"""The coordinator's candidates page at 1366 x 800: a rule warning names the person and says
the rule in Chinese, with no internal code ("not qualified as site_lead"); the candidates page
of a post that is already full says so."""

from __future__ import annotations

from datetime import date, timedelta

from playwright.sync_api import Browser, expect

from scheduler.extensions import db
from scheduler.models import Availability, PlanningPeriod, Role, Site, Volunteer
from scheduler.services.accounts import create_account
from tests.e2e.test_site_lead_checkin import log_in
from tests.fixtures.auth import PASSWORD
from tests.fixtures.live_server import LiveServer
from tests.fixtures.rosters import make_roster

SHOTS = "/tmp/shots-h10c"
FULL_DAY, OPEN_DAY = date(2026, 12, 8), date(2026, 12, 9)


def seed(server: LiveServer) -> dict[str, int]:
    with server.app.app_context():
        create_account(name="协调员", phone="13800138009", password=PASSWORD, role="coordinator")
        site = db.session.scalar(db.select(Site))
        period = db.session.scalar(db.select(PlanningPeriod))
        assert site is not None and period is not None  # noqa: PT018
        people = [
            create_account(
                name=name,
                phone=f"1380013810{n}",
                password=PASSWORD,
                role="volunteer",
                volunteer=Volunteer(),
            )
            for n, name in enumerate(["甲一", "乙二", "丙三", "丁新手"])
        ]
        make_roster(
            period,
            [
                (site, FULL_DAY, "day", "code_checker", people[0]),
                (site, FULL_DAY, "day", "code_checker", people[1]),
                (site, FULL_DAY, "day", "site_lead", people[2]),
                # 乙二 works the evening before and the night of OPEN_DAY: as a candidate for
                # its day shift they break several rules, a long line of reasons.
                (site, OPEN_DAY - timedelta(days=1), "evening", "code_checker", people[1]),
                (site, OPEN_DAY, "night", "code_checker", people[1]),
            ],
        )
        busy = people[1].volunteer
        assert busy is not None
        db.session.add(Availability(volunteer_id=busy.id, day=OPEN_DAY, start_hour=8))
        newcomer = people[3].volunteer
        assert newcomer is not None
        db.session.add(Availability(volunteer_id=newcomer.id, day=OPEN_DAY, start_hour=8))
        db.session.commit()
        roles = {r.code: r.id for r in db.session.scalars(db.select(Role))}
        return {
            "period": period.id,
            "site": site.id,
            "checker": roles["code_checker"],
            "lead": roles["site_lead"],
        }


def test_warnings_name_the_person_and_a_full_post_says_so(
    live_server: LiveServer, browser: Browser
) -> None:
    ids = seed(live_server)
    context = browser.new_context(
        viewport={"width": 1366, "height": 800},
        locale="zh-CN",
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"},
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in(page, live_server, "13800138009")
    base = f"{live_server.url}/coordinator/periods/{ids['period']}/roster/posts/{ids['site']}"

    page.goto(f"{base}/{FULL_DAY.isoformat()}/day/{ids['checker']}")
    expect(page.locator("#post-full")).to_contain_text("此岗位已满")
    page.screenshot(path=f"{SHOTS}/coordinator-candidates-full-1366.png", full_page=True)

    page.goto(f"{base}/{OPEN_DAY.isoformat()}/day/{ids['lead']}")
    expect(page.locator("#post-full")).to_have_count(0)
    # The Assign button stays on one line at 1366 px, however long the reasons beside it.
    for height, line in page.evaluate(
        """[...document.querySelectorAll('#candidates button')].map(
             b => [b.getBoundingClientRect().height, parseFloat(getComputedStyle(b).lineHeight)])"""
    ):
        assert height < 2 * line, (height, line)
    row = page.locator("#candidates tr", has_text="丁新手")
    row.get_by_role("button", name="安排").click()
    warnings = page.locator("#edit-warnings")
    expect(warnings).to_contain_text("丁新手：不具备此岗位的资质或未经培训")
    expect(warnings).not_to_contain_text("site_lead")
    expect(warnings).not_to_contain_text("not qualified")
    page.screenshot(path=f"{SHOTS}/coordinator-rule-warning-1366.png", full_page=True)
    context.close()
