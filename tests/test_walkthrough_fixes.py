"""Defects found walking the coordinator, lead and volunteer pages, each at its rule: the draft
and the generate form reload when a run starts or ends (HX-Trigger), the button is disabled
with the reason while a run is active, a finished run's box steps back once the draft changed,
a repair's progress says something true, the repair refusal is an error, run status sentences
use Chinese punctuation in Chinese, a time on the day before reads in words, the availability
shortcuts are 44 px touch targets, and the cancel page promises only what happens."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from scheduler.extensions import db
from scheduler.models import SolveRun, User
from scheduler.models.base import utcnow
from scheduler.services.hours import local_clock
from scheduler.services.lookups import current_draft
from tests.fixtures.auth import login
from tests.fixtures.rosters import make_roster, publish_roster
from tests.test_planning import MON, SmallWorld, build_small_world
from tests.test_repair_moves import chain_world, repair

HX = {"HX-Request": "true"}
ZH = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}
CSS = Path(__file__).resolve().parent.parent / "static" / "css" / "muster.css"


@pytest.fixture(params=["sqlite", "postgresql"])
def sync_app(request: pytest.FixtureRequest, app_factory: Callable[..., Flask]) -> Iterator[Flask]:
    """Runs inline (JOBS_SYNCHRONOUS), on SQLite and on PostgreSQL."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    app = app_factory(url, JOBS_SYNCHRONOUS=True, JOBS_SOLVER_WORKERS=1, REPAIR_TIME_LIMIT=5)
    with app.app_context():
        yield app


@pytest.fixture
def small(sync_app: Flask, make_site: Any, make_volunteer: Any) -> SmallWorld:
    return build_small_world(make_site, make_volunteer)


@pytest.fixture
def staff(sync_app: Flask, coordinator: Any) -> FlaskClient:
    client = sync_app.test_client()
    login(client, coordinator)
    return client


def _url(world: Any) -> str:
    return f"/coordinator/periods/{world.period.id}/roster"


def _run(period_id: int, status: str, **fields: Any) -> SolveRun:
    run = SolveRun(period_id=period_id, time_limit=30, status=status, **fields)
    db.session.add(run)
    db.session.commit()
    return run


# --- the draft and the form follow the run ----------------------------------------------------


def test_starting_and_ending_a_run_tell_the_page(small: SmallWorld, staff: FlaskClient) -> None:
    url = _url(small)
    page = staff.get(url).get_data(as_text=True)
    review = re.search(r'<section id="roster-review"[^>]*>', page)
    assert review is not None
    assert 'hx-trigger="roster-run-finished from:body"' in review.group(0)
    assert f'hx-get="{url}"' in review.group(0)
    assert 'hx-select="#roster-review"' in review.group(0)
    box = re.search(r'<div id="roster-submit"[^>]*>', page)
    assert box is not None
    assert "roster-run-started from:body, roster-run-finished from:body" in box.group(0)

    started = staff.post(
        f"{url}/runs",
        data={"site_ids": [small.checkpoint.id, small.testing.id], "time_limit": "5"},
        headers=HX,
    )
    assert started.headers["HX-Trigger"] == "roster-run-started"
    run = db.session.scalars(db.select(SolveRun)).one()  # ran inline (JOBS_SYNCHRONOUS)
    ended = staff.get(f"{url}/runs/{run.id}", headers=HX)
    assert ended.headers["HX-Trigger"] == "roster-run-finished"
    # The reloaded page holds the new draft.
    assert 'id="roster-counts"' in staff.get(url, headers=HX).get_data(as_text=True)


def test_a_poll_of_an_active_run_triggers_nothing(small: SmallWorld, staff: FlaskClient) -> None:
    run = _run(small.period.id, "running", started_at=utcnow(), posts_total=15, posts_filled=6)
    answer = staff.get(f"{_url(small)}/runs/{run.id}", headers=HX)
    assert "HX-Trigger" not in answer.headers
    cancelled = staff.post(f"{_url(small)}/runs/{run.id}/cancel", headers=HX)
    assert "HX-Trigger" not in cancelled.headers  # still running until the search stops
    queued = _run(small.period.id, "queued")
    db.session.delete(run)
    db.session.commit()
    cancelled = staff.post(f"{_url(small)}/runs/{queued.id}/cancel", headers=HX)
    assert cancelled.headers["HX-Trigger"] == "roster-run-finished"


