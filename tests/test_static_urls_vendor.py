"""A versioned vendor file's URL in a template carries no content hash, so building it looks
none up (no stat of the file on every page): the same URL as Flask's url_for."""

from __future__ import annotations

from typing import Any

from flask import Flask, url_for

import scheduler.template_globals as template_globals
from scheduler.template_globals import template_url_for


def test_vendor_urls_look_up_no_hash_and_own_files_do(app: Flask, monkeypatch: Any) -> None:
    asked: list[str] = []
    real = template_globals.content_hash

    def counting(flask_app: Flask, filename: str) -> str | None:
        asked.append(filename)
        return real(flask_app, filename)

    monkeypatch.setattr(template_globals, "content_hash", counting)
    vendor = "vendor/htmx-2.0.11/htmx.min.js"
    own = "css/muster.css"
    with app.test_request_context("/"):
        for _ in range(2):
            assert template_url_for("static", filename=vendor) == url_for("static", filename=vendor)
            assert template_url_for("static", filename=own) == url_for("static", filename=own)
    assert asked == [own, own]  # the app's own file is still asked on every call
