"""A redirect's body is empty: browsers and htmx follow its Location and never show the body,
and an empty one is a single write to the socket under gunicorn (headers and body are sent
apart). The status and Location are flask.redirect's."""

from __future__ import annotations

from flask import Flask, redirect
from flask.testing import FlaskClient


def test_redirect_has_location_and_no_body(app: Flask) -> None:
    with app.test_request_context():
        response = redirect("/me?x=1&y=<2>", 303)
    assert response.status_code == 303
    assert response.headers["Location"] == "/me?x=1&y=<2>"
    assert response.get_data() == b""


def test_login_required_redirect_is_empty(client: FlaskClient) -> None:
    response = client.get("/me")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert response.get_data() == b""
    assert response.headers["Content-Length"] == "0"
