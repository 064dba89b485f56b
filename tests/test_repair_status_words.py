"""A repair run's status names a repair: a finished one says 修补完成 / "Repair finished.",
not 排班已生成 ("Roster generated."), on the repair page and on the roster page; a
generating run keeps its words (walkthrough, h12fix item 6)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from scheduler.extensions import db
from scheduler.models import PlanningPeriod, Site, SolveRun, User
from scheduler.models.base import utcnow
from scheduler.models.rosters import CANCELLED, SUCCEEDED
from tests.fixtures.auth import login


def finished_run(period: PlanningPeriod, *, minimal_change: bool, status: str) -> SolveRun:
    run = SolveRun(
        period_id=period.id,
        status=status,
        minimal_change=minimal_change,
        time_limit=20,
        posts_total=6,
        posts_filled=6,
        elapsed=1.5,
        finished_at=utcnow(),
    )
    db.session.add(run)
    db.session.commit()
    return run


@pytest.mark.parametrize(
    ("accept", "finished", "generated"),
    [("zh-CN", "修补完成", "排班已生成"), ("en", "Repair finished.", "Roster generated.")],
)
@pytest.mark.parametrize("page", ["roster/repair", "roster"])
def test_a_finished_repair_says_so(
    client: FlaskClient,
    coordinator: User,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    accept: str,
    finished: str,
    generated: str,
    page: str,
) -> None:
    period = make_period(sites=[make_site()])
    finished_run(period, minimal_change=True, status=SUCCEEDED)
    login(client, coordinator)
    html = client.get(
        f"/coordinator/periods/{period.id}/{page}", headers={"Accept-Language": accept}
    ).get_data(as_text=True)
    assert finished in html
    assert generated not in html


def test_a_cancelled_repair_says_so_and_a_generation_keeps_its_words(
    client: FlaskClient,
    coordinator: User,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
) -> None:
    period = make_period(sites=[make_site()])
    url = f"/coordinator/periods/{period.id}/roster"
    login(client, coordinator)
    finished_run(period, minimal_change=True, status=CANCELLED)
    html = client.get(url, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "已取消修补" in html
    assert "已取消排班生成" not in html
    finished_run(period, minimal_change=False, status=SUCCEEDED)
    html = client.get(url, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "排班已生成" in html
    assert "修补完成" not in html
