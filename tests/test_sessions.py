"""A password change or reset ends every other session of the account (issue 9, item 8): a
phone left logged in somewhere, or a session someone else took over, stops working the
moment the password changes; the session that made the change stays logged in."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from scheduler.extensions import db
from scheduler.models import ADMIN, User
from tests.fixtures.auth import PASSWORD, login

NEW = "a-new-password-42"


def logged_in_client(app: Flask, user: User, password: str = PASSWORD) -> FlaskClient:
    client = app.test_client()
    login(client, user, password)
    assert client.get("/me/password").status_code == 200
    return client


def is_logged_in(client: FlaskClient) -> bool:
    return client.get("/me/password").status_code == 200


def test_changing_the_password_ends_the_other_sessions_only(
    app: Flask, make_volunteer: Callable[..., User]
) -> None:
    user = make_volunteer()
    phone, laptop = logged_in_client(app, user), logged_in_client(app, user)
    response = laptop.post(
        "/me/password", data={"current": PASSWORD, "password": NEW, "confirm": NEW}
    )
    assert response.status_code == 302
    assert is_logged_in(laptop)  # the session that changed it stays
    assert not is_logged_in(phone)  # the other one is logged out
    assert phone.get("/me").headers["Location"].startswith("/login")
    # The new password opens a new session; the old one no longer does.
    assert is_logged_in(logged_in_client(app, user, NEW))


def test_a_failed_change_ends_nothing(app: Flask, make_volunteer: Callable[..., User]) -> None:
    user = make_volunteer()
    phone, laptop = logged_in_client(app, user), logged_in_client(app, user)
    response = laptop.post(
        "/me/password", data={"current": "wrong", "password": NEW, "confirm": NEW}
    )
    assert response.status_code == 422
    assert is_logged_in(phone)
    assert is_logged_in(laptop)


def test_an_admin_reset_ends_every_session_of_the_account(
    app: Flask, make_user: Callable[..., User], make_volunteer: Callable[..., User]
) -> None:
    admin = make_user(ADMIN)
    user = make_volunteer()
    victim = logged_in_client(app, user)
    admin_client = logged_in_client(app, admin)
    response = admin_client.post(
        f"/admin/accounts/{user.id}/password", data={"password": NEW, "confirm": NEW}
    )
    assert response.status_code == 302
    assert not is_logged_in(victim)
    assert is_logged_in(admin_client)


def test_an_admin_resetting_their_own_password_stays_logged_in(
    app: Flask, make_user: Callable[..., User]
) -> None:
    admin = make_user(ADMIN)
    here, elsewhere = logged_in_client(app, admin), logged_in_client(app, admin)
    response = here.post(
        f"/admin/accounts/{admin.id}/password", data={"password": NEW, "confirm": NEW}
    )
    assert response.status_code == 302
    assert is_logged_in(here)
    assert not is_logged_in(elsewhere)


def test_a_password_changed_outside_a_request_ends_the_sessions(
    app: Flask, make_volunteer: Callable[..., User]
) -> None:
    """E.g. `flask create-user` or a script: the rule lives in the user loader, not the views."""
    user = make_volunteer()
    client = logged_in_client(app, user)
    user.set_password(NEW)
    db.session.commit()
    assert not is_logged_in(client)