@pytest.mark.parametrize("status", ["queued", "running"])
def test_the_generate_button_is_disabled_with_the_reason_while_a_run_is_active(
    small: SmallWorld, staff: FlaskClient, status: str
) -> None:
    _run(small.period.id, status, started_at=utcnow())
    page = staff.get(_url(small), headers=ZH).get_data(as_text=True)
    assert re.search(
        r'<button type="submit" disabled aria-describedby="roster-busy">生成排班', page
    )
    assert '<p class="muted" id="roster-busy">本期的排班正在生成中。</p>' in page


def test_the_generate_button_is_active_when_no_run_is(
    small: SmallWorld, staff: FlaskClient
) -> None:
    _run(small.period.id, "failed", finished_at=utcnow(), error="x")
    page = staff.get(_url(small), headers=EN).get_data(as_text=True)
    assert '<button type="submit">Generate roster</button>' in page
    assert "roster-busy" not in page


# --- the latest run's box ----------------------------------------------------------------------


def test_a_finished_run_steps_back_once_the_draft_changed(
    small: SmallWorld, staff: FlaskClient
) -> None:
    make_roster(small.period, [])
    run = _run(small.period.id, "succeeded", finished_at=utcnow(), posts_total=5, posts_filled=4)
    html = staff.get(f"{_url(small)}/runs/{run.id}", headers=HX).get_data(as_text=True)
    assert "4 of 5 posts filled (80%)." in html
    assert "Show the new draft" in html.split("<noscript>")[1]  # only without htmx
    draft = current_draft(small.period.id)
    assert draft is not None
    draft.touch()  # a hand edit, a cancellation, a sign-up ...
    db.session.commit()
    html = staff.get(_url(small)).get_data(as_text=True)
    status = html[
        html.index('id="solve-status"') : html.index("</section>", html.index('id="solve-status"'))
    ]
    assert "the draft has changed since" in status
    assert "4 of 5 posts filled" not in status


# --- a repair's progress and its refusal -------------------------------------------------------


@pytest.fixture
def chain(sync_app: Flask, make_site: Any, make_volunteer: Any, make_period: Any) -> Any:
    return chain_world(make_site, make_volunteer, make_period)


def _cancel_lead(world: Any) -> None:
    from tests.test_repair_moves import cancel_lead

    cancel_lead(world)
    db.session.commit()


def test_a_running_repair_says_how_many_holes_it_fills(chain: Any, staff: FlaskClient) -> None:
    _cancel_lead(chain)
    _run(chain.period.id, "running", started_at=utcnow(), minimal_change=True)
    page = staff.get(f"{_url(chain)}/repair", headers=EN).get_data(as_text=True)
    assert "Repairing the roster…" in page
    assert "fill 1 hole left by a cancellation" in page
    assert "0 of 0" not in page
    zh = staff.get(f"{_url(chain)}/repair", headers=ZH).get_data(as_text=True)
    assert "填补 1 个因取消而空出的岗位" in zh
    assert "已填 0 / 0" not in zh


def test_a_run_still_building_its_problem_shows_no_zero_counts(
    small: SmallWorld, staff: FlaskClient
) -> None:
    run = _run(small.period.id, "running", started_at=utcnow())
    html = staff.get(f"{_url(small)}/runs/{run.id}", headers=HX).get_data(as_text=True)
    assert "Reading the sites, the volunteers and their availability…" in html
    assert "0 of 0" not in html
    assert "<progress" not in html


def test_the_unticked_repair_refusal_is_an_error(chain: Any, staff: FlaskClient) -> None:
    _cancel_lead(chain)
    assert staff.post(f"{_url(chain)}/repair", data={}).status_code == 302
    db.session.expire_all()
    assert repair.proposal(chain.period) is not None
    refused = staff.post(f"{_url(chain)}/repair/publish", data={})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert re.search(
        r'<p class="flash flash-error" role="alert" id="repair-error">[^<]*1 not ticked', html
    )
    # .flash alone is the success colour; .flash-error is the error one.
    css = CSS.read_text()
    assert ".flash-error { background: #fde8e8;" in css


