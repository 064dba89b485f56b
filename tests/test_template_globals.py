"""Templates' url_for and csrf_token (scheduler.template_globals) answer what Flask's url_for and
Flask-WTF's generate_csrf answer, under any script root, for every kind of call."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, render_template_string, url_for
from flask_wtf.csrf import generate_csrf

from scheduler.template_globals import csrf_token, template_url_for

CALLS: list[tuple[str, dict[str, Any]]] = [
    ("volunteer.me", {}),
    ("main.index", {}),
    ("volunteer.shift_confirm", {"assignment_id": 7}),
    ("volunteer.shift_confirm", {"assignment_id": 2147483647}),
    ("volunteer.shift_cancel", {"assignment_id": 12}),
    ("volunteer.availability", {"period": 3}),
    ("volunteer.availability", {"period": 3, "week": "2026-12-07"}),
    ("checkin.site_day", {"site_id": 4, "day": "2026-12-07", "_anchor": "shift-day"}),
    ("volunteer.shift_confirm", {"assignment_id": 7, "_external": True}),
    ("static", {"filename": "css/muster.css"}),
    ("static", {"filename": "vendor/pico-2.1.1/pico.min.css"}),
    ("volunteer.inbox", {"page": 2, "unread": True}),
    ("static", {"filename": "js/keep-draft.js"}),
    ("static", {"filename": "no/such file.css"}),
    ("static", {"filename": "css/muster.css", "v": "old"}),
]


@pytest.mark.parametrize("script_root", ["", "/muster", "/a{b}"])  # braces: review, session 6
def test_the_same_urls_as_flask(app: Flask, script_root: str) -> None:
    for _round in range(2):  # the first builds the patterns, the second uses them
        with app.test_request_context("/", base_url=f"http://localhost{script_root}/"):
            for endpoint, values in CALLS:
                assert template_url_for(endpoint, **values) == url_for(endpoint, **values)
            for n in (1, 10, 2_000_000_000, 2_000_000_001):
                expected = url_for("volunteer.shift_confirm", assignment_id=n)
                assert template_url_for("volunteer.shift_confirm", assignment_id=n) == expected
                assert expected.startswith(script_root + "/me/")


def test_templates_use_them(app: Flask) -> None:
    with app.test_request_context("/"):
        used = render_template_string(
            "{{ [url_for, csrf_token] == ours }}", ours=[template_url_for, csrf_token]
        )
        assert used == "True"
        page = render_template_string(
            "{{ url_for('volunteer.shift_cancel', assignment_id=5) }}|{{ csrf_token() }}"
        )
        assert page == f"{url_for('volunteer.shift_cancel', assignment_id=5)}|{generate_csrf()}"


def test_csrf_token_is_flask_wtfs_token_of_the_request(app: Flask) -> None:
    with app.test_request_context("/"):
        first = csrf_token()
        assert first == generate_csrf() == csrf_token()
    with app.test_request_context("/"):
        assert csrf_token() == generate_csrf()


def test_a_changed_static_file_gets_its_new_url(app: Flask, tmp_path: Any) -> None:
    folder = tmp_path / "static"
    folder.mkdir()
    (folder / "x.css").write_text("a {}")
    app.static_folder = str(folder)
    app.extensions["muster_static_hashes"].folder = str(folder)
    with app.test_request_context("/"):
        first = template_url_for("static", filename="x.css")
        assert first == url_for("static", filename="x.css")
        (folder / "x.css").write_text("a { color: red }")
        second = template_url_for("static", filename="x.css")
        assert second == url_for("static", filename="x.css")
        assert second != first
