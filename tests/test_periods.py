"""Planning periods: create, edit, open/close, and invalid dates or sites writing nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import PlanningPeriod, Site, User
from scheduler.models.planning import MAX_PERIOD_DAYS
from tests.fixtures.auth import login


@pytest.fixture
def staff(login_as: Callable[..., FlaskClient], coordinator: User) -> FlaskClient:
    return login_as(coordinator)


def period_count() -> int:
    return db.session.scalar(select(func.count(PlanningPeriod.id))) or 0


def test_create_period_with_sites(staff: FlaskClient, make_site: Callable[..., Site]) -> None:
    north = make_site(name="南通北高速卡口")
    make_site(name="小海高速卡口")
    response = staff.post(
        "/coordinator/periods/new",
        data={
            "name": "四月第二周",
            "start_date": "2026-04-06",
            "end_date": "2026-04-12",
            "site_ids": [str(north.id)],
        },
    )
    assert response.status_code == 302
    period = db.session.scalar(select(PlanningPeriod))
    assert period.name == "四月第二周"
    assert (period.start_date, period.end_date) == (date(2026, 4, 6), date(2026, 4, 12))
    assert [s.name for s in period.sites] == ["南通北高速卡口"]
    assert period.is_open
    listing = staff.get("/coordinator/periods").get_data(as_text=True)
    assert "四月第二周" in listing
    assert "2026-04-06 – 2026-04-12" in listing


def test_edit_period_and_keep_an_archived_site(
    staff: FlaskClient,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
) -> None:
    old = make_site(name="如皋港出口")
    new = make_site(name="S28如东出口")
    period = make_period(sites=[old])
    old.archived_at = datetime(2026, 1, 1, tzinfo=UTC)
    db.session.commit()
    page = staff.get(f"/coordinator/periods/{period.id}/edit").get_data(as_text=True)
    assert f'value="{old.id}" checked' in page  # still offered: the period covers it
    response = staff.post(
        f"/coordinator/periods/{period.id}/edit",
        data={
            "name": "改期",
            "start_date": "2026-12-01",
            "end_date": "2026-12-01",
            "site_ids": [str(old.id), str(new.id)],
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    period = db.session.get(PlanningPeriod, period.id)
    assert period.name == "改期"
    assert period.start_date == period.end_date == date(2026, 12, 1)
    assert {s.id for s in period.sites} == {old.id, new.id}


def test_longest_period_is_accepted(staff: FlaskClient) -> None:
    start = date(2026, 1, 1)
    end = date.fromordinal(start.toordinal() + MAX_PERIOD_DAYS - 1)
    response = staff.post(
        "/coordinator/periods/new",
        data={"name": "长期", "start_date": start.isoformat(), "end_date": end.isoformat()},
    )
    assert response.status_code == 302
    assert period_count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"end_date": "2026-04-05"}, "end_date", "The end date must not be before the start date."),
        ({"end_date": "2026-07-07"}, "end_date", "at most 92 days"),
        ({"name": ""}, "name", "Enter a name."),
        ({"name": "期" * 101}, "name", "At most 100 characters."),
        ({"start_date": "2026-02-30"}, "start_date", None),
        ({"start_date": ""}, "start_date", "Enter a date."),
        ({"site_ids": ["99999"]}, "site_ids", None),
        ({"site_ids": ["abc"]}, "site_ids", None),
    ],
)
def test_invalid_period_rerenders_and_writes_nothing(
    staff: FlaskClient, overrides: dict[str, Any], field: str, message: str | None
) -> None:
    data = {"name": "四月", "start_date": "2026-04-06", "end_date": "2026-04-12", **overrides}
    response = staff.post("/coordinator/periods/new", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="field-error"' in html
    if message:
        assert message in html
    assert period_count() == 0


def test_archived_site_cannot_be_added_to_a_new_period(
    staff: FlaskClient, make_site: Callable[..., Site]
) -> None:
    site = make_site(name="旧卡口", archived_at=datetime(2026, 1, 1, tzinfo=UTC))
    response = staff.post(
        "/coordinator/periods/new",
        data={
            "name": "四月",
            "start_date": "2026-04-06",
            "end_date": "2026-04-12",
            "site_ids": [str(site.id)],
        },
    )
    assert response.status_code == 422
    assert period_count() == 0


def test_open_and_close(staff: FlaskClient, make_period: Callable[..., PlanningPeriod]) -> None:
    period = make_period(is_open=True)
    response = staff.post(f"/coordinator/periods/{period.id}/close", follow_redirects=True)
    assert "is closed for availability" in response.get_data(as_text=True)
    db.session.refresh(period)
    assert not period.is_open
    assert staff.post(f"/coordinator/periods/{period.id}/open").status_code == 302
    db.session.refresh(period)
    assert period.is_open
    assert staff.post("/coordinator/periods/9999/open").status_code == 404


@pytest.mark.parametrize("role", ["volunteer", "site_lead"])
def test_open_close_forbidden_to_non_staff(
    client: FlaskClient,
    make_user: Callable[..., User],
    make_period: Callable[..., PlanningPeriod],
    role: str,
) -> None:
    period = make_period(is_open=True)
    login(client, make_user(role))
    assert client.post(f"/coordinator/periods/{period.id}/close").status_code == 403
    db.session.refresh(period)
    assert period.is_open
