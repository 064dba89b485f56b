"""A real server and a real phone-sized browser for the end-to-end tests.

The app runs in werkzeug's server on a background thread on 127.0.0.1 (free port), on an
SQLite file, with CSRF on as in production. The browser is Debian's chromium driven by
Playwright; when it is missing the tests fail (the Makefile installs it) rather than skip."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from scheduler.extensions import db
from scheduler.models import Demand, District, PlanningPeriod, Role, Site, WorkUnit
from scheduler.services.catalogue import ensure_default_catalogue
from tests.fixtures.app import build_app
from tests.fixtures.browser import phone_page
from tests.fixtures.live_server import LiveServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE_VIEWPORT = {"width": 390, "height": 844}
PERIOD_START, PERIOD_END = date(2026, 12, 7), date(2026, 12, 20)


class QuietHandler(WSGIRequestHandler):
    """No access log lines in the test output."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def _seed() -> None:
    ensure_default_catalogue()
    roles = {r.code: r for r in db.session.scalars(db.select(Role))}
    site = Site(name="小海高速卡口", kind="checkpoint", address="G15沈海高速小海出口")
    for shift in ("night", "day", "evening"):
        site.demands.append(Demand(shift=shift, role=roles["site_lead"], headcount=1))
        site.demands.append(Demand(shift=shift, role=roles["code_checker"], headcount=2))
    db.session.add_all(
        [
            site,
            District(name="崇川区"),
            District(name="通州区"),
            WorkUnit(name="南通供电公司"),
            PlanningPeriod(
                name="十二月第一期",
                start_date=PERIOD_START,
                end_date=PERIOD_END,
                is_open=True,
                sites=[site],
            ),
        ]
    )
    db.session.commit()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    app = build_app(f"sqlite:///{tmp_path / 'e2e.sqlite'}", WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        _seed()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    assert os.path.exists(CHROMIUM), (
        f"{CHROMIUM} is missing: run `make system-deps` "
        "(apt-get install chromium fonts-wqy-microhei)"
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A fresh 390×844 phone in Chinese, touch enabled."""
    yield from phone_page(browser, PHONE_VIEWPORT)
