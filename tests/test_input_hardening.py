"""Small holes found while trying Muster as its users would (issue 9, item 9): a redirect
after the language switch that leaves the site, ids in forms and query strings that crash a
query instead of being refused, and a development secret key anyone on the machine can read."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from scheduler.config import _dev_secret_key
from scheduler.extensions import db
from scheduler.models import Notification, User
from tests.fixtures.auth import login
from tests.test_editing import D, EditWorld, hand_rows, role
from tests.test_editing import world as world

HUGE = str(2**40)


@pytest.mark.parametrize(
    "target",
    ["/\t/evil.example", "/\n/evil.example", "//evil.example", "/\\evil.example", "https://e.x"],
)
def test_language_switch_never_redirects_off_site(client: FlaskClient, target: str) -> None:
    response = client.post("/language", data={"lang": "en", "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_language_switch_keeps_a_local_next(client: FlaskClient) -> None:
    response = client.post("/language", data={"lang": "en", "next": "/privacy?x=1"})
    assert response.headers["Location"] == "/privacy?x=1"


@pytest.mark.parametrize("period", ["²", "٣", HUGE, "-1", "0"])
def test_availability_period_that_is_no_id_shows_the_default(
    client: FlaskClient, make_volunteer: Callable[..., User], period: str
) -> None:
    login(client, make_volunteer())
    assert client.get(f"/me/availability?period={period}").status_code == 200


@pytest.mark.parametrize("value", ["²", HUGE, "-3", "1e3"])
def test_inbox_read_with_a_bad_id_is_refused_and_changes_nothing(
    client: FlaskClient, make_volunteer: Callable[..., User], value: str
) -> None:
    user = make_volunteer()
    db.session.add(Notification(user_id=user.id, kind="shift_new", payload={}))
    db.session.commit()
    login(client, user)
    assert client.post("/me/inbox/read", data={"notification": value}).status_code == 400
    db.session.expire_all()
    assert db.session.scalar(select(Notification.read_at)) is None
    # A real id still works.
    note = db.session.scalar(select(Notification.id))
    assert client.post("/me/inbox/read", data={"notification": str(note)}).status_code == 303


@pytest.mark.parametrize("value", ["²", HUGE])
def test_hand_edit_ids_out_of_range_are_field_errors(
    world: EditWorld,
    client: FlaskClient,
    coordinator: User,
    value: str,
) -> None:
    login(client, coordinator)
    post = (
        f"/coordinator/periods/{world.period.id}/roster/posts/{world.south.id}/"
        f"{D[0].isoformat()}/day/{role('registrar').id}/assign"
    )
    response = client.post(post, data={"volunteer_id": value})
    assert response.status_code == 422
    assert "Choose a volunteer." in response.get_data(as_text=True)
    db.session.expire_all()
    assert hand_rows(world) == 0


def test_development_secret_key_is_private_to_its_owner(tmp_path: Path) -> None:
    key = _dev_secret_key(tmp_path)
    path = tmp_path / "secret_key"
    assert len(key) == 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _dev_secret_key(tmp_path) == key  # kept across restarts


def test_a_world_readable_secret_key_is_locked_down(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    path.write_text("k" * 64)
    os.chmod(path, 0o644)
    assert _dev_secret_key(tmp_path) == "k" * 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
