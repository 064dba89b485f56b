"""A period's coordinator on duty: whom volunteers call about a shift that has no site lead.
New periods default to the coordinator who sets them up; only active staff can be chosen."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import PlanningPeriod, User
from scheduler.services.accounts import create_account


def period_form(**overrides: str) -> dict[str, str]:
    return {
        "name": "十二月第一期",
        "start_date": "2026-12-07",
        "end_date": "2026-12-20",
        **overrides,
    }


def test_new_period_defaults_to_its_creator_and_saves_the_choice(
    login_as: Callable[..., FlaskClient], coordinator: User
) -> None:
    other = create_account(
        name="钱值班", phone="13800138008", password="password-1", role="coordinator"
    )
    client = login_as(coordinator)
    html = client.get("/coordinator/periods/new").get_data(as_text=True)
    assert f'<option selected value="{coordinator.id}">' in html
    assert "钱值班" in html

    response = client.post("/coordinator/periods/new", data=period_form(contact_id=str(other.id)))
    assert response.status_code == 302
    period = db.session.scalar(select(PlanningPeriod))
    assert period is not None
    assert period.contact_id == other.id

    # Editing shows the choice, and "not set" clears it.
    html = client.get(f"/coordinator/periods/{period.id}/edit").get_data(as_text=True)
    assert f'<option selected value="{other.id}">' in html
    client.post(f"/coordinator/periods/{period.id}/edit", data=period_form(contact_id="0"))
    db.session.refresh(period)
    assert period.contact_id is None


def test_a_volunteer_or_an_inactive_coordinator_cannot_be_on_duty(
    login_as: Callable[..., FlaskClient], coordinator: User, make_volunteer: Callable[..., User]
) -> None:
    volunteer = make_volunteer()
    gone = create_account(
        name="离职", phone="13800138007", password="password-1", role="coordinator"
    )
    gone.active = False
    db.session.commit()
    client = login_as(coordinator)
    for user in (volunteer, gone):
        response = client.post(
            "/coordinator/periods/new",
            data=period_form(contact_id=str(user.id)),
            headers={"Accept-Language": "en"},
        )
        assert response.status_code in (400, 422)
        assert "Not a valid choice" in response.get_data(as_text=True)
    assert db.session.scalar(select(PlanningPeriod)) is None


def test_deleting_the_contact_account_keeps_the_period(app: Flask, coordinator: User) -> None:
    period = PlanningPeriod(name="期", start_date=date(2026, 12, 7), end_date=date(2026, 12, 20))
    period.contact_id = coordinator.id
    db.session.add(period)
    db.session.commit()
    db.session.delete(coordinator)
    db.session.commit()
    db.session.refresh(period)
    assert period.contact_id is None
