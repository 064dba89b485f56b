"""What sign-up no longer asks follows on the profile: the emergency contact is optional (but
half of one is refused), and /me reminds until it and the skills are there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Skill, User
from tests.test_auth import PHONE
from tests.test_volunteer import profile_form


def test_profile_saves_without_an_emergency_contact(
    login_as: Callable[..., FlaskClient], make_volunteer: Callable[..., User]
) -> None:
    user = make_volunteer(name="周一", phone=PHONE)
    response = login_as(user).post(
        "/me/profile", data=profile_form(name="周一", emergency_name="", emergency_phone="")
    )
    assert response.status_code == 302
    db.session.refresh(user.volunteer)
    assert user.volunteer.emergency_name is None
    assert user.volunteer.emergency_phone is None


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"emergency_phone": ""}, "emergency_phone", "Add the emergency contact&#39;s mobile"),
        ({"emergency_name": ""}, "emergency_name", "Emergency contact name must be 1 to 50"),
        ({"emergency_phone": "123"}, "emergency_phone", "Not a valid Chinese mobile number."),
    ],
)
def test_half_an_emergency_contact_is_refused(
    login_as: Callable[..., FlaskClient],
    make_volunteer: Callable[..., User],
    overrides: dict[str, Any],
    field: str,
    message: str,
) -> None:
    user = make_volunteer(name="周一", phone=PHONE)
    response = login_as(user).post(
        "/me/profile", data=profile_form(**overrides), headers={"Accept-Language": "en"}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert f'id="{field}-error"' in html
    db.session.refresh(user.volunteer)
    assert user.volunteer.emergency_phone is None


def test_me_reminds_until_emergency_contact_and_skills_are_there(
    login_as: Callable[..., FlaskClient], make_volunteer: Callable[..., User]
) -> None:
    user = make_volunteer(name="周一", phone=PHONE)
    client = login_as(user)
    zh = {"Accept-Language": "zh-CN"}
    html = client.get("/me", headers=zh).get_data(as_text=True)
    assert 'id="profile-reminder"' in html
    assert "紧急联系人和技能" in html

    driving = db.session.scalar(select(Skill.id).where(Skill.code == "driving"))
    client.post("/me/profile", data=profile_form(emergency_phone="", emergency_name=""))
    client.post("/me/profile", data=profile_form(skills=[str(driving)]))
    html = client.get("/me", headers=zh).get_data(as_text=True)
    assert 'id="profile-reminder"' not in html
