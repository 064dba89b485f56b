"""The run's status in a coordinator's words: posts filled, of those that can be filled at all
with the volunteers available (solver.flow's bound, stored on the run), and time left; never
the objective value. An assignment's source reads "automatic roster" (自动排班)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Assignment, SolveRun
from scheduler.models.base import utcnow
from tests.test_planning import SmallWorld
from tests.test_rosters import HX, generate, roster_url, small, staff, sync_app  # noqa: F401

ZH = {**HX, "Accept-Language": "zh-CN"}


def test_running_status_says_filled_of_fillable_and_time_left(
    small: SmallWorld,  # noqa: F811
    staff: FlaskClient,  # noqa: F811
) -> None:
    run = SolveRun(
        period_id=small.period.id,
        time_limit=30,
        status="running",
        started_at=utcnow(),
        posts_total=1764,
        posts_filled=1440,
        posts_fillable=1512,
        elapsed=12.4,
        objective=359539,
    )
    db.session.add(run)
    db.session.commit()
    html = staff.get(f"{roster_url(small)}/runs/{run.id}", headers=ZH).get_data(as_text=True)
    assert "359539" not in html
    assert "目标值" not in html
    assert "以现有志愿者最多可填 1512 个" in html
    assert "约剩 18 秒" in html

    run.status, run.finished_at, run.posts_filled = "succeeded", utcnow(), 1466
    db.session.commit()
    html = staff.get(f"{roster_url(small)}/runs/{run.id}", headers=ZH).get_data(as_text=True)
    assert "以现有志愿者，最多可填 1512 个岗位。" in html
    assert "正在生成排班" not in html


def test_a_run_records_how_many_posts_can_be_filled(
    small: SmallWorld,  # noqa: F811
    staff: FlaskClient,  # noqa: F811
) -> None:
    generate(staff, small)
    run = db.session.scalar(select(SolveRun))
    assert run is not None
    db.session.refresh(run)
    assert run.status == "succeeded"
    assert run.posts_fillable is not None
    assert run.posts_filled <= run.posts_fillable <= run.posts_total


def test_the_source_of_a_solved_post_reads_automatic_roster(
    small: SmallWorld,  # noqa: F811
    staff: FlaskClient,  # noqa: F811
) -> Any:
    generate(staff, small)
    a = db.session.scalar(select(Assignment).where(Assignment.source == "solver"))
    assert a is not None
    url = f"{roster_url(small)}/shifts/{a.site_id}/{a.day.isoformat()}/{a.shift}"
    html = staff.get(url, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "自动排班" in html
    assert "求解器" not in html
