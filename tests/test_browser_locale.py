"""The browser's language (scheduler.i18n.browser_locale, parsed once per distinct header):
the same choice as reading werkzeug's request.accept_languages in quality order."""

from __future__ import annotations

import pytest
from flask import Flask, request

from scheduler.i18n import browser_locale, locale_for_tag, select_locale

HEADERS = [
    "",
    "zh-CN,zh;q=0.9",
    "en-US,en;q=0.9,zh-CN;q=0.8",
    "fr-FR,fr;q=0.9,en;q=0.5,zh;q=0.7",
    "de,fr;q=0.5",
    "zh-Hant-TW;q=0.2, en;q=0.1",
    "en;q=0, zh;q=0.3",
    "*",
    "garbage;;q=x,,en",
]


@pytest.mark.parametrize("header", HEADERS)
def test_the_same_choice_as_werkzeugs_parse(app: Flask, header: str) -> None:
    with app.test_request_context("/", headers={"Accept-Language": header}):
        expected = next(
            (locale_for_tag(t) for t, _q in request.accept_languages if locale_for_tag(t)), None
        )
        assert browser_locale(header) == expected
        assert select_locale() == (expected or app.config["BABEL_DEFAULT_LOCALE"])
