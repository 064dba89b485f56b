"""scheduler.i18n.lazy_gettext / gettext: the same text as Flask-Babel's, found through the
request's remembered catalogue (forms translate their labels on every use)."""

from __future__ import annotations

from typing import Any

import flask_babel
import pytest
from flask import Flask
from flask_babel import LazyString, force_locale

from scheduler.i18n import gettext, lazy_gettext

CASES = [
    ("Password", {}),
    ("Password must have at least %(n)d characters.", {"n": 8}),
    ("a string no catalogue has", {}),
]


@pytest.mark.parametrize("language", ["zh-CN,zh;q=0.9", "en-GB,en;q=0.8"])
@pytest.mark.parametrize(("text", "variables"), CASES)
def test_same_as_flask_babel(
    app: Flask, language: str, text: str, variables: dict[str, Any]
) -> None:
    with app.app_context(), app.test_request_context(headers={"Accept-Language": language}):
        ours = lazy_gettext(text, **variables)
        assert isinstance(ours, LazyString)
        assert str(ours) == str(flask_babel.lazy_gettext(text, **variables))
        assert gettext(text, **variables) == flask_babel.gettext(text, **variables)


def test_follows_the_request_locale_and_force_locale(app: Flask) -> None:
    label = lazy_gettext("Password")  # made once, like a form class's label
    # Each request has its own app context (and g), as under a server.
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert str(label) == "密码"
        with force_locale("en"):
            assert str(label) == "Password"
        assert str(label) == "密码"
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}):
        assert str(label) == "Password"


def test_outside_a_request_the_text_itself(app: Flask) -> None:
    assert str(lazy_gettext("Password must have at least %(n)d characters.", n=8)) in (
        "Password must have at least 8 characters.",
        "密码至少需要 8 个字符。",  # the app context's default locale
    )


def test_registration_page_labels_translated(client: Any) -> None:
    page = client.get("/register", headers={"Accept-Language": "zh-CN"}).text
    assert "密码" in page
    page = client.get("/register", headers={"Accept-Language": "en"}).text
    assert ">Password<" in page
