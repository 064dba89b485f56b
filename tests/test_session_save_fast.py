"""SigningOnceSessionInterface.save_session writes what Flask's own save_session writes: the
same Set-Cookie (or none, or the deletion of an emptied session) and the same Vary header,
whether the response had a Vary already or not."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from flask import Flask, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from scheduler.sessions import SigningOnceSessionInterface


def _session(data: dict[str, Any], *, accessed: bool, modified: bool) -> SecureCookieSession:
    session = SecureCookieSession(data)
    session.accessed, session.modified = accessed, modified
    return session


CASES = [
    # (session data, accessed, modified, the response's Vary before)
    ({"csrf_token": "abc", "_user_id": "7"}, True, True, None),
    ({"csrf_token": "abc", "_user_id": "7"}, True, True, "Accept-Encoding"),
    ({"csrf_token": "abc"}, True, True, "Accept-Encoding, Cookie"),
    ({"csrf_token": "abc"}, True, False, "Accept-Encoding"),
    ({"csrf_token": "abc"}, True, False, None),
    ({"csrf_token": "abc"}, False, False, "Accept-Encoding"),
    ({"_flashes": [("success", "欢迎！")], "_id": "x" * 128}, True, True, "Origin"),
    ({}, True, True, None),  # emptied: the cookie is deleted
    ({}, True, False, "Accept-Encoding"),
    ({}, False, False, None),
]


@pytest.mark.parametrize(("data", "accessed", "modified", "vary"), CASES)
def test_same_headers_as_flask(
    app: Flask,
    data: dict[str, Any],
    accessed: bool,
    modified: bool,
    vary: str | None,
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(time, "time", lambda: 1_800_000_000.0)
    written = []
    for interface in (SigningOnceSessionInterface(), SecureCookieSessionInterface()):
        response = Response("page")
        if vary is not None:
            response.headers["Vary"] = vary
        with app.test_request_context():
            interface.save_session(
                app, _session(dict(data), accessed=accessed, modified=modified), response
            )
        written.append((response.headers.getlist("Set-Cookie"), response.headers.get("Vary")))
    assert written[0] == written[1]


def test_permanent_session_is_refreshed_like_flask(app: Flask, monkeypatch: Any) -> None:
    monkeypatch.setattr(time, "time", lambda: 1_800_000_000.0)
    written = []
    for interface in (SigningOnceSessionInterface(), SecureCookieSessionInterface()):
        session = _session({"_user_id": "7"}, accessed=False, modified=False)
        session.permanent = True
        session.modified = False
        response = Response("page")
        with app.test_request_context():
            interface.save_session(app, session, response)
        (cookie,) = response.headers.getlist("Set-Cookie")
        # Expires comes from the clock's datetime, which may tick between the two
        assert "Expires=" in cookie
        cookie = re.sub(r"Expires=[^;]*; ", "", cookie)
        written.append((cookie, response.headers.get("Vary")))
    assert written[0] == written[1]
