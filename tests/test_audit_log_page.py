"""The audit log page: coordinators and admins filter it by actor, action, object type and
date range, page through it, and export the selection to CSV, which is itself recorded."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import ADMIN, AuditEntry, User
from scheduler.models.base import set_clock
from scheduler.services import audit
from tests.fixtures.auth import signed_in


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, app_factory: Callable[..., Flask]) -> Iterator[Flask]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    flask_app = app_factory(url)
    with flask_app.app_context():
        yield flask_app


def _log(action: str, actor: User | None, when: datetime, summary: str = "x", **kw: object) -> None:
    set_clock(when)
    audit.record(
        action,
        object_type=str(kw.pop("object_type", "period")),
        object_id=1,
        summary=summary,
        actor=actor,
        **kw,  # type: ignore[arg-type]  # the test's own keyword values
    )
    db.session.commit()


@pytest.fixture
def logged(app: Flask, coordinator: User, make_user: Callable[..., User]) -> dict[str, User]:
    boss = make_user(ADMIN, name="管理员")
    _log(audit.PERIOD_CREATE, coordinator, datetime(2026, 12, 1, 2, tzinfo=UTC), "第一期")
    _log(
        audit.SITE_UPDATE,
        coordinator,
        datetime(2026, 12, 3, 2, tzinfo=UTC),
        "小海高速卡口",
        object_type="site",
    )
    _log(
        audit.ROLE_CHANGE,
        boss,
        datetime(2026, 12, 5, 2, tzinfo=UTC),
        "张三 (138****5678)",
        object_type="user",
        before={"role": "volunteer"},
        after={"role": "coordinator"},
    )
    # 23:30 in Shanghai on Dec 6 is 15:30 UTC: a local-day filter for Dec 6 includes it.
    _log(audit.PERIOD_LOCK, None, datetime(2026, 12, 6, 15, 30, tzinfo=UTC), "第一期")
    return {"coordinator": coordinator, "admin": boss}


def _summaries(page: str) -> list[str]:
    return [s for s in ("第一期", "小海高速卡口", "张三 (138****5678)") if s in page]


def test_filters_by_actor_action_object_and_local_dates(
    app: Flask, logged: dict[str, User]
) -> None:
    client = signed_in(app, logged["coordinator"])
    everything = client.get("/coordinator/audit").get_data(as_text=True)
    assert "4 entries" in everything
    assert "138****5678" in everything
    by_admin = client.get(f"/coordinator/audit?actor={logged['admin'].id}").get_data(as_text=True)
    assert "1 entry" in by_admin
    assert "张三 (138****5678)" in by_admin
    assert "<del>volunteer</del> → <ins>coordinator</ins>" in by_admin
    by_action = client.get("/coordinator/audit?action=site.update").get_data(as_text=True)
    assert "1 entry" in by_action
    assert "小海高速卡口" in by_action
    by_object = client.get("/coordinator/audit?object_type=period").get_data(as_text=True)
    assert "2 entries" in by_object
    one_day = client.get("/coordinator/audit?since=2026-12-06&until=2026-12-06").get_data(
        as_text=True
    )
    assert "1 entry" in one_day
    assert "system" in one_day
    span = client.get("/coordinator/audit?since=2026-12-02&until=2026-12-05").get_data(as_text=True)
    assert "2 entries" in span


def test_bad_filters_are_ignored_not_a_500(app: Flask, logged: dict[str, User]) -> None:
    client = signed_in(app, logged["coordinator"])
    for query in (
        "actor=abc",
        "actor=99999999999",
        "action=nonsense",
        "since=2026-13-01",
        "page=-3",
        "since=2026-12-05&until=2026-12-01",
    ):
        response = client.get(f"/coordinator/audit?{query}")
        assert response.status_code == 200, query


def test_pages_of_fifty(app: Flask, coordinator: User) -> None:
    for n in range(55):
        _log(
            audit.PERIOD_UPDATE, coordinator, datetime(2026, 12, 1, 0, n, tzinfo=UTC), f"期{n:02d}"
        )
    client = signed_in(app, coordinator)
    first = client.get("/coordinator/audit").get_data(as_text=True)
    assert "Page 1 of 2" in first
    assert "期54" in first
    assert "期04" not in first
    second = client.get("/coordinator/audit?page=2").get_data(as_text=True)
    assert "期04" in second
    assert "期54" not in second


def test_csv_export_has_the_selection_and_is_itself_recorded(
    app: Flask, logged: dict[str, User]
) -> None:
    client = signed_in(app, logged["coordinator"])
    response = client.get("/coordinator/audit.csv?object_type=user")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert table[0] == list(audit.CSV_HEADER)
    assert [row[6] for row in table[1:]] == [audit.ROLE_CHANGE]
    assert table[1][9] == "张三 (138****5678)"
    assert '"role": ["volunteer", "coordinator"]' in table[1][10]
    exported = db.session.scalars(select(AuditEntry).where(AuditEntry.action == audit.EXPORT)).all()
    assert len(exported) == 1
    assert exported[0].object_type == "audit_log"
    assert exported[0].actor_id == logged["coordinator"].id
    assert exported[0].details == {"object_type": "user"}
    # Unfiltered, the file includes the row of its own export.
    everything = client.get("/coordinator/audit.csv").get_data().decode("utf-8-sig")
    assert everything.count(audit.EXPORT) == 2
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 6


def test_volunteers_and_leads_cannot_see_it(
    app: Flask, make_user: Callable[..., User], logged: dict[str, User]
) -> None:
    for role in ("volunteer", "site_lead"):
        client = signed_in(app, make_user(role))
        assert client.get("/coordinator/audit").status_code == 403
        assert client.get("/coordinator/audit.csv").status_code == 403
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 4
    admin_page = signed_in(app, logged["admin"]).get("/coordinator/audit")
    assert admin_page.status_code == 200


def test_the_page_in_chinese(app: Flask, logged: dict[str, User]) -> None:
    client = signed_in(app, logged["coordinator"])
    page = client.get("/coordinator/audit", headers={"Accept-Language": "zh-CN"}).get_data(
        as_text=True
    )
    assert "操作日志" in page
    assert "更改账号角色" in page
    assert "4 条记录" in page
