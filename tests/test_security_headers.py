"""Every response carries the security headers once, and a view that set one keeps its own."""

from __future__ import annotations

from flask import Flask, make_response

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def test_every_kind_of_response(app: Flask) -> None:
    client = app.test_client()
    for path in ("/register", "/login", "/me", "/static/css/muster.css", "/no-such-page"):
        response = client.get(path)
        response.close()
        for name, value in EXPECTED.items():
            assert response.headers.getlist(name) == [value], (path, name)


def test_a_view_that_sets_one_keeps_it(app: Flask) -> None:
    @app.get("/framed-test")
    def framed() -> object:
        response = make_response("ok")
        response.headers["x-frame-options"] = "SAMEORIGIN"
        return response

    response = app.test_client().get("/framed-test")
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers["Referrer-Policy"] == "same-origin"
