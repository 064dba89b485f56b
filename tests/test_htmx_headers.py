"""`scheduler/htmx.py` is the only module that reads or writes HX-* and Vary headers."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from scheduler.htmx import fragment, retarget, varies

SCHEDULER = Path(__file__).resolve().parent.parent / "scheduler"


def test_only_htmx_py_touches_htmx_headers() -> None:
    offenders = [
        str(path.relative_to(SCHEDULER))
        for path in sorted(SCHEDULER.rglob("*.py"))
        if path.name != "htmx.py"
        and any(word in path.read_text(encoding="utf-8") for word in ('"HX-', '"Vary"'))
    ]
    assert offenders == []


def test_a_fragment_varies_and_can_be_retargeted(app: Flask) -> None:
    with app.test_request_context():
        response = retarget(
            fragment("volunteer/_availability_error.html", status=400, message="x"), "#e"
        )
    assert response.status_code == 400
    assert response.headers.get_all("Vary") == ["HX-Request"]
    assert response.headers["HX-Retarget"] == "#e"
    assert response.headers["HX-Reswap"] == "outerHTML"
    with app.test_request_context():
        assert varies(app.make_response("ok")).headers["Vary"] == "HX-Request"
