"""Asking for a reset code answers the same for a number with an account and one without, even
when the gateway fails: the text goes out aside from the request (codes._send_aside), so
neither a "could not be sent" nor the gateway's time tells which numbers have accounts. The
gateway here is a real HTTP server on 127.0.0.1 that answers 500 to everything."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask import Flask
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import User
from scheduler.models.codes import OneTimeCode


class _Failing(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(500)
        self.end_headers()
        self.wfile.write(b"down")

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def failing_gateway(app: Flask) -> Iterator[None]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config.update(
        NOTIFY_SENDER="webhook",
        NOTIFY_WEBHOOK_URL=f"http://127.0.0.1:{server.server_port}/sms",
        NOTIFY_WEBHOOK_SECRET="test-secret",
    )
    yield
    server.shutdown()
    server.server_close()


def _answer(app: Flask, phone: str) -> tuple[int, str]:
    client = app.test_client()
    posted = client.post("/password/forgot", data={"phone": phone})
    page = client.get(posted.headers["Location"]) if posted.status_code == 302 else posted
    # The page names the number asked about (masked, and in the form): compare the rest.
    body = re.sub(r"1\d\d\*{4}\d{4}|1391234000\d", "NUMBER", page.get_data(as_text=True))
    body = re.sub(r"(csrf_token|X-CSRFToken)[^>]*", "", body)
    return posted.status_code, body


def test_a_failing_gateway_does_not_tell_accounts_apart(
    app: Flask, failing_gateway: None, make_volunteer: Callable[..., User]
) -> None:
    make_volunteer(phone="13912340001")
    known = _answer(app, "13912340001")
    unknown = _answer(app, "13912340002")
    assert known[0] == unknown[0] == 302
    assert known[1] == unknown[1]
    assert "could not be sent" not in known[1]
    assert "未能发送" not in known[1]
    # The failed code is burnt, never left usable.
    assert all(row.used_at is not None for row in db.session.scalars(select(OneTimeCode)))