# --- Chinese punctuation in the run's status ---------------------------------------------------


def test_run_status_sentences_use_chinese_punctuation(
    small: SmallWorld, staff: FlaskClient
) -> None:
    run = _run(
        small.period.id,
        "running",
        started_at=utcnow(),
        posts_total=20,
        posts_filled=6,
        posts_fillable=15,
    )
    html = staff.get(f"{_url(small)}/runs/{run.id}", headers={**HX, **ZH}).get_data(as_text=True)
    assert "（以现有志愿者最多可填 15 个）" in html
    assert "(" not in re.sub(r"<[^>]+>", "", html)
    run.status, run.finished_at, run.posts_filled = "succeeded", utcnow(), 12
    db.session.commit()
    html = staff.get(f"{_url(small)}/runs/{run.id}", headers={**HX, **ZH}).get_data(as_text=True)
    text = " ".join(re.sub(r"<[^>]+>", " ", html.split("<noscript>")[0]).split())
    assert "已填 12 / 20 个岗位（60%）。" in text
    assert not re.search(r"[()]|\.(\s|$)", text), text


# --- a time on the day before, in words -------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "expected"), [("zh-CN", "前一天 22:00"), ("en", "22:00 the day before")]
)
def test_a_time_on_the_day_before_reads_in_words(sync_app: Flask, lang: str, expected: str) -> None:
    with sync_app.test_request_context(headers={"Accept-Language": lang}):
        # 14:00 UTC is 22:00 in Shanghai on Dec 6: check-in opening for the Dec 7 night shift
        moment = datetime(2026, 12, 6, 14, 0, tzinfo=UTC)
        assert local_clock(moment, "Asia/Shanghai", date(2026, 12, 7)) == expected
        assert local_clock(moment, "Asia/Shanghai", date(2026, 12, 6)) == "22:00"
        assert local_clock(moment, "Asia/Shanghai", date(2026, 12, 5)) == "22:00 (+1)"


# --- the availability shortcuts are touch targets ---------------------------------------------


def test_the_whole_day_and_cannot_serve_buttons_are_44_px_tall() -> None:
    rule = re.search(r"\.avail-day-actions button\.small \{([^}]*)\}", CSS.read_text())
    assert rule is not None
    height = re.search(r"min-height:\s*([\d.]+)rem", rule.group(1))
    assert height is not None
    assert float(height.group(1)) * 16 >= 44


# --- the cancel page promises only what happens -----------------------------------------------


def test_the_cancel_page_names_the_lead_only_when_the_shift_has_one(
    sync_app: Flask, make_site: Any, make_volunteer: Any
) -> None:
    site = make_site(name="东卡口", demand={"site_lead": 1, "code_checker": 1})
    alone, lead, checker = (make_volunteer(name=n) for n in ("单人", "点长", "查验"))
    world = publish_roster(
        {"东卡口": site},
        {"alone": alone, "lead": lead, "checker": checker},
        [
            (site, MON, "night", "code_checker", alone),  # no lead on that shift
            (site, MON, "day", "site_lead", lead),
            (site, MON, "day", "code_checker", checker),
        ],
    )

    def page(user: User, kind: str, lang: dict[str, str]) -> str:
        client = sync_app.test_client()
        login(client, user)
        row = next(
            a
            for a in world.published.assignments
            if a.volunteer_id == user.volunteer.id and a.shift == kind  # type: ignore[union-attr]
        )
        return client.get(f"/me/shifts/{row.id}", headers=lang).get_data(as_text=True)

    html = page(alone, "night", EN)
    assert "the coordinators are told at once" in html
    assert "your site lead are told" not in html
    assert "系统会立即通知协调员，并需" in page(alone, "night", ZH)
    html = page(checker, "day", EN)
    assert "the coordinators and your site lead are told at once" in html
