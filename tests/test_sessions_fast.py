"""scheduler.sessions' session cookie: cheaper to write and read, and the very cookie Flask's
own SecureCookieSessionInterface writes and reads (same JSON, same key, salt, signature),
including the values Flask tags (the flashed messages' tuples, Markup, bytes, datetimes) and
a cookie signed with a fallback key."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from markupsafe import Markup

from scheduler.sessions import SigningOnceSessionInterface

SESSIONS: list[dict[str, Any]] = [
    {},
    {"csrf_token": "abc123", "_user_id": "17", "_fresh": True, "_id": "x" * 64, "pwv": "0f"},
    {"_flashes": [("success", "欢迎！")], "csrf_token": "t", "lang": "en"},
    {"n": 3, "f": 1.5, "none": None, "nested": {"a": [1, (2, 3)], "b": b"\x00\xff"}},
    {"markup": Markup("<b>x</b>"), "when": datetime(2026, 12, 6, 13, 0, tzinfo=UTC)},
    {"u": uuid.UUID(int=5), "list": ["a", {" t": ["b"]}]},
    {" t": ["looks", "like", "a", "tag"]},  # one key that is a tag's: Flask escapes it
    {" t": "x", "other": 1},
]


def _serializers(app: Flask) -> tuple[Any, Any]:
    ours = SigningOnceSessionInterface().get_signing_serializer(app)
    theirs = SecureCookieSessionInterface().get_signing_serializer(app)
    assert ours is not None
    assert theirs is not None
    return ours, theirs


@pytest.mark.parametrize("data", SESSIONS)
def test_same_cookie_as_flask(app: Flask, data: dict[str, Any], monkeypatch: Any) -> None:
    monkeypatch.setattr(time, "time", lambda: 1_800_000_000.0)
    ours, theirs = _serializers(app)
    with app.app_context():
        cookie = ours.dumps(data)
        assert cookie == theirs.dumps(data)
        assert ours.loads(cookie) == data
        assert theirs.loads(cookie) == data


def test_fallback_keys_and_a_wrong_key(app: Flask) -> None:
    with app.app_context():
        old_cookie = _serializers(app)[1].dumps({"_user_id": "3"})
        old_key = app.secret_key
        app.secret_key = "a new key"
        app.config["SECRET_KEY_FALLBACKS"] = [old_key]
        ours, theirs = _serializers(app)
        assert ours.loads(old_cookie) == {"_user_id": "3"}
        new_cookie = ours.dumps({"_user_id": "4"})
        assert theirs.loads(new_cookie) == {"_user_id": "4"}
        app.config["SECRET_KEY_FALLBACKS"] = []
        ours, _ = _serializers(app)
        with pytest.raises(Exception, match="Signature"):
            ours.loads(old_cookie)


def test_the_app_uses_it(client: Any) -> None:
    assert isinstance(client.application.session_interface, SigningOnceSessionInterface)
    response = client.get("/register")
    assert "session=" in response.headers["Set-Cookie"]
    assert client.get("/register").status_code == 200
