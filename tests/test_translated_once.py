"""labels.TranslatedOnce: shift names translated once per rendering, in that request's
language, and `code in` true for every code before any is read (the inbox item asks it)."""

from __future__ import annotations

import contextvars

from flask import Flask, render_template_string

from scheduler.labels import SHIFT_LABELS, TranslatedOnce


def test_each_rendering_in_its_own_language(app: Flask) -> None:
    def render(language: str) -> str:
        with app.test_request_context("/", headers={"Accept-Language": language}):
            names = TranslatedOnce(SHIFT_LABELS)
            assert "day" in names
            assert "lunch" not in names
            assert names["day"] == str(SHIFT_LABELS["day"])
            return render_template_string(
                "{% if 'night' in n %}{{ n['night'] }}|{{ n['day'] }}|{{ n['day'] }}{% endif %}",
                n=TranslatedOnce(SHIFT_LABELS),
            )

    # Each in a fresh context, as a server runs requests.
    english, chinese = (contextvars.Context().run(render, lang) for lang in ("en", "zh-CN"))
    assert english == "Night|Day|Day"
    assert chinese == "夜班|白班|白班"


def test_it_reads_as_the_mapping_it_stands_for(app: Flask) -> None:
    """Every way a template can read a mapping answers as SHIFT_LABELS would (review, session
    6: a dict that filled itself only on [] answered .get() with None and iterated nothing)."""
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        names = TranslatedOnce(SHIFT_LABELS)
        assert names.get("day") == "Day"
        assert names.get("lunch") is None
        assert len(names) == len(SHIFT_LABELS)
        assert dict(names.items()) == {code: str(label) for code, label in SHIFT_LABELS.items()}
        assert render_template_string("{{ n.get('night') }}", n=names) == "Night"
