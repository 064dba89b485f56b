"""The volunteer's inbox: notifications newest first, rendered in the reader's language from
kind and payload (unknown kinds get a generic line), marking read, and the unread badge."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Notification, Role, Site, User
from scheduler.services.notifications import notify
from tests.fixtures.auth import login

MON = date(2026, 12, 7)


def client_in(app: Flask, user: User, language: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    login(client, user)
    return client


@pytest.fixture
def inbox_world(
    app: Flask, make_site: Callable[..., Site], make_volunteer: Callable[..., User]
) -> tuple[User, User, Site]:
    site = make_site(name="如皋港出口")
    me, other = make_volunteer(name="收件人"), make_volunteer(name="别人")
    checker = db.session.scalar(select(Role).where(Role.code == "code_checker"))
    base = datetime(2026, 12, 1, 8, tzinfo=UTC)
    rows = [
        notify(
            me.id,
            "shift_new",
            site_id=site.id,
            day=MON.isoformat(),
            shift="night",
            role_id=checker.id,
        ),
        notify(
            me.id,
            "shift_removed",
            site_id=site.id,
            day="2026-12-08",
            shift="day",
            role_id=checker.id,
        ),
        notify(
            me.id,
            "volunteer_cancelled",
            volunteer_name="<i>队友</i>",
            site_id=site.id,
            site_name=site.name,
            day="2026-12-09",
            shift="evening",
            role_id=checker.id,
            reason="<script>alert(1)</script>",
        ),
        notify(me.id, "something_new_we_do_not_know", foo="bar"),
        notify(
            other.id,
            "shift_new",
            site_id=site.id,
            day=MON.isoformat(),
            shift="day",
            role_id=checker.id,
        ),
    ]
    for minutes, row in enumerate(rows):
        row.created_at = base + timedelta(minutes=minutes)
    db.session.commit()
    return me, other, site


def test_inbox_in_english_newest_first_and_escaped(
    app: Flask, inbox_world: tuple[User, User, Site]
) -> None:
    me, _other, _site = inbox_world
    html = client_in(app, me, "en").get("/me/inbox").get_data(as_text=True)
    lines = [
        "You have a new message in Muster.",
        "&lt;i&gt;队友&lt;/i&gt; cancelled their shift: Wed, Dec 9 Evening 如皋港出口 Code checker."
        " Reason: &lt;script&gt;alert(1)&lt;/script&gt;",
        "Shift removed: Tue, Dec 8 Day 如皋港出口 Code checker",
        "New shift: Mon, Dec 7 Night 如皋港出口 Code checker",
    ]
    positions = [html.find(line) for line in lines]
    assert all(p >= 0 for p in positions), positions
    assert positions == sorted(positions)  # newest first
    assert "<script>alert(1)" not in html
    assert "<i>队友" not in html
    assert html.count("Mark read") == 4
    assert "Mark all 4 messages read" in html


def test_inbox_in_chinese(app: Flask, inbox_world: tuple[User, User, Site]) -> None:
    me, _other, _site = inbox_world
    response = client_in(app, me, "zh-CN").get("/me/inbox")
    html = response.get_data(as_text=True)
    assert '<html lang="zh-Hans">' in html
    assert "12月7日周一" in html
    assert "查验双码" in html  # the role's Chinese name
    assert "Code checker" not in html
    assert "Dec 7" not in html


def test_mark_one_and_all_read_only_touch_own_messages(
    app: Flask, inbox_world: tuple[User, User, Site]
) -> None:
    me, other, _site = inbox_world
    client = client_in(app, me, "en")
    assert '<span class="vol-badge inbox-badge"' in client.get("/me").get_data(as_text=True)
    mine = db.session.scalars(
        select(Notification.id).where(Notification.user_id == me.id).order_by(Notification.id)
    ).all()
    theirs = db.session.scalar(select(Notification.id).where(Notification.user_id == other.id))
    # Someone else's id changes nothing.
    assert client.post("/me/inbox/read", data={"notification": theirs}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Notification, theirs).read_at is None
    assert client.post("/me/inbox/read", data={"notification": "x"}).status_code == 400
    # One.
    response = client.post("/me/inbox/read", data={"notification": mine[0]})
    assert response.status_code == 303
    db.session.expire_all()
    assert [db.session.get(Notification, i).read_at is not None for i in mine] == [
        True,
        False,
        False,
        False,
    ]
    assert ">3</span>" in client.get("/me").get_data(as_text=True)
    # All, by htmx: the list comes back.
    fragment = client.post("/me/inbox/read", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert 'id="inbox-list"' in fragment.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True)
    db.session.expire_all()
    assert all(db.session.get(Notification, i).read_at is not None for i in mine)
    assert db.session.get(Notification, theirs).read_at is None
    assert "inbox-badge" not in client.get("/me").get_data(as_text=True)


def test_empty_inbox(app: Flask, make_volunteer: Callable[..., User]) -> None:
    html = client_in(app, make_volunteer(), "en").get("/me/inbox").get_data(as_text=True)
    assert "No messages yet." in html
    assert "Mark all" not in html


@pytest.mark.parametrize(("method", "path"), [("GET", "/me/inbox"), ("POST", "/me/inbox/read")])
def test_access_per_role(
    app: Flask, make_user: Callable[..., User], method: str, path: str
) -> None:
    anonymous = app.test_client().open(path, method=method)
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login")
    for role in ("coordinator", "admin"):
        response = client_in(app, make_user(role), "en").open(path, method=method)
        assert (response.status_code, response.headers.get("Location")) == (302, "/coordinator/")
    response = client_in(app, make_user("site_lead"), "en").open(path, method=method)
    assert (response.status_code, response.headers.get("Location")) == (302, "/me")
    for user in (make_user("volunteer"), make_user("site_lead", weekly_cap=3)):
        response = client_in(app, user, "en").open(path, method=method)
        assert response.status_code == (200 if method == "GET" else 303)
