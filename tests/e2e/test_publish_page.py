"""Issue 10, items 5 and 6, in a real browser at laptop size (1366×800) on a demo-size roster
(the seeded demo: 10 sites over 14 days, ~1,500 posts held): the publish button is in view
without scrolling and the publish and version pages stay short; browser back after publishing
shows that nothing changed, with no button to press."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import date

from playwright.sync_api import Browser, expect
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Assignment, Availability, PlanningPeriod, Roster
from scheduler.services.availability import kind_of_start
from scheduler.services.demo import seed_demo
from tests.fixtures.live_server import LiveServer

LAPTOP = {"width": 1366, "height": 800}
# The pages were ~56,000 px (publish) and ~112,000 px (version) tall on this roster.
MAX_HEIGHT = 3000


def _demo_draft(server: LiveServer) -> tuple[int, int]:
    """The demo, and a draft holding a volunteer on every post someone available can take
    (one post per volunteer and shift; the rules beyond that do not matter to these pages)."""
    with server.app.app_context():
        seed_demo(300, 1, today=date(2026, 11, 22))
        period = db.session.scalars(
            select(PlanningPeriod).where(PlanningPeriod.name.like("第一期%"))
        ).one()
        free: dict[tuple[date, str], list[int]] = defaultdict(list)
        for vid, day, start_hour in db.session.execute(
            select(Availability.volunteer_id, Availability.day, Availability.start_hour)
            .where(Availability.day.between(period.start_date, period.end_date))
            .order_by(Availability.volunteer_id)
        ):
            slot = free[(day, kind_of_start(start_hour))]
            if not slot or slot[-1] != vid:  # two spans of one kind (07-15, 08-16) are one slot
                slot.append(vid)
        draft = Roster(period_id=period.id, status="draft")
        db.session.add(draft)
        db.session.flush()
        rows = []
        for site in period.sites:
            for offset in range((period.end_date - period.start_date).days + 1):
                day = date.fromordinal(period.start_date.toordinal() + offset)
                for kind in site.shift_kinds:
                    for role_id, count in site.demand_for(kind).items():
                        for slot in itertools.islice(itertools.count(1), count):
                            if not free[(day, kind)]:
                                break
                            rows.append(
                                Assignment(
                                    roster_id=draft.id,
                                    site_id=site.id,
                                    day=day,
                                    shift=kind,
                                    role_id=role_id,
                                    slot=slot,
                                    volunteer_id=free[(day, kind)].pop(),
                                )
                            )
        db.session.add_all(rows)
        db.session.commit()
        return period.id, len(rows)


def test_publish_button_in_view_and_pages_bounded(
    live_server: LiveServer, browser: Browser
) -> None:
    period_id, held = _demo_draft(live_server)
    assert held > 1000
    context = browser.new_context(
        viewport=LAPTOP, locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN"}
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=phone]", "13912340002")
    page.fill("input[name=password]", "muster-demo-2")
    page.press("input[name=password]", "Enter")
    page.wait_for_url(f"{live_server.url}/coordinator/**")

    base = f"{live_server.url}/coordinator/periods/{period_id}/roster"
    page.goto(f"{base}/publish")
    expect(page.locator("#roster-diff-counts")).to_contain_text(f"新增 {held} 个岗位")
    button = page.locator("#publish-button")
    box = button.bounding_box()
    assert box is not None
    assert box["y"] >= 0
    assert box["y"] + box["height"] <= LAPTOP["height"]  # in view without scrolling
    assert page.evaluate("document.documentElement.scrollHeight") <= MAX_HEIGHT

    button.click()
    page.wait_for_url(f"{base}/versions/1")
    expect(page.locator("#roster-diff-counts")).to_contain_text(f"新增 {held} 个岗位")
    assert page.evaluate("document.documentElement.scrollHeight") <= MAX_HEIGHT
    # Unfolding the assignments is the reader's choice; they are all there.
    page.locator("#version-assignments-list > summary").click()
    expect(page.locator("#version-assignments tbody tr")).to_have_count(held)

    page.go_back()
    expect(page.locator("#publish-nothing")).to_contain_text("自第 1 版以来没有任何变化")
    expect(page.locator("#publish-button")).to_have_count(0)
    context.close()
