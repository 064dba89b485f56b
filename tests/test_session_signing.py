"""The session cookie is signed by a serializer built once per secret key (not on every
request), and is the cookie Flask's own session interface writes and reads."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient

from scheduler.models import User
from scheduler.sessions import SigningOnceSessionInterface
from tests.fixtures.auth import login


def session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return str(cookie.value)


def test_built_once_per_secret_key(app: Flask) -> None:
    interface = app.session_interface
    assert isinstance(interface, SigningOnceSessionInterface)
    first = interface.get_signing_serializer(app)
    assert first is not None
    assert interface.get_signing_serializer(app) is first
    app.secret_key = "another secret"
    second = interface.get_signing_serializer(app)
    assert second is not first
    assert second is not None
    assert second.loads(second.dumps({"a": 1})) == {"a": 1}


def test_flask_reads_our_cookie_and_a_new_key_ends_the_session(
    app: Flask, make_volunteer: Callable[..., User]
) -> None:
    volunteer = make_volunteer()
    client = app.test_client()
    login(client, volunteer)
    assert client.get("/me").status_code == 200
    flask_own = SecureCookieSessionInterface().get_signing_serializer(app)
    assert flask_own is not None
    assert flask_own.loads(session_cookie(client))["_user_id"] == str(volunteer.id)
    # The old key as a fallback keeps the session; without it the session ends.
    old = app.secret_key
    app.secret_key = "rotated"
    app.config["SECRET_KEY_FALLBACKS"] = [old]
    assert client.get("/me").status_code == 200
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert client.get("/me").status_code == 302
