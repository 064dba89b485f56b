"""Flask-Babel is given the chosen locale as a Locale made once per identifier
(scheduler.i18n.selected_locale): the same choice as select_locale, parsed once per process
instead of on every request."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from babel import Locale
from flask import Flask, session
from flask_babel import get_locale

from scheduler.extensions import db
from scheduler.i18n import select_locale, selected_locale
from scheduler.models import User
from tests.fixtures.auth import login


@pytest.mark.parametrize("header", ["zh-CN,zh;q=0.9", "en-US,en;q=0.9", "fr", ""])
def test_the_same_choice_as_select_locale_made_once(app: Flask, header: str) -> None:
    chosen = []
    for _ in range(2):
        with app.test_request_context("/", headers={"Accept-Language": header}):
            assert selected_locale() == Locale.parse(select_locale())
            assert get_locale() is selected_locale()
            chosen.append(get_locale())
    assert chosen[0] is chosen[1]


def test_the_session_s_choice_wins(app: Flask) -> None:
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        session["lang"] = "zh_Hans"
        assert str(get_locale()) == "zh_Hans"


def test_a_logged_in_user_s_language_is_used(
    app: Flask, make_volunteer: Callable[..., User]
) -> None:
    user = make_volunteer()
    user.locale = "zh_Hans"
    db.session.commit()
    client = app.test_client()
    login(client, user)
    page = client.get("/me", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="zh-Hans">' in page
