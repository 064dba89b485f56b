"""Moving an account to another mobile number (issue 9, item 7): the number is the login, so
the change needs the current password, refused attempts are rate limited per account, and the
refusal never tells whether a number is registered, imported or free-but-mistyped."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from scheduler.extensions import db
from scheduler.models import User
from scheduler.models.accounts import IMPORTED_PASSWORD_HASH
from tests.fixtures.auth import PASSWORD, login, without_csrf_tokens
from tests.test_volunteer import profile_form

MINE = "13800000001"
REGISTERED = "13900000002"
IMPORTED = "13900000003"
FREE = "13900000004"
UNAVAILABLE = "This mobile number cannot be used for your account."


@pytest.fixture
def me(app: Flask, make_volunteer: Callable[..., User]) -> User:
    make_volunteer(phone=REGISTERED)
    imported = make_volunteer(phone=IMPORTED)
    imported.password_hash = IMPORTED_PASSWORD_HASH
    db.session.commit()
    return make_volunteer(phone=MINE, name="本人")


def move(client: FlaskClient, phone: str, password: str | None) -> tuple[int, str]:
    data = profile_form(name="本人", phone=phone)
    if password is not None:
        data["current_password"] = password
    response = client.post("/me/profile", data=data)
    return response.status_code, response.get_data(as_text=True)


def phone_of(user_id: int) -> str:
    db.session.expire_all()
    user = db.session.get(User, user_id)
    assert user is not None
    return user.phone


def test_a_new_number_needs_the_current_password(client: FlaskClient, me: User) -> None:
    login(client, me)
    for password in (None, "", "not-my-password"):
        status, html = move(client, FREE, password)
        assert status == 422
        assert "Enter your current password to change your mobile number." in html
        assert phone_of(me.id) == "+86" + MINE
    status, _ = move(client, FREE, PASSWORD)
    assert status == 302
    assert phone_of(me.id) == "+86" + FREE


def test_other_edits_need_no_password(client: FlaskClient, me: User) -> None:
    login(client, me)
    response = client.post("/me/profile", data=profile_form(name="新名字", phone=f"+86 {MINE}"))
    assert response.status_code == 302


@pytest.mark.parametrize("taken", [REGISTERED, IMPORTED])
def test_a_taken_number_is_refused_without_saying_why(
    client: FlaskClient, me: User, taken: str
) -> None:
    login(client, me)
    status, html = move(client, taken, PASSWORD)
    assert status == 422
    assert UNAVAILABLE in html
    assert "registered" not in html
    assert "imported" not in html.lower()
    assert phone_of(me.id) == "+86" + MINE


def test_registered_and_imported_numbers_get_the_same_answer(client: FlaskClient, me: User) -> None:
    login(client, me)
    _, registered = move(client, REGISTERED, PASSWORD)
    _, imported = move(client, IMPORTED, PASSWORD)

    def strip(html: str) -> str:
        return without_csrf_tokens(html.replace(REGISTERED, "N").replace(IMPORTED, "N"))

    assert strip(registered) == strip(imported)


def test_refused_changes_are_rate_limited_per_account(
    app_factory: Callable[..., Flask], make_volunteer: Callable[..., User]
) -> None:
    app = app_factory(RATELIMIT_ENABLED=True, PHONE_CHANGE_RATE_LIMIT="3 per hour")
    with app.app_context():
        make_volunteer(phone=REGISTERED)
        user = make_volunteer(phone=MINE, name="本人")
        other = make_volunteer(phone="13800000009", name="同事")
        client = app.test_client()
        login(client, user)
        for password in ("wrong-1", PASSWORD, "wrong-2"):  # wrong passwords and a taken number
            assert move(client, REGISTERED, password)[0] == 422
        # The fourth attempt is refused before anything is checked, even a free number.
        status, html = move(client, FREE, PASSWORD)
        assert status == 429
        assert "Too many attempts" in html
        assert phone_of(user.id) == "+86" + MINE
        # Editing the rest of the profile still works, and so does a colleague's change.
        assert (
            client.post("/me/profile", data=profile_form(name="改名", phone=MINE)).status_code
            == 302
        )
        colleague = app.test_client()
        login(colleague, other)
        data = profile_form(name="同事", phone=FREE, current_password=PASSWORD)
        assert colleague.post("/me/profile", data=data).status_code == 302
